// The fault runs' outcome readers over every partition of a queue (QUEUE_PARTITIONS), on one
// Redis or a cluster: wait until all partitions drained, then record what each holds, by id.
import type { Redis } from "ioredis";
import { type Ledger, readRecords } from "../packages/faults/src/index.js";
import {
  auditQueue,
  decodeEnvelope,
  type QueueKeys,
  readQueueStats,
} from "../packages/queue/src/index.js";
import { until } from "../packages/testkit/src/index.js";

export async function waitUntilPartitionsDrained(
  redis: Redis,
  layout: readonly QueueKeys[],
  timeoutMs: number,
): Promise<void> {
  await until(
    "every partition drained",
    async () => {
      const all = await Promise.all(layout.map((keys) => readQueueStats(redis, keys))).catch(
        () => undefined,
      );
      return (
        all?.every(
          (stats) =>
            stats.pending === 0 &&
            stats.inFlight === 0 &&
            stats.retriesWaiting === 0 &&
            stats.expiredWorkers.length === 0,
        ) ?? false
      );
    },
    timeoutMs,
    100,
  );
}

/** Stored, dead-lettered and still-queued ids of every partition, and the handled ones. */
export async function recordPartitionedOutcome(
  ledger: Ledger,
  redis: Redis,
  layout: readonly QueueKeys[],
  recordFile: string,
): Promise<void> {
  for (const keys of layout) {
    const audit = await auditQueue(redis, keys);
    ledger.recordStored(audit.stored);
    ledger.recordDeadLettered(audit.deadLettered);
    ledger.recordStillQueued([...audit.pending, ...audit.inFlight, ...audit.delayed]);
  }
  ledger.recordHandled(readRecords(recordFile).map((record) => record.eventId));
}

/** The pending events of one partition, oldest first: [event id, partition key]. */
export async function pendingInOrder(
  redis: Redis,
  keys: QueueKeys,
): Promise<Array<readonly [string, string]>> {
  const raw = await redis.lrangeBuffer(keys.pending, 0, -1);
  return raw.reverse().map((entry) => {
    const event = decodeEnvelope(entry).stored.event;
    return [event?.eventId ?? "", event?.partitionKey ?? ""] as const;
  });
}
