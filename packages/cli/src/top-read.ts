// One reading of everything `pnpm top` shows: each queue's state and counters, and the live
// collectors' snapshots. Only the queue package's readers: no Redis of its own here. A queue
// split into partitions shows as one row, its partitions added up.
import type { CollectorSnapshot, QueueState, QueueStats } from "@eventpipe/queue";
import { readCollectors, readQueueStateOf, readQueueStatsOf } from "@eventpipe/queue";
import type { Redis } from "ioredis";

export interface QueueReading {
  /** For the age of the oldest pending event (one script call). */
  readonly state: QueueState;
  /** Counters (enqueued, processed, retried...) and the workers with what each holds. */
  readonly stats: QueueStats;
}

export interface Reading {
  /** This machine's monotonic clock when the reading started (ms); rates divide by its deltas. */
  readonly atMs: number;
  readonly queues: readonly QueueReading[];
  readonly collectors: readonly CollectorSnapshot[];
}

export async function readTop(redis: Redis, queues: readonly string[]): Promise<Reading> {
  const atMs = performance.now();
  const [readings, collectors] = await Promise.all([
    Promise.all(
      queues.map(async (queue) => {
        const [state, stats] = await Promise.all([
          readQueueStateOf(redis, queue),
          readQueueStatsOf(redis, queue),
        ]);
        return { state, stats };
      }),
    ),
    readCollectors(redis),
  ]);
  return { atMs, queues: readings, collectors };
}
