// In-process workers for tests, each with its own Redis connection.
import type { Redis } from "ioredis";
import {
  connectWorkerRedis,
  createLogger,
  createWorker,
  type EventHandler,
  readWorkerConfig,
  type Worker,
  type WorkerConfig,
} from "../packages/worker/src/index.js";

export interface TestWorker {
  readonly worker: Worker;
  readonly redis: Redis;
  readonly config: WorkerConfig;
  close(graceMs?: number): Promise<void>;
}

export async function startTestWorker(
  redisUrl: string,
  queueName: string,
  handler: EventHandler,
  env: Record<string, string> = {},
): Promise<TestWorker> {
  const config = readWorkerConfig({
    REDIS_URL: redisUrl,
    QUEUE_NAME: queueName,
    WORKER_BLOCK_TIMEOUT_MS: "200",
    ...env,
  });
  const redis = connectWorkerRedis(config);
  redis.on("error", () => {});
  const worker = createWorker({ redis, config, logger: createLogger("silent", "worker"), handler });
  await worker.start();
  return {
    worker,
    redis,
    config,
    async close(graceMs = 2000) {
      await worker.close(graceMs);
      redis.disconnect();
    },
  };
}
