// Typed access to the registry's Lua script, loaded once per connection with ioredis
// `defineCommand` (EVALSHA, falling back to EVAL after a Redis restart flushed the cache).
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";
import { ScriptStatus } from "./errors.js";
import type { SchemaKeys } from "./keys.js";

const SCRIPTS = {
  epSchemaRegister: { file: "register-5.lua", keys: 5 },
} as const;

type ScriptName = keyof typeof SCRIPTS;
type ScriptCommands = { [K in ScriptName]: (...args: (string | number)[]) => Promise<unknown> };

const sources = new Map<ScriptName, string>();
function source(name: ScriptName): string {
  let text = sources.get(name);
  if (text === undefined) {
    text = readFileSync(new URL(`./scripts/${SCRIPTS[name].file}`, import.meta.url), "utf8");
    sources.set(name, text);
  }
  return text;
}

function scripts(redis: Redis): ScriptCommands {
  const commands = redis as unknown as Partial<ScriptCommands>;
  if (commands.epSchemaRegister === undefined) {
    for (const name of Object.keys(SCRIPTS) as ScriptName[]) {
      redis.defineCommand(name, { numberOfKeys: SCRIPTS[name].keys, lua: source(name) });
    }
  }
  return commands as ScriptCommands;
}

export interface RegisterReply {
  /** created: stored as `version`; unchanged: the latest version holds this text already;
   * latest-moved: the latest version is `version`, not the one the caller checked against. */
  readonly status: "created" | "unchanged" | "latest-moved";
  readonly version: number;
}

/** The registry's atomic writes, bound to one connection and one key prefix. */
export interface SchemaStore {
  readonly keys: SchemaKeys;
  register(type: string, canonical: string, expectedLatest: number): Promise<RegisterReply>;
}

export function createSchemaStore(redis: Redis, keys: SchemaKeys): SchemaStore {
  const run = scripts(redis);
  return {
    keys,
    async register(type, canonical, expectedLatest) {
      const [status, version] = (await run.epSchemaRegister(
        keys.latest,
        keys.versions(type),
        keys.registeredAt(type),
        keys.revision,
        keys.changes,
        type,
        canonical,
        expectedLatest,
      )) as [number, number];
      if (status === ScriptStatus.created) return { status: "created", version };
      if (status === ScriptStatus.unchanged) return { status: "unchanged", version };
      return { status: "latest-moved", version };
    },
  };
}
