// Queue partitions (QUEUE_PARTITIONS). One partition, the default, is the queue as it always
// was: `event_queue` and `{event_queue}:...`. With N > 1, partition p is laid out like a queue
// named `event_queue:p`, so each partition has its own hash tag `{event_queue:p}` and lands on
// its own Redis Cluster slot, with its own pending list, in-flight hashes, delayed set, dead
// letters and dedup sets. An event's partition follows its partition key (else its id), so a
// key keeps its order and a resent id meets the dedup sets that saw it first.
//
// The count is recorded per queue in `{event_queue}:partitions`: a collector or worker started
// with another count is refused while the queue still holds events in its recorded layout.
import { crc32 } from "node:zlib";
import type { Redis } from "ioredis";
import { type Env, readInteger } from "./env.js";
import { layoutKeys, type QueueKeys, queueKeys } from "./keys.js";

export const MAX_QUEUE_PARTITIONS = 1024;

export function readQueuePartitions(env: Env): number {
  return readInteger(env, "QUEUE_PARTITIONS", 1, { min: 1, max: MAX_QUEUE_PARTITIONS });
}

/** The keys of each partition of a queue, partition 0 first. */
export function partitionKeys(name: string, count: number): QueueKeys[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_QUEUE_PARTITIONS) {
    throw new RangeError(`a queue has 1 to ${MAX_QUEUE_PARTITIONS} partitions, got ${count}`);
  }
  queueKeys(name); // validates the name
  if (count === 1) return [queueKeys(name)];
  return Array.from({ length: count }, (_, p) => layoutKeys(`${name}:${p}`));
}

/** The partition of a partition key (or event id): CRC-32 of its UTF-8 bytes, modulo count. */
export function partitionOf(key: string, count: number): number {
  return count === 1 ? 0 : crc32(key) % count;
}

/** Where a queue's partition count is recorded; it shares the slot of the unpartitioned queue. */
export function partitionCountKey(name: string): string {
  return queueKeys(name).partitionCount;
}

/** The partition count recorded for a queue; undefined when none is (the original layout). */
export async function readRecordedCount(redis: Redis, name: string): Promise<number | undefined> {
  const recorded = await redis.get(partitionCountKey(name));
  if (recorded === null) return undefined;
  const count = Number(recorded);
  return Number.isInteger(count) && count >= 1 && count <= MAX_QUEUE_PARTITIONS ? count : 1;
}

/** The recorded partition count of a queue; 1 when none was recorded (the original layout). */
export async function readPartitionCount(redis: Redis, name: string): Promise<number> {
  return (await readRecordedCount(redis, name)) ?? 1;
}

/** The keys of every partition of queue `name`, by its recorded count: what readers use. */
export async function recordedPartitions(redis: Redis, name: string): Promise<QueueKeys[]> {
  return partitionKeys(name, await readPartitionCount(redis, name));
}

export class PartitionCountError extends Error {
  override readonly name = "PartitionCountError";
  readonly code = "EP_PARTITION_COUNT";
  constructor(
    readonly queue: string,
    readonly recorded: number,
    readonly wanted: number,
    readonly use: LayoutUse,
  ) {
    super(
      `queue "${queue}" is split into ${recorded} partition(s) and still holds ${use.events} ` +
        `events (pending, retrying, in flight or dead-lettered) and ${use.liveWorkers} live ` +
        `worker lease(s); QUEUE_PARTITIONS=${wanted} would strand events. Keep ` +
        `QUEUE_PARTITIONS=${recorded}, or stop the collectors, let the workers drain the queue, ` +
        "stop them, replay or purge its dead letters, then restart everything with the new count",
    );
  }
}

export interface LayoutUse {
  /** Pending, waiting to retry, in flight, dead-lettered. */
  readonly events: number;
  /** Workers whose lease runs: they may still be fed by collectors that use this layout. */
  readonly liveWorkers: number;
}

async function layoutUse(redis: Redis, partitions: readonly QueueKeys[]): Promise<LayoutUse> {
  const [seconds, micros] = await redis.time();
  const nowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  let events = 0;
  let liveWorkers = 0;
  for (const keys of partitions) {
    const [pending, delayed, deadLetters, workers, live] = await Promise.all([
      redis.llen(keys.pending),
      redis.zcard(keys.delayed),
      redis.llen(keys.deadLetter),
      redis.zrange(keys.workers, 0, -1),
      redis.zcount(keys.workers, `(${nowMs}`, "+inf"),
    ]);
    const inFlight = await Promise.all(workers.map((id) => redis.hlen(keys.inflight(id))));
    events += pending + delayed + deadLetters + inFlight.reduce((sum, n) => sum + n, 0);
    liveWorkers = Math.max(liveWorkers, live);
  }
  return { events, liveWorkers };
}

/**
 * Records the partition count a collector or worker uses for a queue, or refuses it with
 * PartitionCountError when the queue holds events in a layout with another count.
 */
export async function adoptPartitionCount(
  redis: Redis,
  name: string,
  count: number,
): Promise<void> {
  partitionKeys(name, count);
  const stored = await readRecordedCount(redis, name);
  const recorded = stored ?? 1;
  // Nothing to write when the count stands (an absent record means 1): a worker must start
  // even while Redis is at maxmemory and refuses every write, SET NX included.
  if (recorded === count && (stored !== undefined || count === 1)) return;
  if (recorded !== count) {
    const use = await layoutUse(redis, partitionKeys(name, recorded));
    if (use.events > 0 || use.liveWorkers > 0) {
      throw new PartitionCountError(name, recorded, count, use);
    }
  }
  // Two processes adopting different counts at once: the later SET wins and the other is
  // refused at its next start; the drained queue loses nothing either way.
  await redis.set(partitionCountKey(name), String(count));
}
