// The worker process: reads the environment, connects, consumes with the default handler, and
// on SIGTERM/SIGINT stops taking events and finishes in-flight ones within SHUTDOWN_GRACE_MS.
import { describeRedis, stopOnSignals } from "@eventpipe/queue";
import { readWorkerConfig } from "./config.js";
import { connectWorkerRedis } from "./connections.js";
import { createLogger } from "./logger.js";
import { createWorkerMetrics } from "./metrics.js";
import { createPipelineWorkers } from "./pipeline-worker.js";

async function main(): Promise<void> {
  let config: ReturnType<typeof readWorkerConfig>;
  try {
    config = readWorkerConfig();
  } catch (error) {
    process.stderr.write(`worker: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const logger = createLogger(config.logLevel, "worker");
  const redis = connectWorkerRedis(config);
  redis.on("error", (error) => logger.debug({ err: error.message }, "redis connection error"));
  const metrics =
    config.metricsListen === undefined
      ? undefined
      : createWorkerMetrics(config.pipeline, config.metricTypes);
  const worker = await createPipelineWorkers({
    redis,
    config,
    logger,
    observerFor: metrics?.observerFor,
  });
  metrics?.watch(redis, () => worker.inFlightByQueue());
  const metricsServer =
    config.metricsListen === undefined ? undefined : await metrics?.serve(config.metricsListen);
  await worker.start();
  logger.info(
    {
      redis: describeRedis(config.redis),
      pipeline: config.pipeline.source,
      routes: worker.workers.length,
      metrics: metricsServer?.port,
    },
    "worker running",
  );

  stopOnSignals(
    async (signal) => {
      logger.info({ signal, inFlight: worker.inFlight }, "shutting down");
      try {
        await worker.close();
        await metricsServer?.close();
      } finally {
        await redis.quit().catch(() => redis.disconnect());
      }
    },
    (error) => logger.error({ err: error }, "shutdown failed"),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`worker: failed to start: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
