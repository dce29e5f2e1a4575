// The collector process: reads the environment, connects, listens, and shuts down cleanly on
// SIGTERM/SIGINT (stop accepting, finish in-flight streams within SHUTDOWN_GRACE_MS, close Redis).
import { PipelineError } from "@eventpipe/pipeline";
import { connectRedis, describeRedis, stopOnSignals } from "@eventpipe/queue";
import { createCollector } from "./collector.js";
import { readCollectorConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { createCollectorMetrics } from "./metrics.js";

async function main(): Promise<void> {
  let config: ReturnType<typeof readCollectorConfig>;
  try {
    config = readCollectorConfig();
  } catch (error) {
    process.stderr.write(`collector: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const logger = createLogger(config.logLevel, "collector");
  const redis = connectRedis(config.redis, "writer");
  redis.on("error", (error) => logger.debug({ err: error.message }, "redis connection error"));
  const metrics = config.metricsListen === undefined ? undefined : createCollectorMetrics();
  const collector = createCollector({ redis, config, logger, metrics });
  await collector.listen();
  const metricsServer =
    config.metricsListen === undefined ? undefined : await metrics?.serve(config.metricsListen);
  logger.info(
    { redis: describeRedis(config.redis), queue: config.queueName, metrics: metricsServer?.port },
    "collector started",
  );

  stopOnSignals(
    async (signal) => {
      logger.info({ signal, activeStreams: collector.activeStreams }, "shutting down");
      try {
        await collector.close();
        await metricsServer?.close();
      } finally {
        await redis.quit().catch(() => redis.disconnect());
      }
    },
    (error) => logger.error({ err: error }, "shutdown failed"),
  );
}

main().catch((error: unknown) => {
  // A pipeline file judged against the routes the HTTP door registered (a proxy prefix over
  // one of them) is a configuration error too.
  if (error instanceof PipelineError) {
    process.stderr.write(`collector: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`collector: failed to start: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
