// Redis connection settings shared by every service. REDIS_URL wins; the original REDIS_HOST
// and REDIS_PORT keep working. Passwords are never logged: describeRedis() masks them.
// REDIS_CLUSTER_NODES=host:port,... connects to a Redis Cluster instead, with the credentials
// and TLS of REDIS_URL (or REDIS_PASSWORD): see connectRedis.
import { readFileSync } from "node:fs";
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";
import {
  ConfigError,
  type Env,
  readInteger,
  readList,
  readOptionalString,
  readString,
} from "./env.js";

export const REDIS_DEFAULTS = Object.freeze({ host: "localhost", port: 6379 });

export interface RedisConnection {
  /** redis:// or rediss:// (TLS) URL, credentials included. */
  readonly url: string;
  /** PEM CA to trust for rediss:// (REDIS_TLS_CA_FILE); default: the system's. */
  readonly tlsCaFile?: string;
  /** REDIS_CLUSTER_NODES: seed nodes of a Redis Cluster; the URL's host is then unused. */
  readonly clusterNodes?: readonly { readonly host: string; readonly port: number }[];
}

function readClusterNodes(env: Env): RedisConnection["clusterNodes"] {
  const seeds = readList(env, "REDIS_CLUSTER_NODES");
  if (seeds.length === 0) return undefined;
  return seeds.map((seed) => {
    const match = /^(.+):(\d{1,5})$/.exec(seed);
    const port = Number(match?.[2]);
    if (match === null || port < 1 || port > 65535) {
      throw new ConfigError("REDIS_CLUSTER_NODES", seeds.join(","), "host:port,host:port,...");
    }
    return { host: match[1]!.replace(/^\[(.*)\]$/, "$1"), port };
  });
}

export function readRedisConnection(env: Env): RedisConnection {
  const tlsCaFile = readOptionalString(env, "REDIS_TLS_CA_FILE");
  const clusterNodes = readClusterNodes(env);
  const withCa = (connection: RedisConnection): RedisConnection => ({
    ...connection,
    ...(tlsCaFile === undefined ? {} : { tlsCaFile }),
    ...(clusterNodes === undefined ? {} : { clusterNodes }),
  });
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
  if (connection.clusterNodes !== undefined) {
    const seeds = connection.clusterNodes.map(({ host, port }) => `${host}:${port}`).join(",");
    return `cluster ${seeds} (${maskUrl(connection.url)})`;
  }
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
  const options: RedisOptions = { ...common, ...byRole[role], ...tls, ...extra };
  if (connection.clusterNodes !== undefined) {
    return connectCluster(connection.url, connection.clusterNodes, options, role);
  }
  return new Redis(connection.url, options);
}

/**
 * A Redis Cluster client with the role's settings on every node's connection. ioredis runs each
 * script on the node that owns its keys' slot (every script's keys share one hash tag), loading
 * it there on first use, and follows MOVED and ASK after a failover or resharding. Each
 * connectRedis call makes its own client, so a worker's blocking wait holds its own link to
 * each node and never delays another consumer's commands.
 *
 * Typed as Redis: a Cluster answers the same commands, and the few places that need the
 * difference (duplicate) go through duplicateConnection.
 */
function connectCluster(
  url: string,
  nodes: NonNullable<RedisConnection["clusterNodes"]>,
  options: RedisOptions,
  role: RedisRole,
): Redis {
  const parsed = new URL(url);
  // The cluster reconnects its nodes by its own strategy (clusterRetryStrategy).
  const { enableOfflineQueue, retryStrategy: _perNode, ...perNode } = options;
  const clusterOptions: ClusterOptions = {
    enableOfflineQueue: enableOfflineQueue ?? true,
    scaleReads: "master",
    // A primary that died is replaced by its replica within the cluster's node timeout:
    // commands meanwhile retry after these delays (up to maxRedirections times). MOVED, ASK,
    // TRYAGAIN and CLUSTERDOWN mean the command did not run, so a retry never runs it twice.
    // A command whose link closed under it may have run: only the roles that may resend
    // retry it (the writer fails instead, as on one node, and the producer resends).
    retryDelayOnFailover: role === "writer" ? 0 : 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 200,
    maxRedirections: 32,
    // ioredis learns a new topology from a MOVED reply to a plain command, but not from one
    // inside a pipeline that cannot be retried (the collector's write with WAIT), nor from a
    // link that closed when the writer does not retry: read it anew every 2 s as well.
    slotsRefreshInterval: 2000,
    clusterRetryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000),
    redisOptions: {
      ...perNode,
      username: decodeURIComponent(parsed.username) || undefined,
      password: decodeURIComponent(parsed.password) || undefined,
      ...(parsed.protocol === "rediss:" && perNode.tls === undefined ? { tls: {} } : {}),
    },
  };
  return openLinksEagerly(
    new Cluster(
      nodes.map(({ host, port }) => ({ host, port })),
      clusterOptions,
    ),
  );
}

/**
 * ioredis opens a cluster node's link on its first command, and a burst of commands into a
 * link still opening fails ("Connection is closed."): open each link as soon as the node is
 * known, on every cluster client, copies included.
 */
function openLinksEagerly(cluster: Cluster): Redis {
  cluster.on("+node", (node: Redis) => {
    if (node.status === "wait") node.connect().catch(() => undefined);
  });
  return cluster as unknown as Redis;
}

/** True for a client made with REDIS_CLUSTER_NODES. */
export function isClusterClient(redis: Redis): boolean {
  return (redis as unknown as { isCluster?: boolean }).isCluster === true;
}

/** A second client with the same settings and these overrides, for a single node or a cluster. */
export function duplicateConnection(redis: Redis, overrides: RedisOptions): Redis {
  if (!isClusterClient(redis)) return redis.duplicate(overrides);
  const cluster = redis as unknown as Cluster;
  const { enableOfflineQueue, ...perNode } = overrides;
  return openLinksEagerly(
    cluster.duplicate(undefined, {
      ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
      redisOptions: { ...cluster.options.redisOptions, ...perNode },
    }),
  );
}
