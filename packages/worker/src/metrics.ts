// The worker's Prometheus metrics: an observer per consumer (queue) that counts what the
// worker reports (observer.ts), the handlers in flight and the queues' state read on scrape,
// served on METRICS_LISTEN.
import type { Pipeline } from "@eventpipe/pipeline";
import {
  addQueueGauges,
  createMetricRegistry,
  createTypeLabel,
  type MetricRegistry,
  type MetricsServer,
  startMetricsServer,
} from "@eventpipe/telemetry";
import type { Redis } from "ioredis";
import type { WorkerObserver } from "./observer.js";

export interface WorkerMetrics {
  readonly registry: MetricRegistry;
  /** The observer of the consumer of `queue`. */
  observerFor(queue: string): WorkerObserver;
  /** Reads handlers in flight per queue on each scrape, and the queues' state from Redis. */
  watch(redis: Redis, inFlight: () => ReadonlyMap<string, number>): void;
  /** Serves GET /metrics on `listen`. */
  serve(listen: string): Promise<MetricsServer>;
}

export function createWorkerMetrics(
  pipeline: Pipeline,
  allowedTypes: readonly string[],
): WorkerMetrics {
  const registry = createMetricRegistry("worker");
  const typeLabel = createTypeLabel(allowedTypes, pipeline.routes);
  const processed = registry.counter("eventpipe_worker_events_processed_total");
  const failed = registry.counter("eventpipe_worker_events_failed_total");
  const retried = registry.counter("eventpipe_worker_events_retried_total");
  const deadLettered = registry.counter("eventpipe_worker_events_dead_lettered_total");
  const recovered = registry.counter("eventpipe_worker_events_recovered_total");
  const duration = registry.histogram("eventpipe_worker_handler_duration_seconds");
  const claimSize = registry.histogram("eventpipe_worker_claim_batch_size");
  const queues = new Set<string>();
  return {
    registry,
    observerFor(queue) {
      queues.add(queue);
      const durationOf = duration.labels({ queue });
      const claims = claimSize.labels({ queue });
      return {
        claimed: (count) => claims.observe(count),
        handled(type, seconds, isFailure) {
          durationOf.observe(seconds);
          if (isFailure) failed.inc({ queue, type: typeLabel(type) });
        },
        acknowledged: (type, count) => processed.inc({ queue, type: typeLabel(type) }, count),
        retried: () => retried.inc({ queue }),
        deadLettered: (reason) => deadLettered.inc({ queue, reason }),
        recovered: (count) => recovered.inc({ queue }, count),
      };
    },
    watch(redis, inFlight) {
      addQueueGauges(registry, redis, [...queues]);
      registry.onScrape("eventpipe_worker_handlers_in_flight", (gauge) => {
        for (const [queue, count] of inFlight()) gauge.set({ queue }, count);
      });
    },
    serve: (listen) => startMetricsServer(listen, registry),
  };
}
