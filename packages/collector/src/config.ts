// Collector configuration: read from the environment once, validated, frozen.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { type Pipeline, readPipeline } from "@eventpipe/pipeline";
import {
  DEFAULT_QUEUE_NAME,
  type Env,
  type LogLevel,
  type RedisConnection,
  readInteger,
  readList,
  readLogLevel,
  readOptionalHostPort,
  readQueuePartitions,
  readRedisConnection,
  readString,
} from "@eventpipe/queue";
import { readTokens, type TokenEntry } from "./auth.js";
import { readTlsFiles, type TlsFiles } from "./tls.js";

export interface EventLimits {
  readonly maxIdBytes: number;
  readonly maxTypeBytes: number;
  readonly maxSourceBytes: number;
  readonly maxPayloadBytes: number;
  readonly maxAttributes: number;
  /** Key plus value, in bytes. */
  readonly maxAttributeBytes: number;
  /** How far ahead of the collector's clock a timestamp may be. */
  readonly maxFutureSkewMs: number;
  /** Empty: every type is allowed. */
  readonly allowedTypes: readonly string[];
}

export interface CollectorConfig {
  /** gRPC host:port; undefined when COLLECTOR_LISTEN is empty (no gRPC). */
  readonly listen: string | undefined;
  /** HTTP host:port; undefined when COLLECTOR_HTTP_LISTEN is empty (no HTTP). */
  readonly httpListen: string | undefined;
  /** host:port of GET /metrics; undefined when METRICS_LISTEN is empty (no metrics). */
  readonly metricsListen: string | undefined;
  /** Replicas that must confirm each write (Redis WAIT) before it is acknowledged; 0: none. */
  readonly waitReplicas: number;
  /** How long one WAIT may take; past it the write is not acknowledged (UNAVAILABLE). */
  readonly waitReplicasTimeoutMs: number;
  readonly redis: RedisConnection;
  /** QUEUE_NAME: the queue of every event when there is no pipeline file. */
  readonly queueName: string;
  /** QUEUE_PARTITIONS: each queue is split into this many partitions (partitions.ts). */
  readonly queuePartitions: number;
  /** The pipeline file (EVENTPIPE_CONFIG): routes by event type to queues. */
  readonly pipeline: Pipeline;
  /** Unique per process: names the channel where the answers to its Calls arrive. */
  readonly collectorId: string;
  /** How long a Call waits for its answer when the caller set no (shorter) deadline. */
  readonly callTimeoutMs: number;
  /** Calls waiting for answers at once, collector-wide. */
  readonly maxWaitingCalls: number;
  /** Most events written to Redis in one script call. */
  readonly chunkSize: number;
  /** Events read from all clients and not yet stored, collector-wide; past it, reads wait. */
  readonly maxBufferedEvents: number;
  readonly dedupWindowMs: number;
  /** Pending events past which ingestion answers RESOURCE_EXHAUSTED (0: no limit). */
  readonly maxBacklog: number;
  readonly retryAfterMs: number;
  readonly maxMessageBytes: number;
  readonly maxConcurrentStreams: number;
  /** A stream that sends nothing for this long is ended with DEADLINE_EXCEEDED. */
  readonly streamIdleTimeoutMs: number;
  /**
   * A gRPC connection this old (plus or minus 10 %) gets a GOAWAY: its clients reconnect and
   * their load balancing sees the collectors that started since. 0: connections live on.
   */
  readonly maxConnectionAgeMs: number;
  /** After that GOAWAY, calls still open may run this long before the connection is cut. */
  readonly maxConnectionAgeGraceMs: number;
  readonly shutdownGraceMs: number;
  readonly healthCheckIntervalMs: number;
  readonly limits: EventLimits;
  /** Empty: no authentication. */
  readonly tokens: readonly TokenEntry[];
  /** Undefined: plaintext. */
  readonly tls: TlsFiles | undefined;
  readonly logLevel: LogLevel;
}

export const COLLECTOR_DEFAULTS = Object.freeze({
  listen: "0.0.0.0:50051",
  httpListen: "0.0.0.0:8080",
  metricsListen: "0.0.0.0:9464",
  waitReplicas: 0,
  waitReplicasTimeoutMs: 2000,
  queueName: DEFAULT_QUEUE_NAME,
  chunkSize: 1000,
  maxBufferedEvents: 20_000,
  dedupWindowSeconds: 86_400,
  maxBacklog: 0,
  callTimeoutMs: 30_000,
  maxWaitingCalls: 10_000,
  retryAfterMs: 1000,
  maxMessageBytes: 4 * 1024 * 1024,
  maxConcurrentStreams: 1000,
  streamIdleTimeoutMs: 60_000,
  maxConnectionAgeMs: 300_000,
  maxConnectionAgeGraceMs: 30_000,
  shutdownGraceMs: 10_000,
  healthCheckIntervalMs: 1000,
  logLevel: "info" as LogLevel,
  limits: Object.freeze({
    maxIdBytes: 128,
    maxTypeBytes: 128,
    maxSourceBytes: 256,
    maxPayloadBytes: 256 * 1024,
    maxAttributes: 64,
    maxAttributeBytes: 1024,
    maxFutureSkewMs: 24 * 60 * 60 * 1000,
    allowedTypes: Object.freeze([]) as readonly string[],
  }),
});

export function readCollectorConfig(env: Env = process.env): CollectorConfig {
  const d = COLLECTOR_DEFAULTS;
  const queueName = readString(env, "QUEUE_NAME", d.queueName);
  return Object.freeze({
    listen: readOptionalHostPort(env, "COLLECTOR_LISTEN", d.listen),
    httpListen: readOptionalHostPort(env, "COLLECTOR_HTTP_LISTEN", d.httpListen),
    metricsListen: readOptionalHostPort(env, "METRICS_LISTEN", d.metricsListen),
    waitReplicas: readInteger(env, "REDIS_WAIT_REPLICAS", d.waitReplicas, { max: 16 }),
    // Below the writer connection's 10 s command timeout, so WAIT answers before it gives up.
    waitReplicasTimeoutMs: readInteger(env, "REDIS_WAIT_TIMEOUT_MS", d.waitReplicasTimeoutMs, {
      min: 1,
      max: 9000,
    }),
    redis: readRedisConnection(env),
    queueName,
    pipeline: readPipeline(env, queueName),
    queuePartitions: readQueuePartitions(env),
    collectorId: readString(
      env,
      "COLLECTOR_ID",
      `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`,
    ),
    callTimeoutMs: readInteger(env, "CALL_TIMEOUT_MS", d.callTimeoutMs, { min: 1, max: 3_600_000 }),
    maxWaitingCalls: readInteger(env, "MAX_WAITING_CALLS", d.maxWaitingCalls, { min: 1 }),
    // The Lua scripts unpack() a chunk's ids in one go; Lua's stack allows about 8,000 values.
    chunkSize: readInteger(env, "COLLECTOR_CHUNK_SIZE", d.chunkSize, { min: 1, max: 4000 }),
    dedupWindowMs:
      readInteger(env, "DEDUP_WINDOW_SECONDS", d.dedupWindowSeconds, { max: 30 * 86_400 }) * 1000,
    maxBufferedEvents: readInteger(env, "COLLECTOR_MAX_BUFFERED_EVENTS", d.maxBufferedEvents, {
      min: 1,
    }),
    maxBacklog: readInteger(env, "MAX_BACKLOG", d.maxBacklog),
    retryAfterMs: readInteger(env, "RETRY_AFTER_MS", d.retryAfterMs, { min: 1, max: 600_000 }),
    maxMessageBytes: readInteger(env, "MAX_MESSAGE_BYTES", d.maxMessageBytes, {
      min: 1024,
      max: 256 * 1024 * 1024,
    }),
    maxConcurrentStreams: readInteger(env, "MAX_CONCURRENT_STREAMS", d.maxConcurrentStreams, {
      min: 1,
    }),
    streamIdleTimeoutMs: readInteger(env, "STREAM_IDLE_TIMEOUT_MS", d.streamIdleTimeoutMs, {
      min: 100,
    }),
    // At most a day: grpc-js adds 10 % jitter and Node timers stop at 2^31-1 ms (24.8 days).
    maxConnectionAgeMs: readInteger(env, "COLLECTOR_MAX_CONNECTION_AGE_MS", d.maxConnectionAgeMs, {
      max: 86_400_000,
    }),
    maxConnectionAgeGraceMs: readInteger(
      env,
      "COLLECTOR_MAX_CONNECTION_AGE_GRACE_MS",
      d.maxConnectionAgeGraceMs,
      { max: 86_400_000 },
    ),
    shutdownGraceMs: readInteger(env, "SHUTDOWN_GRACE_MS", d.shutdownGraceMs),
    healthCheckIntervalMs: readInteger(env, "HEALTH_CHECK_INTERVAL_MS", d.healthCheckIntervalMs, {
      min: 50,
    }),
    limits: Object.freeze({
      ...d.limits,
      maxIdBytes: readInteger(env, "MAX_EVENT_ID_BYTES", d.limits.maxIdBytes, { min: 1 }),
      maxPayloadBytes: readInteger(env, "MAX_PAYLOAD_BYTES", d.limits.maxPayloadBytes),
      maxAttributes: readInteger(env, "MAX_ATTRIBUTES", d.limits.maxAttributes),
      maxFutureSkewMs: readInteger(env, "MAX_FUTURE_SKEW_MS", d.limits.maxFutureSkewMs),
      allowedTypes: Object.freeze([...readList(env, "ALLOWED_EVENT_TYPES")]),
    }),
    tokens: readTokens(env),
    tls: readTlsFiles(env),
    logLevel: readLogLevel(env, d.logLevel),
  });
}
