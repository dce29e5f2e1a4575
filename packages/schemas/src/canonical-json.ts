// Canonical JSON: object keys sorted (by UTF-16 code units, like Array.prototype.sort),
// recursively, no whitespace. Two schemas that differ only in key order or formatting get the
// same text, which is what the registration script compares to recognise a re-registration.

/** JSON.stringify with object keys sorted at every level; `undefined` members are dropped. */
export function canonicalJson(value: unknown): string {
  const text = write(value);
  if (text === undefined) throw new TypeError("value has no JSON representation");
  return text;
}

function write(value: unknown): string | undefined {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const json = (value as { toJSON?: unknown }).toJSON;
  if (typeof json === "function") return write(json.call(value));
  if (Array.isArray(value)) {
    // JSON.stringify writes null for array members it cannot represent.
    return `[${value.map((item) => write(item) ?? "null").join(",")}]`;
  }
  const members: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const text = write((value as Record<string, unknown>)[key]);
    if (text !== undefined) members.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${members.join(",")}}`;
}

/** Equal as JSON: same canonical text. */
export function sameJson(a: unknown, b: unknown): boolean {
  return a === b || (a !== undefined && b !== undefined && canonicalJson(a) === canonicalJson(b));
}
