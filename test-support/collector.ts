// An in-process collector on 127.0.0.1 with a free port, for tests.

import type { Redis } from "ioredis";
import {
  type Collector,
  type CollectorConfig,
  createCollector,
  createLogger,
  readCollectorConfig,
} from "../packages/collector/src/index.js";
import { connectRedis } from "../packages/queue/src/index.js";

export interface TestCollector {
  /** gRPC host:port. */
  readonly address: string;
  /** http://127.0.0.1:<port> of the HTTP door. */
  readonly httpUrl: string;
  readonly collector: Collector;
  readonly redis: Redis;
  readonly config: CollectorConfig;
  close(): Promise<void>;
}

export async function startTestCollector(
  redisUrl: string,
  queueName: string,
  env: Record<string, string> = {},
): Promise<TestCollector> {
  const config = readCollectorConfig({
    REDIS_URL: redisUrl,
    QUEUE_NAME: queueName,
    COLLECTOR_LISTEN: "127.0.0.1:0",
    COLLECTOR_HTTP_LISTEN: "127.0.0.1:0",
    HEALTH_CHECK_INTERVAL_MS: "100",
    SHUTDOWN_GRACE_MS: "2000",
    ...env,
  });
  const logger = createLogger("silent", "collector");
  const redis = connectRedis(config.redis, "writer");
  redis.on("error", () => {});
  const collector = createCollector({ redis, config, logger });
  const port = await collector.listen();
  return {
    address: `127.0.0.1:${port}`,
    httpUrl: `http://127.0.0.1:${collector.httpPort}`,
    collector,
    redis,
    config,
    async close() {
      await collector.close(500);
      redis.disconnect();
    },
  };
}

let counter = 0;
/** A queue name no other test uses, so tests can share one redis-server. */
export function uniqueQueueName(label: string): string {
  return `test_${label}_${process.pid}_${Date.now().toString(36)}_${counter++}`;
}
