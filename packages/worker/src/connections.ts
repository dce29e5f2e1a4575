// The worker's two Redis connections and why each may resend (see connectRedis's roles).
import { connectRedis, duplicateConnection } from "@eventpipe/queue";
import type { Redis } from "ioredis";
import type { WorkerConfig } from "./config.js";

/**
 * The worker's command connection. A link that stops answering (a half-open TCP connection, a
 * black hole) is dropped after a whole lease of silence, which the lease would not survive
 * anyway, and the commands it carried are sent again on a new one: every worker script is safe
 * to run twice.
 */
export function connectWorkerRedis(config: WorkerConfig): Redis {
  return connectRedis(config.redis, "commands", { socketTimeout: config.leaseMs });
}

/** The connection for blocking waits, a copy of the command connection's settings. */
export function connectBlocking(redis: Redis, config: WorkerConfig): Redis {
  // A blocking wait answers within its timeout; silence well past it means a dead link.
  return duplicateConnection(redis, {
    connectionName: "eventpipe-blocking",
    socketTimeout: config.blockTimeoutMs + config.leaseMs,
  });
}
