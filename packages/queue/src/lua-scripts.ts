// Lua scripts as ioredis commands, for every package that keeps scripts in src/scripts/: each
// file is read once per process and defined once per connection with `defineCommand`
// (EVALSHA, falling back to EVAL after a Redis restart flushed the script cache).
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";

export interface ScriptFile {
  /** The file name in the scripts folder, `<name>-<numKeys>.lua` by convention. */
  readonly file: string;
  readonly keys: number;
}

const sources = new Map<string, string>();
function source(url: URL): string {
  let text = sources.get(url.href);
  if (text === undefined) {
    text = readFileSync(url, "utf8");
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
    redis.defineCommand(name, {
      numberOfKeys: script.keys,
      lua: source(new URL(script.file, folder)),
    });
  }
}
