// The benchmark's private redis-server (see @eventpipe/testkit) with a client for the
// benchmark's own reads.
import { redisServerInstalled, startRedisServer } from "@eventpipe/testkit";
import { Redis } from "ioredis";

export interface BenchRedis {
  readonly url: string;
  readonly port: number;
  readonly client: Redis;
  close(): Promise<void>;
}

export async function startBenchRedis(): Promise<BenchRedis> {
  if (!redisServerInstalled()) {
    throw new Error("redis-server is not on PATH (Debian/Ubuntu: apt-get install redis-server)");
  }
  const server = await startRedisServer();
  const client = new Redis(server.port, "127.0.0.1", { maxRetriesPerRequest: null });
  client.on("error", () => {});
  return {
    url: server.url,
    port: server.port,
    client,
    async close() {
      client.disconnect();
      await server.destroy();
    },
  };
}
