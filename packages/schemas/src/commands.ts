// Typed access to the registry's Lua script (defineScripts: loaded once per connection).
import { defineScripts } from "@eventpipe/queue";
import type { Redis } from "ioredis";
import { ScriptStatus } from "./errors.js";
import type { SchemaKeys } from "./keys.js";

const SCRIPTS = {
  epSchemaRegister: { file: "register-5.lua", keys: 5 },
} as const;

type ScriptName = keyof typeof SCRIPTS;
type ScriptCommands = { [K in ScriptName]: (...args: (string | number)[]) => Promise<unknown> };

function scripts(redis: Redis): ScriptCommands {
  defineScripts(redis, SCRIPTS, new URL("./scripts/", import.meta.url));
  return redis as unknown as ScriptCommands;
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
