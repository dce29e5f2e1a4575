// `pnpm stats [--json]`: the queue's pending, in-flight, processed and dead-lettered counts,
// per-type counts and live workers.
import {
  connectRedis,
  DEFAULT_QUEUE_NAME,
  queueKeys,
  readQueueStats,
  readRedisConnection,
  readString,
} from "@eventpipe/queue";

const json = process.argv.includes("--json");
const redis = connectRedis(readRedisConnection(process.env), "writer", {
  enableOfflineQueue: true,
  retryStrategy: () => null,
});
try {
  const stats = await readQueueStats(
    redis,
    queueKeys(readString(process.env, "QUEUE_NAME", DEFAULT_QUEUE_NAME)),
  );
  if (json) {
    console.log(JSON.stringify(stats));
  } else {
    console.log(`queue            ${stats.queue}`);
    console.log(`pending          ${stats.pending}`);
    console.log(`in flight        ${stats.inFlight}`);
    console.log(`processed        ${stats.processed}`);
    console.log(`retries waiting  ${stats.retriesWaiting} (${stats.retried} retries so far)`);
    console.log(`dead-lettered    ${stats.deadLettered} waiting (${stats.deadLetteredTotal} ever)`);
    console.log("by type");
    for (const [type, count] of Object.entries(stats.byType).sort()) {
      console.log(`  ${type.padEnd(24)} ${count}`);
    }
    console.log(`workers          ${stats.workers.length} live`);
    for (const worker of stats.workers) {
      console.log(
        `  ${worker.id.padEnd(40)} in flight ${worker.inFlight}, processed ${worker.processed}`,
      );
    }
    for (const worker of stats.expiredWorkers) {
      console.log(
        `  ${worker.id.padEnd(40)} lease expired, ${worker.inFlight} events to take back`,
      );
    }
  }
} catch (error) {
  console.error(`stats: cannot read the queue: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  redis.disconnect();
}
