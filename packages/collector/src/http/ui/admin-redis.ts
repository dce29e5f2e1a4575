// The dashboard's own Redis connection, opened on the first API request and closed with the
// HTTP door. Its own, not the ingest connection: a dead-letter scan reads pages of up to 1,000
// entries of up to MAX_PAYLOAD_BYTES each, and on the ingest connection every chunk stored
// meanwhile would wait behind those replies. A collector nobody opens the dashboard on holds
// no extra connection.
//
// The "writer" role: commands fail fast while Redis is away (the API answers 503) and are
// never resent behind the operator's back; replay and purge match exact entries anyway.
import { once } from "node:events";
import { connectRedis, type RedisConnection } from "@eventpipe/queue";
import type { FastifyBaseLogger } from "fastify";
import type { Redis } from "ioredis";

/** How long the first request waits for the new connection before Redis counts as away. */
const READY_WAIT_MS = 2000;

export interface AdminRedis {
  /** The connection, ready unless Redis did not answer in time (its commands then fail). */
  get(): Promise<Redis>;
  /** Idempotent. */
  close(): void;
}

export function createAdminRedis(
  connection: RedisConnection,
  logger: FastifyBaseLogger,
): AdminRedis {
  let redis: Redis | undefined;
  let closed = false;
  return {
    async get() {
      if (closed) throw new Error("the dashboard's Redis connection is closed");
      if (redis === undefined) {
        redis = connectRedis(connection, "writer", { connectionName: "eventpipe-dashboard" });
        redis.on("error", (error: Error) =>
          logger.debug({ err: error.message }, "dashboard redis connection error"),
        );
      }
      if (redis.status !== "ready") {
        // Not ready in time: the command fails fast and the API answers 503.
        await once(redis, "ready", { signal: AbortSignal.timeout(READY_WAIT_MS) }).catch(() => {});
      }
      return redis;
    },
    close() {
      closed = true;
      redis?.disconnect();
      redis = undefined;
    },
  };
}
