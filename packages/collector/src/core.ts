// The collector's core, shared by its two doors (gRPC and HTTP): validation against the limits
// and the registered schemas, deduplication and the atomic enqueue (ingest.ts), the
// collector-wide budget of buffered events, Redis health, and the schema registry.
import { once } from "node:events";
import { setTimeout as delay } from "node:timers/promises";
import {
  createSchemaRegistry,
  createSchemaValidators,
  type SchemaRegistry,
  type SchemaValidators,
} from "@eventpipe/schemas";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { type Caller, createCaller } from "./call/caller.js";
import { createReplyListener } from "./call/replies.js";
import type { CollectorConfig } from "./config.js";
import { EventBudget } from "./event-budget.js";
import { createHealthMonitor, type HealthMonitor } from "./health.js";
import { type ChunkWriter, createChunkWriter } from "./ingest.js";
import type { CollectorMetrics } from "./metrics.js";
import { createQueueLayout } from "./queue-layout.js";
import { createRoutedStores } from "./routing.js";

/** How often each collector looks for schemas registered through another one. */
const SCHEMA_REFRESH_MS = 500;
/** How long start() waits for Redis before the first load; later loads keep trying. */
const READY_WAIT_MS = 5000;

export interface IngestCore {
  /** Validates and stores events; see ChunkWriter for what it throws. */
  readonly writer: ChunkWriter;
  /** The writer as one RPC or HTTP route uses it: counted under its name in the metrics. */
  writerFor(rpc: string): ChunkWriter;
  /** Bounds the events read from all clients and not yet stored. */
  readonly budget: EventBudget;
  /** Redis answers (the gRPC health service and /readyz report it). */
  readonly health: HealthMonitor;
  readonly schemas: SchemaRegistry;
  readonly validators: SchemaValidators;
  /** Request and reply: stores one event and waits for its processor's answer. */
  readonly caller: Caller;
  /** Loads the registered schemas and keeps them fresh. */
  start(): Promise<void>;
  /** Stops the background refreshes and reports NOT_SERVING from now on. Idempotent. */
  stop(): void;
}

export function createIngestCore(
  redis: Redis,
  config: CollectorConfig,
  logger: Logger,
  metrics?: CollectorMetrics,
): IngestCore {
  const schemas = createSchemaRegistry(redis);
  const validators = createSchemaValidators(schemas);
  const health = createHealthMonitor(redis, config.healthCheckIntervalMs, logger);
  const layout = createQueueLayout(redis, config, logger);
  const writer = createChunkWriter(
    redis,
    createRoutedStores(redis, config.pipeline, config.queuePartitions, metrics?.instrumentEnqueuer),
    config,
    validators,
    layout,
  );
  const writers = new Map<string, ChunkWriter>();
  const writerFor = (rpc: string) => {
    let instrumented = writers.get(rpc);
    if (instrumented === undefined) {
      instrumented = metrics === undefined ? writer : metrics.instrumentWriter(writer, rpc);
      writers.set(rpc, instrumented);
    }
    return instrumented;
  };
  const replies = createReplyListener(redis, config.collectorId, logger);
  return {
    writer,
    writerFor,
    caller: createCaller({ writer: writerFor("Call") }, replies, config.maxWaitingCalls),
    budget: new EventBudget(config.maxBufferedEvents),
    health,
    schemas,
    validators,
    async start() {
      // The first load waits a moment for the connection (it has no offline queue); events
      // are refused with UNAVAILABLE until a load succeeds (see ingest.ts).
      if (redis.status !== "ready") {
        await once(redis, "ready", { signal: AbortSignal.timeout(READY_WAIT_MS) }).catch(() => {});
      }
      await layout.start();
      await validators.start(SCHEMA_REFRESH_MS, (error) =>
        logger.warn({ err: (error as Error).message }, "refreshing schemas failed"),
      );
      // Calls need the reply channel before their events are stored. Without Redis the
      // subscription waits for it, calls are refused meanwhile (UNAVAILABLE), and start goes on.
      const subscribed = replies
        .start()
        .catch((error: unknown) =>
          logger.warn({ err: (error as Error).message }, "subscribing to call replies failed"),
        );
      await Promise.race([subscribed, delay(READY_WAIT_MS, undefined, { ref: false })]);
    },
    stop() {
      layout.stop();
      replies.close();
      validators.close();
      health.stop();
    },
  };
}
