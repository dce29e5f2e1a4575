// Lua scripts as ioredis commands, for every package that keeps scripts in src/scripts/: each
// file is read once per process and defined once per connection with `defineCommand`
// (EVALSHA, falling back to EVAL after a Redis restart flushed the script cache). A line
// `-- @include other.lua` is replaced by that file of the same folder, so scripts can share
// Lua functions (Redis has no module system for EVAL scripts).
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";

export interface ScriptFile {
  /**
   * The file name in the scripts folder, `<name>-<numKeys>.lua` by convention, or
   * `<name>-<k>n.lua` for k keys per queue of a variable number of queues.
   */
  readonly file: string;
  /** undefined: a variable number, passed as the command's first argument. */
  readonly keys: number | undefined;
}

const INCLUDE = /^-- @include ([\w-]+\.lua)$/gm;

const sources = new Map<string, string>();
/** A script's text with its includes, read once per process. */
export function scriptSource(url: URL): string {
  let text = sources.get(url.href);
  if (text === undefined) {
    text = readFileSync(url, "utf8").replace(INCLUDE, (_line, file: string) =>
      readFileSync(new URL(file, url), "utf8"),
    );
    sources.set(url.href, text);
  }
  return text;
}

/** Defines each script as a command named by its key, unless this connection has them. */
export function defineScripts(
  redis: Redis,
  scripts: Readonly<Record<string, ScriptFile>>,
  folder: URL,
): void {
  const defined = redis as unknown as Record<string, unknown>;
  for (const [name, script] of Object.entries(scripts)) {
    if (defined[name] !== undefined) continue;
    const lua = scriptSource(new URL(script.file, folder));
    redis.defineCommand(
      name,
      script.keys === undefined ? { lua } : { numberOfKeys: script.keys, lua },
    );
  }
}
