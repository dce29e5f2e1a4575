// One-off questions to one redis-server by port, for the cluster starter, the cluster tests
// and the benchmark: a dead or paused node fails within a second instead of hanging.
import { Redis } from "ioredis";

/** Runs `query` on a short-lived connection of its own to the node on 127.0.0.1:`port`. */
export async function askNode<T>(port: number, query: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(port, "127.0.0.1", {
    lazyConnect: true,
    connectTimeout: 1000,
    commandTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on("error", () => {});
  try {
    await redis.connect();
    return await query(redis);
  } finally {
    redis.disconnect();
  }
}

/** The `field:value` lines of an INFO reply. */
export function infoFields(info: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of info.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0 && !line.startsWith("#")) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}
