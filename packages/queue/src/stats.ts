// A consistent-enough snapshot of one queue for `pnpm stats` and the local runner.
import type { Redis } from "ioredis";
import type { QueueKeys } from "./keys.js";

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
