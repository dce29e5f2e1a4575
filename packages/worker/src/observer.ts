// What a worker reports as it goes, for metrics: a small interface the worker calls at the
// points where it already counts, so the worker itself knows nothing of Prometheus
// (metrics.ts implements it with the telemetry package).

export interface WorkerObserver {
  /** A claim took `count` (> 0) events. */
  claimed(count: number): void;
  /** A handler ended after `seconds`: resolved, or threw (`failed`). */
  handled(type: string, seconds: number, failed: boolean): void;
  /** Redis took the acks of `count` events of `type`. */
  acknowledged(type: string, count: number): void;
  retried(): void;
  deadLettered(reason: string): void;
  /** Events taken back from workers whose lease ran out. */
  recovered(count: number): void;
}

const nothing = () => {};

export const NO_OBSERVER: WorkerObserver = Object.freeze({
  claimed: nothing,
  handled: nothing,
  acknowledged: nothing,
  retried: nothing,
  deadLettered: nothing,
  recovered: nothing,
});
