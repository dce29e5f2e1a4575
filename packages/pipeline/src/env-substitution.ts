// `${NAME}` in a string takes env[NAME], so secrets (signingSecret, Authorization) stay out of
// the file; `$${` writes a literal `${`.

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\{/g;

export type Substitution =
  | { readonly value: string; readonly problems?: undefined }
  | { readonly value?: undefined; readonly problems: readonly string[] };

export function substituteEnv(text: string, env: NodeJS.ProcessEnv): Substitution {
  // Most strings hold no reference; skip the regex walk for them.
  if (!text.includes("${")) return { value: text };
  const problems: string[] = [];
  const value = text.replace(REFERENCE, (match, name: string | undefined) => {
    if (match === "$${") return "${";
    if (name === undefined) {
      problems.push(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the message is about a literal ${
        "`${` must start a variable reference like ${NAME} (letters, digits, _); write $${ for a literal ${",
      );
      return match;
    }
    const found = env[name];
    if (found === undefined) problems.push(`\${${name}} is not set`);
    return found ?? match;
  });
  return problems.length > 0 ? { problems } : { value };
}
