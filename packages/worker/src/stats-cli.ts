// `pnpm stats [--queue Q] [--json]`: a queue's pending, in-flight, processed and dead-lettered
// counts, per-type counts and live workers. Without --queue: every queue of the pipeline file
// (EVENTPIPE_CONFIG), else QUEUE_NAME. --json prints one object for one queue, an array for
// several. A queue split into partitions shows its totals, then a row per partition (in --json,
// `partitions`); the count is the one recorded in Redis, whatever QUEUE_PARTITIONS says here.
import { parseArgs } from "node:util";
import { queuesOf, readPipeline } from "@eventpipe/pipeline";
import {
  connectRedis,
  DEFAULT_QUEUE_NAME,
  type PartitionStats,
  type QueueStats,
  readQueueStatsOf,
  readRedisConnection,
  readString,
} from "@eventpipe/queue";

const { values } = parseArgs({
  options: { queue: { type: "string" }, json: { type: "boolean", default: false } },
});
let queues: string[];
try {
  queues =
    values.queue !== undefined
      ? [values.queue]
      : queuesOf(
          readPipeline(process.env, readString(process.env, "QUEUE_NAME", DEFAULT_QUEUE_NAME)),
        );
} catch (error) {
  console.error(`stats: ${(error as Error).message}`);
  process.exit(2);
}
const redis = connectRedis(readRedisConnection(process.env), "writer", {
  enableOfflineQueue: true,
  retryStrategy: () => null,
});

const PARTITION_COLUMNS: readonly [string, (row: PartitionStats) => string | number][] = [
  ["partition", (row) => row.queue],
  ["pending", (row) => row.pending],
  ["in flight", (row) => row.inFlight],
  ["processed", (row) => row.processed],
  ["dead letters", (row) => row.deadLettered],
  ["retries waiting", (row) => row.retriesWaiting],
  ["workers", (row) => row.liveWorkers],
];

/** A row per partition: its name left-aligned, its figures right-aligned under the headings. */
function printPartitions(rows: readonly PartitionStats[]): void {
  const table = [
    PARTITION_COLUMNS.map(([heading]) => heading),
    ...rows.map((row) => PARTITION_COLUMNS.map(([, cell]) => String(cell(row)))),
  ];
  const widths = PARTITION_COLUMNS.map((_, i) => Math.max(...table.map((line) => line[i]!.length)));
  console.log(`partitions       ${rows.length}`);
  for (const line of table) {
    const cells = line.map((cell, i) =>
      i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!),
    );
    console.log(`  ${cells.join("  ")}`);
  }
}

function print(stats: QueueStats): void {
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
    console.log(`  ${worker.id.padEnd(40)} lease expired, ${worker.inFlight} events to take back`);
  }
  if (stats.partitions !== undefined) printPartitions(stats.partitions);
}

try {
  const all = await Promise.all(queues.map((queue) => readQueueStatsOf(redis, queue)));
  if (values.json) console.log(JSON.stringify(all.length === 1 ? all[0] : all));
  else {
    all.forEach((stats, index) => {
      if (index > 0) console.log("");
      print(stats);
    });
  }
} catch (error) {
  console.error(`stats: cannot read the queue: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  redis.disconnect();
}
