// A consistent-enough snapshot of one queue for `pnpm stats` and the local runner.
// readQueueStats reads one partition's keys; readQueueStatsOf reads a queue by name over the
// partition count recorded in Redis, so tools see the whole queue whatever QUEUE_PARTITIONS is.
import type { Redis } from "ioredis";
import type { QueueKeys } from "./keys.js";
import { recordedPartitions } from "./partitions.js";

export const DEFAULT_QUEUE_NAME = "event_queue";

export interface WorkerStats {
  readonly id: string;
  readonly inFlight: number;
  readonly processed: number;
  /** Redis time (ms) at which the worker's lease runs out unless renewed. */
  readonly leaseExpiresAtMs: number;
}

export interface QueueStats {
  readonly queue: string;
  readonly pending: number;
  readonly inFlight: number;
  /** Every event stored in the queue: ingest, fan-out copies, results, replays (not retries). */
  readonly enqueued: number;
  readonly processed: number;
  /** Dead letters waiting now (the list's length). */
  readonly deadLettered: number;
  /** Every event ever dead-lettered, including ones since replayed or purged. */
  readonly deadLetteredTotal: number;
  readonly retriesWaiting: number;
  readonly retried: number;
  /** Events taken back from workers whose lease ran out. */
  readonly recovered: number;
  readonly byType: Readonly<Record<string, number>>;
  /** Workers whose lease is valid. */
  readonly workers: readonly WorkerStats[];
  /** Workers whose lease ran out and whose events are about to be taken back. */
  readonly expiredWorkers: readonly WorkerStats[];
  /** Each partition's figures, partition 0 first; only for a queue split into partitions. */
  readonly partitions?: readonly PartitionStats[];
}

/** One partition's share of a partitioned queue. */
export interface PartitionStats {
  readonly partition: number;
  /** The name its keys are built from, e.g. `event_queue:3` (its pending list's key). */
  readonly queue: string;
  readonly pending: number;
  readonly inFlight: number;
  readonly processed: number;
  readonly deadLettered: number;
  readonly retriesWaiting: number;
  readonly liveWorkers: number;
}

function toCounts(hash: Record<string, string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [key, value] of Object.entries(hash)) counts[key] = Number(value);
  return counts;
}

export async function readQueueStats(redis: Redis, keys: QueueKeys): Promise<QueueStats> {
  const [time, workerRows] = await Promise.all([
    redis.time(),
    redis.zrange(keys.workers, 0, -1, "WITHSCORES"),
  ]);
  const nowMs = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
  const workerIds: string[] = [];
  const expiries: number[] = [];
  for (let i = 0; i < workerRows.length; i += 2) {
    workerIds.push(workerRows[i]!);
    expiries.push(Number(workerRows[i + 1]));
  }
  const pipeline = redis.pipeline();
  pipeline.llen(keys.pending);
  pipeline.llen(keys.deadLetter);
  pipeline.zcard(keys.delayed);
  pipeline.hgetall(keys.stats);
  pipeline.hgetall(keys.processedByType);
  pipeline.hgetall(keys.processedByWorker);
  for (const id of workerIds) {
    pipeline.hlen(keys.inflight(id));
    pipeline.llen(keys.claim(id));
  }
  const results = (await pipeline.exec()) ?? [];
  const values = results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
  const counters = toCounts(values[3] as Record<string, string>);
  const byWorker = toCounts(values[5] as Record<string, string>);
  const live: WorkerStats[] = [];
  const expired: WorkerStats[] = [];
  workerIds.forEach((id, i) => {
    const worker: WorkerStats = {
      id,
      inFlight: Number(values[6 + i * 2]) + Number(values[7 + i * 2]),
      processed: byWorker[id] ?? 0,
      leaseExpiresAtMs: expiries[i]!,
    };
    (worker.leaseExpiresAtMs > nowMs ? live : expired).push(worker);
  });
  return {
    queue: keys.name,
    pending: Number(values[0]),
    inFlight: [...live, ...expired].reduce((sum, worker) => sum + worker.inFlight, 0),
    enqueued: counters.enqueued ?? 0,
    processed: counters.processed ?? 0,
    deadLettered: Number(values[1]),
    deadLetteredTotal: counters.deadLettered ?? 0,
    retriesWaiting: Number(values[2]),
    retried: counters.retried ?? 0,
    recovered: counters.recovered ?? 0,
    byType: toCounts(values[4] as Record<string, string>),
    workers: live,
    expiredWorkers: expired,
  };
}

/**
 * The whole queue `name`: each partition read at once and the figures added up. A queue with
 * one partition reads exactly as readQueueStats of its keys, without `partitions`.
 */
export async function readQueueStatsOf(redis: Redis, name: string): Promise<QueueStats> {
  const layout = await recordedPartitions(redis, name);
  const parts = await Promise.all(layout.map((keys) => readQueueStats(redis, keys)));
  if (parts.length === 1) return parts[0]!;
  const sum = (figure: (stats: QueueStats) => number) =>
    parts.reduce((total, stats) => total + figure(stats), 0);
  const byType: Record<string, number> = {};
  for (const stats of parts) {
    for (const [type, n] of Object.entries(stats.byType)) byType[type] = (byType[type] ?? 0) + n;
  }
  const { workers, expiredWorkers } = mergeWorkers(parts);
  return {
    queue: name,
    pending: sum((s) => s.pending),
    inFlight: sum((s) => s.inFlight),
    enqueued: sum((s) => s.enqueued),
    processed: sum((s) => s.processed),
    deadLettered: sum((s) => s.deadLettered),
    deadLetteredTotal: sum((s) => s.deadLetteredTotal),
    retriesWaiting: sum((s) => s.retriesWaiting),
    retried: sum((s) => s.retried),
    recovered: sum((s) => s.recovered),
    byType,
    workers,
    expiredWorkers,
    partitions: parts.map((stats, partition) => ({
      partition,
      queue: stats.queue,
      pending: stats.pending,
      inFlight: stats.inFlight,
      processed: stats.processed,
      deadLettered: stats.deadLettered,
      retriesWaiting: stats.retriesWaiting,
      liveWorkers: stats.workers.length,
    })),
  };
}

/**
 * One entry per worker process (it registers the same id in every partition it consumes):
 * what it holds and processed, summed, and its earliest lease. A worker with any lapsed lease
 * is listed as expired, its whole holding included: one stalled partition is enough to
 * presume the process in trouble, and an id never shows in both lists.
 */
function mergeWorkers(parts: readonly QueueStats[]) {
  const merged = new Map<string, { worker: WorkerStats; expired: boolean }>();
  for (const stats of parts) {
    for (const [list, expired] of [
      [stats.workers, false],
      [stats.expiredWorkers, true],
    ] as const) {
      for (const worker of list) {
        const seen = merged.get(worker.id);
        merged.set(worker.id, {
          worker:
            seen === undefined
              ? worker
              : {
                  id: worker.id,
                  inFlight: seen.worker.inFlight + worker.inFlight,
                  processed: seen.worker.processed + worker.processed,
                  leaseExpiresAtMs: Math.min(seen.worker.leaseExpiresAtMs, worker.leaseExpiresAtMs),
                },
          expired: expired || (seen?.expired ?? false),
        });
      }
    }
  }
  // Soonest lease first, as one partition's workers set lists them.
  const all = [...merged.values()].sort(
    (a, b) =>
      a.worker.leaseExpiresAtMs - b.worker.leaseExpiresAtMs ||
      a.worker.id.localeCompare(b.worker.id),
  );
  return {
    workers: all.filter((w) => !w.expired).map((w) => w.worker),
    expiredWorkers: all.filter((w) => w.expired).map((w) => w.worker),
  };
}
