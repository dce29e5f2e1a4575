// Worker configuration: read from the environment once, validated, frozen.

import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { type Pipeline, readPipeline } from "@eventpipe/pipeline";
import {
  ConfigError,
  DEFAULT_QUEUE_NAME,
  type Env,
  type LogLevel,
  type RedisConnection,
  readInteger,
  readList,
  readLogLevel,
  readOptionalHostPort,
  readOptionalString,
  readQueuePartitions,
  readRedisConnection,
  readString,
} from "@eventpipe/queue";

export interface WorkerConfig {
  readonly redis: RedisConnection;
  /** QUEUE_NAME: the queue served when there is no pipeline file. */
  readonly queueName: string;
  /** QUEUE_PARTITIONS: each queue is split into this many partitions (partitions.ts). */
  readonly queuePartitions: number;
  /** WORKER_PARTITIONS: the partitions this process consumes, ascending; default all. */
  readonly partitions: readonly number[];
  /** The pipeline file (EVENTPIPE_CONFIG): routes, their queues and processors. */
  readonly pipeline: Pipeline;
  /** WORKER_ROUTES: the routes whose processors this process runs; undefined: all. */
  readonly routes: readonly string[] | undefined;
  /** Unique per process; names its in-flight hash and its lease. */
  readonly workerId: string;
  /** Handlers running at once. */
  readonly concurrency: number;
  /** Most events claimed from Redis in one step. */
  readonly batchSize: number;
  /** The default handler's simulated unit of work. */
  readonly workMs: number;
  /** Handler failures before an event is dead-lettered. */
  readonly maxAttempts: number;
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
  /** A worker that has not renewed its lease for this long is presumed dead. */
  readonly leaseMs: number;
  /** Crash recoveries of one event before it is dead-lettered as poison. */
  readonly maxDeliveries: number;
  readonly shutdownGraceMs: number;
  /** How long one blocking wait for new events lasts before the loop looks around again. */
  readonly blockTimeoutMs: number;
  /** Path of an ES module whose default export is the EventHandler; unset: the default handler. */
  readonly handlerModule: string | undefined;
  readonly logLevel: LogLevel;
  /** host:port of GET /metrics; undefined when METRICS_LISTEN is empty (no metrics). */
  readonly metricsListen: string | undefined;
  /** Event types that get a label of their own in metrics (ALLOWED_EVENT_TYPES). */
  readonly metricTypes: readonly string[];
}

export const WORKER_DEFAULTS = Object.freeze({
  queueName: DEFAULT_QUEUE_NAME,
  concurrency: 64,
  batchSize: 100,
  workMs: 10,
  maxAttempts: 5,
  retryBaseDelayMs: 1000,
  retryMaxDelayMs: 60_000,
  leaseMs: 15_000,
  maxDeliveries: 5,
  shutdownGraceMs: 10_000,
  blockTimeoutMs: 1000,
  logLevel: "info" as LogLevel,
  metricsListen: "0.0.0.0:9465",
});

export function defaultWorkerId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
}

/** "0,2,4-5" → [0, 2, 4, 5]; every partition below the count when unset. */
function readWorkerPartitions(env: Env, count: number): readonly number[] {
  const items = readList(env, "WORKER_PARTITIONS");
  if (items.length === 0) return Array.from({ length: count }, (_, p) => p);
  const chosen = new Set<number>();
  for (const item of items) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(item);
    const from = Number(range?.[1]);
    const to = Number(range?.[2] ?? range?.[1]);
    if (range === null || from > to || to >= count) {
      throw new ConfigError(
        "WORKER_PARTITIONS",
        items.join(","),
        `partition numbers or ranges (e.g. 0,2,4-5) below QUEUE_PARTITIONS=${count}`,
      );
    }
    for (let p = from; p <= to; p++) chosen.add(p);
  }
  return [...chosen].sort((a, b) => a - b);
}

export function readWorkerConfig(env: Env = process.env): WorkerConfig {
  const d = WORKER_DEFAULTS;
  const workerId = readString(env, "WORKER_ID", defaultWorkerId());
  if (/[{}\s]/.test(workerId)) {
    throw new ConfigError("WORKER_ID", workerId, "an id without braces or spaces");
  }
  const queueName = readString(env, "QUEUE_NAME", d.queueName);
  const routes = readList(env, "WORKER_ROUTES");
  const queuePartitions = readQueuePartitions(env);
  return Object.freeze({
    redis: readRedisConnection(env),
    queueName,
    pipeline: readPipeline(env, queueName),
    queuePartitions,
    partitions: readWorkerPartitions(env, queuePartitions),
    routes: routes.length > 0 ? routes : undefined,
    workerId,
    concurrency: readInteger(env, "WORKER_CONCURRENCY", d.concurrency, { min: 1, max: 100_000 }),
    batchSize: readInteger(env, "WORKER_BATCH_SIZE", d.batchSize, { min: 1, max: 5000 }),
    workMs: readInteger(env, "WORKER_WORK_MS", d.workMs, { max: 3_600_000 }),
    maxAttempts: readInteger(env, "MAX_ATTEMPTS", d.maxAttempts, { min: 1, max: 1000 }),
    retryBaseDelayMs: readInteger(env, "RETRY_BASE_DELAY_MS", d.retryBaseDelayMs),
    retryMaxDelayMs: readInteger(env, "RETRY_MAX_DELAY_MS", d.retryMaxDelayMs),
    leaseMs: readInteger(env, "WORKER_LEASE_MS", d.leaseMs, { min: 300 }),
    maxDeliveries: readInteger(env, "MAX_DELIVERIES", d.maxDeliveries, { min: 1, max: 1000 }),
    shutdownGraceMs: readInteger(env, "SHUTDOWN_GRACE_MS", d.shutdownGraceMs),
    blockTimeoutMs: readInteger(env, "WORKER_BLOCK_TIMEOUT_MS", d.blockTimeoutMs, {
      min: 10,
      max: 60_000,
    }),
    handlerModule: readOptionalString(env, "WORKER_HANDLER"),
    logLevel: readLogLevel(env, d.logLevel),
    metricsListen: readOptionalHostPort(env, "METRICS_LISTEN", d.metricsListen),
    metricTypes: readList(env, "ALLOWED_EVENT_TYPES"),
  });
}
