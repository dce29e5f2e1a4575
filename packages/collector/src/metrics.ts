// The collector's Prometheus metrics (catalogue in @eventpipe/telemetry): a ChunkWriter
// wrapper per RPC or HTTP route that counts what each write received, stored, rejected,
// found duplicate or had refused; timing of each Redis write, by wrapping the enqueuers; open
// streams and buffered events read on scrape; the queues' state read from Redis on scrape.
import { type Pipeline, queuesOf } from "@eventpipe/pipeline";
import { BacklogFullError, type Enqueuer } from "@eventpipe/queue";
import {
  addQueueGauges,
  createMetricRegistry,
  type MetricRegistry,
  type MetricsServer,
  startMetricsServer,
} from "@eventpipe/telemetry";
import type { Redis } from "ioredis";
import {
  NotReplicatedError,
  RedisOutOfMemoryError,
  RedisUnavailableError,
  ShuttingDownError,
} from "./errors.js";
import type { ChunkWriter } from "./ingest.js";
import { reasonName } from "./rejection-names.js";

export interface CollectorMetrics {
  readonly registry: MetricRegistry;
  /** `writer`, counting under `rpc` ("Publish", "POST /v1/events", ...). */
  instrumentWriter(writer: ChunkWriter, rpc: string): ChunkWriter;
  /** `enqueuer`, timing each Redis write and recording its size. */
  instrumentEnqueuer(enqueuer: Enqueuer): Enqueuer;
  /** Reads the live figures on each scrape, and the queues' state from Redis. */
  watch(redis: Redis, pipeline: Pipeline, live: () => { streams: number; buffered: number }): void;
  serve(listen: string): Promise<MetricsServer>;
}

/** Why a write stored nothing (or only part): the `cause` label, or undefined for a bug. */
function refusalCause(error: unknown): string | undefined {
  if (error instanceof BacklogFullError) return "backlog";
  if (error instanceof RedisOutOfMemoryError) return "redis_full";
  if (error instanceof NotReplicatedError) return "not_replicated";
  if (error instanceof RedisUnavailableError) return "redis_down";
  if (error instanceof ShuttingDownError) return "shutting_down";
  return undefined;
}

export function createCollectorMetrics(): CollectorMetrics {
  const registry = createMetricRegistry("collector");
  const received = registry.counter("eventpipe_collector_events_received_total");
  const accepted = registry.counter("eventpipe_collector_events_accepted_total");
  const rejected = registry.counter("eventpipe_collector_events_rejected_total");
  const duplicates = registry.counter("eventpipe_collector_events_duplicate_total");
  const refused = registry.counter("eventpipe_collector_events_refused_total");
  const batchSize = registry.histogram("eventpipe_collector_batch_size");
  const writeDuration = registry.histogram("eventpipe_collector_redis_write_duration_seconds");
  return {
    registry,
    instrumentWriter(writer, rpc) {
      const receivedOf = received.labels({ rpc });
      const acceptedOf = accepted.labels({ rpc });
      const duplicatesOf = duplicates.labels({ rpc });
      return {
        totals: writer.totals,
        async write(events, firstIndex, replyTo) {
          receivedOf.inc(events.length);
          try {
            const result = await writer.write(events, firstIndex, replyTo);
            acceptedOf.inc(result.stored);
            if (result.duplicates > 0) duplicatesOf.inc(result.duplicates);
            for (const rejection of result.rejections) {
              rejected.inc({ rpc, reason: reasonName(rejection.reason) });
            }
            return result;
          } catch (error) {
            const cause = refusalCause(error);
            if (cause !== undefined) {
              const stored =
                error instanceof RedisUnavailableError || error instanceof ShuttingDownError
                  ? error.stored
                  : 0;
              acceptedOf.inc(stored);
              refused.inc({ rpc, cause }, events.length - stored);
            }
            throw error;
          }
        },
      };
    },
    instrumentEnqueuer(enqueuer) {
      return {
        queues: enqueuer.queues,
        async enqueue(entries, limits) {
          batchSize.observe(entries.length);
          const end = writeDuration.startTimer();
          try {
            return await enqueuer.enqueue(entries, limits);
          } finally {
            end();
          }
        },
      };
    },
    watch(redis, pipeline, live) {
      addQueueGauges(registry, redis, queuesOf(pipeline));
      registry.onScrape("eventpipe_collector_open_streams", (gauge) => gauge.set(live().streams));
      registry.onScrape("eventpipe_collector_buffered_events", (gauge) =>
        gauge.set(live().buffered),
      );
    },
    serve: (listen) => startMetricsServer(listen, registry),
  };
}
