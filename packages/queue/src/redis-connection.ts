// Redis connection settings shared by every service. REDIS_URL wins; the original REDIS_HOST
// and REDIS_PORT keep working. Passwords are never logged: describeRedis() masks them.
import { readFileSync } from "node:fs";
import { Redis, type RedisOptions } from "ioredis";
import { ConfigError, type Env, readInteger, readOptionalString, readString } from "./env.js";

export const REDIS_DEFAULTS = Object.freeze({ host: "localhost", port: 6379 });

export interface RedisConnection {
  /** redis:// or rediss:// (TLS) URL, credentials included. */
  readonly url: string;
  /** PEM CA to trust for rediss:// (REDIS_TLS_CA_FILE); default: the system's. */
  readonly tlsCaFile?: string;
}

export function readRedisConnection(env: Env): RedisConnection {
  const tlsCaFile = readOptionalString(env, "REDIS_TLS_CA_FILE");
  const withCa = (connection: RedisConnection): RedisConnection =>
    tlsCaFile === undefined ? connection : { ...connection, tlsCaFile };
  const url = readOptionalString(env, "REDIS_URL");
  if (url !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError("REDIS_URL", maskUrl(url), "a redis:// or rediss:// URL");
    }
    if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
      throw new ConfigError("REDIS_URL", maskUrl(url), "a redis:// or rediss:// URL");
    }
    return withCa({ url });
  }
  const host = readString(env, "REDIS_HOST", REDIS_DEFAULTS.host);
  const port = readInteger(env, "REDIS_PORT", REDIS_DEFAULTS.port, { min: 1, max: 65535 });
  const password = readOptionalString(env, "REDIS_PASSWORD");
  const auth = password === undefined ? "" : `:${encodeURIComponent(password)}@`;
  return withCa({ url: `redis://${auth}${host}:${port}` });
}

function maskUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, "//***@");
}

/** The URL with any credentials replaced by ***, for logs. */
export function describeRedis(connection: RedisConnection): string {
  return maskUrl(connection.url);
}

/**
 * Whether ioredis may resend a command whose reply a dropped connection lost is decided per
 * role, because a resent command runs a second time on Redis:
 * - "writer" (collector, CLIs): fails fast while Redis is unreachable (no offline queue, no
 *   resends), so the collector answers UNAVAILABLE instead of buffering without bound. The
 *   producer resends the chunk instead, and deduplication drops what the first run stored;
 *   an operator reruns a CLI command.
 * - "blocking": the worker's blocking wait (BLMOVE of a list onto itself, which moves
 *   nothing); resending it is harmless, so it waits across reconnects.
 * - "commands": the worker's scripts and reads. Every worker script is safe to run twice
 *   (each says why in its header), so ioredis resends them after a reconnect and callers see
 *   one answer; they wait for Redis, bounded by the worker's in-flight cap. The worker adds a
 *   socket timeout (connectWorkerRedis) so that a link that went silent is made anew.
 */
export type RedisRole = "writer" | "blocking" | "commands";

export function connectRedis(
  connection: RedisConnection,
  role: RedisRole,
  extra: RedisOptions = {},
): Redis {
  const common: RedisOptions = {
    connectionName: `eventpipe-${role}`,
    // Reconnect forever, backing off to 2 s: workers come back by themselves after an outage.
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000),
  };
  const byRole: Record<RedisRole, RedisOptions> = {
    writer: {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: 10_000,
      // A link that stops answering (half-open, black hole) is dropped and made anew.
      socketTimeout: 10_000,
    },
    blocking: { maxRetriesPerRequest: null, autoResendUnfulfilledCommands: true },
    commands: { maxRetriesPerRequest: null, autoResendUnfulfilledCommands: true },
  };
  const tls: RedisOptions =
    connection.tlsCaFile === undefined ? {} : { tls: { ca: readFileSync(connection.tlsCaFile) } };
  return new Redis(connection.url, { ...common, ...byRole[role], ...tls, ...extra });
}
