// The collector process: reads the environment, connects, listens, and shuts down cleanly on
// SIGTERM/SIGINT (stop accepting, finish in-flight streams within SHUTDOWN_GRACE_MS, close Redis).
import { connectRedis, describeRedis, stopOnSignals } from "@eventpipe/queue";
import { createCollector } from "./collector.js";
import { readCollectorConfig } from "./config.js";
import { createLogger } from "./logger.js";

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
  const collector = createCollector({ redis, config, logger });
  await collector.listen();
  logger.info({ redis: describeRedis(config.redis), queue: config.queueName }, "collector started");

  stopOnSignals(
    async (signal) => {
      logger.info({ signal, activeStreams: collector.activeStreams }, "shutting down");
      try {
        await collector.close();
      } finally {
        await redis.quit().catch(() => redis.disconnect());
      }
    },
    (error) => logger.error({ err: error }, "shutdown failed"),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`collector: failed to start: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
