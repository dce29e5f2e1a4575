// Every metric eventpipe exports, in one place: the services register them from here, the
// README's table lists them, and the Grafana dashboard's queries are checked against them.
// Names follow Prometheus conventions: the eventpipe_ prefix, base units (seconds), `_total`
// for counters. Labels stay bounded: `type` is an event type named by ALLOWED_EVENT_TYPES or a
// route (else "other"), `reason` and `cause` are small fixed sets, `queue` and `route` come
// from the pipeline file.

export type MetricType = "counter" | "gauge" | "histogram";
export type MetricOwner = "collector" | "worker" | "queue";

export interface MetricSpec {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labels: readonly string[];
  /** Who exports it: queue state is read on scrape by both services. */
  readonly owner: MetricOwner;
  readonly buckets?: readonly number[];
}

const SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SIZES = [1, 5, 10, 50, 100, 250, 500, 1000, 2000, 4000];

export const METRICS = [
  // The collector.
  {
    name: "eventpipe_collector_events_received_total",
    type: "counter",
    help: "Events read from clients, valid or not.",
    labels: ["rpc"],
    owner: "collector",
  },
  {
    name: "eventpipe_collector_events_accepted_total",
    type: "counter",
    help: "Events stored in Redis (acknowledged by Redis).",
    labels: ["rpc"],
    owner: "collector",
  },
  {
    name: "eventpipe_collector_events_rejected_total",
    type: "counter",
    help: "Invalid events rejected, by reason.",
    labels: ["rpc", "reason"],
    owner: "collector",
  },
  {
    name: "eventpipe_collector_events_duplicate_total",
    type: "counter",
    help: "Events not stored again: their id was stored within the dedup window.",
    labels: ["rpc"],
    owner: "collector",
  },
  {
    name: "eventpipe_collector_events_refused_total",
    type: "counter",
    help: "Events refused for now (the client may retry), by cause: backlog, redis_full, redis_down, not_replicated, shutting_down.",
    labels: ["rpc", "cause"],
    owner: "collector",
  },
  {
    name: "eventpipe_collector_batch_size",
    type: "histogram",
    help: "Events per Redis write.",
    labels: [],
    owner: "collector",
    buckets: SIZES,
  },
  {
    name: "eventpipe_collector_redis_write_duration_seconds",
    type: "histogram",
    help: "Time of one Redis write (one enqueue script call).",
    labels: [],
    owner: "collector",
    buckets: SECONDS,
  },
  {
    name: "eventpipe_collector_open_streams",
    type: "gauge",
    help: "gRPC streams and HTTP requests being served.",
    labels: [],
    owner: "collector",
  },
  {
    name: "eventpipe_collector_buffered_events",
    type: "gauge",
    help: "Events read from clients and not yet stored (bounded by COLLECTOR_MAX_BUFFERED_EVENTS).",
    labels: [],
    owner: "collector",
  },
  // The worker.
  {
    name: "eventpipe_worker_events_processed_total",
    type: "counter",
    help: "Events whose handler finished and whose ack Redis took.",
    labels: ["queue", "type"],
    owner: "worker",
  },
  {
    name: "eventpipe_worker_events_failed_total",
    type: "counter",
    help: "Handler runs that failed (each is retried or dead-lettered).",
    labels: ["queue", "type"],
    owner: "worker",
  },
  {
    name: "eventpipe_worker_events_retried_total",
    type: "counter",
    help: "Failed events put back for a retry after a backoff.",
    labels: ["queue"],
    owner: "worker",
  },
  {
    name: "eventpipe_worker_events_dead_lettered_total",
    type: "counter",
    help: "Events moved to the dead-letter list, by reason.",
    labels: ["queue", "reason"],
    owner: "worker",
  },
  {
    name: "eventpipe_worker_events_recovered_total",
    type: "counter",
    help: "Events this worker took back from workers whose lease ran out.",
    labels: ["queue"],
    owner: "worker",
  },
  {
    name: "eventpipe_worker_handler_duration_seconds",
    type: "histogram",
    help: "Time from a handler's start to its outcome.",
    labels: ["queue"],
    owner: "worker",
    buckets: SECONDS,
  },
  {
    name: "eventpipe_worker_handlers_in_flight",
    type: "gauge",
    help: "Events claimed by this worker and not yet acknowledged, retried or dead-lettered.",
    labels: ["queue"],
    owner: "worker",
  },
  {
    name: "eventpipe_worker_claim_batch_size",
    type: "histogram",
    help: "Events taken by one claim that took any.",
    labels: ["queue"],
    owner: "worker",
    buckets: SIZES,
  },
  // Queue state, read from Redis on each scrape (one script call per queue).
  {
    name: "eventpipe_queue_pending",
    type: "gauge",
    help: "Events waiting in the queue.",
    labels: ["queue"],
    owner: "queue",
  },
  {
    name: "eventpipe_queue_in_flight",
    type: "gauge",
    help: "Events held by live workers.",
    labels: ["queue"],
    owner: "queue",
  },
  {
    name: "eventpipe_queue_delayed",
    type: "gauge",
    help: "Failed events waiting for their retry.",
    labels: ["queue"],
    owner: "queue",
  },
  {
    name: "eventpipe_queue_dead_letters",
    type: "gauge",
    help: "Entries in the dead-letter list.",
    labels: ["queue"],
    owner: "queue",
  },
  {
    name: "eventpipe_queue_live_workers",
    type: "gauge",
    help: "Workers whose lease is valid.",
    labels: ["queue"],
    owner: "queue",
  },
  {
    name: "eventpipe_queue_oldest_pending_age_seconds",
    type: "gauge",
    help: "Age of the oldest pending event (0 when none): whether workers keep up.",
    labels: ["queue"],
    owner: "queue",
  },
] as const satisfies readonly MetricSpec[];

export type MetricName = (typeof METRICS)[number]["name"];

export function metricSpec(name: MetricName): MetricSpec {
  return METRICS.find((spec) => spec.name === name)!;
}
