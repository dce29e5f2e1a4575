// One reading of what the dashboard shows, the same figures as `pnpm top`: each queue's state
// and counters, its workers, and the live collectors. Counters, not rates: the page divides
// the differences between two readings by the difference of their `atMs`, so the server keeps
// no history and every open page gets its rates over its own interval.
//
// Several pages polling every second share readings: one reading at a time, reused for
// FRESH_MS, so the Redis work is bounded however many tabs are open.
//
// A queue split into partitions is one row, its partitions added up (readQueueStatsOf).
import {
  type CollectorSnapshot,
  readCollectors,
  readQueueStateOf,
  readQueueStatsOf,
} from "@eventpipe/queue";
import type { Redis } from "ioredis";

/** A reading younger than this is answered again rather than read anew. */
const FRESH_MS = 500;

export interface QueueFigures {
  readonly queue: string;
  readonly pending: number;
  /** What the queue's workers hold (claimed or running, live or expired lease). */
  readonly inFlight: number;
  /** 0 when nothing is pending. */
  readonly oldestPendingAgeMs: number;
  /** Every event stored into the queue (ingest, fan-out copies, results, replays). */
  readonly enqueued: number;
  readonly processed: number;
  readonly retriesWaiting: number;
  readonly retried: number;
  readonly deadLetters: number;
  readonly liveWorkers: number;
}

export interface WorkerFigures {
  readonly id: string;
  readonly queue: string;
  readonly inFlight: number;
  readonly processed: number;
  /** Its lease ran out: presumed dead, its events are about to be taken back. */
  readonly expired: boolean;
}

export interface Overview {
  /** When the reading started, on this collector's monotonic clock (epoch-based ms). */
  readonly atMs: number;
  /** "open": no tokens are configured, so anyone who reaches the port sees and acts. */
  readonly auth: "token" | "open";
  readonly queues: readonly QueueFigures[];
  readonly workers: readonly WorkerFigures[];
  readonly collectors: readonly CollectorSnapshot[];
}

const monotonicNow = () => performance.timeOrigin + performance.now();

async function readQueue(redis: Redis, queue: string) {
  const [state, stats] = await Promise.all([
    readQueueStateOf(redis, queue),
    readQueueStatsOf(redis, queue),
  ]);
  const figures: QueueFigures = {
    queue,
    pending: stats.pending,
    inFlight: stats.inFlight,
    oldestPendingAgeMs: state.oldestPendingAgeMs,
    enqueued: stats.enqueued,
    processed: stats.processed,
    retriesWaiting: stats.retriesWaiting,
    retried: stats.retried,
    deadLetters: stats.deadLettered,
    liveWorkers: stats.workers.length,
  };
  const workers: WorkerFigures[] = [
    ...stats.workers.map((w) => ({ ...w, expired: false })),
    ...stats.expiredWorkers.map((w) => ({ ...w, expired: true })),
  ].map(({ id, inFlight, processed, expired }) => ({ id, queue, inFlight, processed, expired }));
  return { figures, workers };
}

export async function readOverview(
  redis: Redis,
  queues: readonly string[],
  auth: Overview["auth"],
): Promise<Overview> {
  const atMs = monotonicNow();
  const [readings, collectors] = await Promise.all([
    Promise.all(queues.map((queue) => readQueue(redis, queue))),
    readCollectors(redis),
  ]);
  const workers = readings
    .flatMap((reading) => reading.workers)
    .sort((a, b) => a.queue.localeCompare(b.queue) || a.id.localeCompare(b.id));
  return { atMs, auth, queues: readings.map((r) => r.figures), workers, collectors };
}

/** readOverview, shared by the requests that arrive while one runs or within FRESH_MS. */
export function sharedOverview(read: () => Promise<Overview>): () => Promise<Overview> {
  let last: { readonly at: number; readonly overview: Promise<Overview> } | undefined;
  return () => {
    const now = performance.now();
    if (last !== undefined && now - last.at < FRESH_MS) return last.overview;
    const overview = read();
    const current = { at: now, overview };
    last = current;
    // A failed reading is not shared: the next request tries again.
    overview.catch(() => {
      if (last === current) last = undefined;
    });
    return overview;
  };
}
