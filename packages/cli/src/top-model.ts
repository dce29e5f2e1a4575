// From readings to the rows `pnpm top` shows. Pure: rates are counter deltas over the time
// between two readings, so the first reading has none ("-"), and a counter that went down
// (a queue's keys deleted, a worker new since the last reading) gives "-" rather than a lie.
import type { CollectorSnapshot } from "@eventpipe/queue";
import type { Reading } from "./top-read.js";

export interface QueueRow {
  readonly queue: string;
  readonly pending: number;
  readonly inFlight: number;
  /** 0 when nothing is pending. */
  readonly oldestPendingAgeMs: number;
  /** Events stored into the queue per second (ingest, fan-out copies, results, replays). */
  readonly inRate: number | undefined;
  /** Events processed per second. */
  readonly outRate: number | undefined;
  readonly processed: number;
  /** Failed events waiting for their backoff to end. */
  readonly retriesWaiting: number;
  /** Retries scheduled since the queue began. */
  readonly retried: number;
  readonly deadLetters: number;
  readonly liveWorkers: number;
}

export interface WorkerRow {
  readonly id: string;
  readonly queue: string;
  readonly inFlight: number;
  readonly processed: number;
  readonly rate: number | undefined;
  /** Its lease ran out: presumed dead, its events are about to be taken back. */
  readonly expired: boolean;
}

export interface CollectorRow {
  readonly id: string;
  readonly streams: number;
  readonly buffered: number;
  readonly receivedRate: number | undefined;
  readonly acceptedRate: number | undefined;
}

export interface TopView {
  readonly queues: readonly QueueRow[];
  readonly workers: readonly WorkerRow[];
  readonly collectors: readonly CollectorRow[];
}

/** A collector's last two distinct snapshots: it writes one a second, on its own clock. */
interface CollectorHistory {
  readonly previous: CollectorSnapshot | undefined;
  readonly latest: CollectorSnapshot;
}

/** What the next reading is compared with. */
export interface TopState {
  readonly reading: Reading;
  readonly collectors: ReadonlyMap<string, CollectorHistory>;
}

/** Per second; undefined without a baseline, a positive interval or a counter that grew. */
export function rate(
  before: number | undefined,
  after: number,
  elapsedMs: number,
): number | undefined {
  if (before === undefined || elapsedMs <= 0 || after < before) return undefined;
  return ((after - before) * 1000) / elapsedMs;
}

function collectorRows(
  known: ReadonlyMap<string, CollectorHistory>,
  snapshots: readonly CollectorSnapshot[],
): { rows: CollectorRow[]; histories: Map<string, CollectorHistory> } {
  const histories = new Map<string, CollectorHistory>();
  const rows = snapshots.map((snapshot) => {
    const seen = known.get(snapshot.id);
    // Read twice between two of its writes, a collector shows the same snapshot: keep the
    // older one as the baseline rather than losing the rate.
    const history: CollectorHistory =
      seen === undefined
        ? { previous: undefined, latest: snapshot }
        : snapshot.atMs > seen.latest.atMs
          ? { previous: seen.latest, latest: snapshot }
          : seen;
    histories.set(snapshot.id, history);
    const { previous, latest } = history;
    const elapsed = previous === undefined ? 0 : latest.atMs - previous.atMs;
    return {
      id: latest.id,
      streams: latest.streams,
      buffered: latest.buffered,
      receivedRate: rate(previous?.received, latest.received, elapsed),
      acceptedRate: rate(previous?.accepted, latest.accepted, elapsed),
    };
  });
  return { rows, histories };
}

/** The view of `reading`, with rates against `state` (the previous one), and the next state. */
export function advance(
  state: TopState | undefined,
  reading: Reading,
): { view: TopView; state: TopState } {
  const elapsed = state === undefined ? 0 : reading.atMs - state.reading.atMs;
  const before = new Map(state?.reading.queues.map((queue) => [queue.stats.queue, queue]));
  const queues: QueueRow[] = [];
  const workers: WorkerRow[] = [];
  for (const { state: queueState, stats } of reading.queues) {
    const previous = before.get(stats.queue)?.stats;
    queues.push({
      queue: stats.queue,
      pending: stats.pending,
      // The workers' sum (claimed or running, live or expired lease), so the rows below add up.
      inFlight: stats.inFlight,
      oldestPendingAgeMs: queueState.oldestPendingAgeMs,
      inRate: rate(previous?.enqueued, stats.enqueued, elapsed),
      outRate: rate(previous?.processed, stats.processed, elapsed),
      processed: stats.processed,
      retriesWaiting: stats.retriesWaiting,
      retried: stats.retried,
      deadLetters: stats.deadLettered,
      liveWorkers: stats.workers.length,
    });
    const processedBefore = new Map(
      [...(previous?.workers ?? []), ...(previous?.expiredWorkers ?? [])].map((worker) => [
        worker.id,
        worker.processed,
      ]),
    );
    const rows = [
      ...stats.workers.map((worker) => ({ worker, expired: false })),
      ...stats.expiredWorkers.map((worker) => ({ worker, expired: true })),
    ];
    for (const { worker, expired } of rows) {
      workers.push({
        id: worker.id,
        queue: stats.queue,
        inFlight: worker.inFlight,
        processed: worker.processed,
        rate: expired ? undefined : rate(processedBefore.get(worker.id), worker.processed, elapsed),
        expired,
      });
    }
  }
  workers.sort((a, b) => a.queue.localeCompare(b.queue) || a.id.localeCompare(b.id));
  const { rows, histories } = collectorRows(state?.collectors ?? new Map(), reading.collectors);
  return {
    view: { queues, workers, collectors: rows },
    state: { reading, collectors: histories },
  };
}
