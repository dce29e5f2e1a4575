// The queue's Lua scripts as typed ioredis commands. Each script is loaded once per connection
// with ioredis `defineCommand` (EVALSHA, falling back to EVAL after a Redis restart flushed the
// script cache); the Buffer variants keep envelopes as raw bytes.
import type { Redis } from "ioredis";
import { defineScripts, scriptSource } from "./lua-scripts.js";

const SCRIPTS = {
  epEnqueue: { file: "enqueue-6n.lua", keys: undefined },
  epClaim: { file: "claim-4.lua", keys: 4 },
  epAck: { file: "ack-4.lua", keys: 4 },
  epComplete: { file: "complete-7.lua", keys: 7 },
  epHeartbeat: { file: "heartbeat-1.lua", keys: 1 },
  epRecover: { file: "recover-7.lua", keys: 7 },
  epReturn: { file: "return-3.lua", keys: 3 },
  epRetry: { file: "retry-3.lua", keys: 3 },
  epDeadLetter: { file: "dead-letter-3.lua", keys: 3 },
  epPromote: { file: "promote-3.lua", keys: 3 },
  epReplay: { file: "replay-4.lua", keys: 4 },
  epListenRenew: { file: "listen-renew-3.lua", keys: 3 },
  epQueueState: { file: "queue-state-4.lua", keys: 4 },
} as const;

export type ScriptArg = string | number | Buffer;
type ScriptName = keyof typeof SCRIPTS;
type ScriptCommands = {
  [K in ScriptName]: (...args: ScriptArg[]) => Promise<unknown>;
} & {
  [K in ScriptName as `${K}Buffer`]: (...args: ScriptArg[]) => Promise<unknown>;
};

const FOLDER = new URL("./scripts/", import.meta.url);

/** A script's text, for the rare call that must send it whole (EVAL) rather than by hash. */
export function scriptText(name: ScriptName): string {
  return scriptSource(new URL(SCRIPTS[name].file, FOLDER));
}

export function scripts(redis: Redis): ScriptCommands {
  defineScripts(redis, SCRIPTS, FOLDER);
  return redis as unknown as ScriptCommands;
}
