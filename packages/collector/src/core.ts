// The collector's core, shared by its two doors (gRPC and HTTP): validation against the limits
// and the registered schemas, deduplication and the atomic enqueue (ingest.ts), the
// collector-wide budget of buffered events, Redis health, and the schema registry.
import { once } from "node:events";
import { createQueueStore, queueKeys } from "@eventpipe/queue";
import {
  createSchemaRegistry,
  createSchemaValidators,
  type SchemaRegistry,
  type SchemaValidators,
} from "@eventpipe/schemas";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { CollectorConfig } from "./config.js";
import { EventBudget } from "./event-budget.js";
import { createHealthMonitor, type HealthMonitor } from "./health.js";
import { type ChunkWriter, createChunkWriter } from "./ingest.js";

/** How often each collector looks for schemas registered through another one. */
const SCHEMA_REFRESH_MS = 500;
/** How long start() waits for Redis before the first load; later loads keep trying. */
const READY_WAIT_MS = 5000;

export interface IngestCore {
  /** Validates and stores events; see ChunkWriter for what it throws. */
  readonly writer: ChunkWriter;
  /** Bounds the events read from all clients and not yet stored. */
  readonly budget: EventBudget;
  /** Redis answers (the gRPC health service and /readyz report it). */
  readonly health: HealthMonitor;
  readonly schemas: SchemaRegistry;
  readonly validators: SchemaValidators;
  /** Loads the registered schemas and keeps them fresh. */
  start(): Promise<void>;
  /** Stops the background refreshes and reports NOT_SERVING from now on. Idempotent. */
  stop(): void;
}

export function createIngestCore(
  redis: Redis,
  config: CollectorConfig,
  logger: Logger,
): IngestCore {
  const schemas = createSchemaRegistry(redis);
  const validators = createSchemaValidators(schemas);
  const store = createQueueStore(redis, queueKeys(config.queueName));
  const health = createHealthMonitor(redis, config.healthCheckIntervalMs, logger);
  return {
    writer: createChunkWriter(redis, store, config, validators),
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
      await validators.start(SCHEMA_REFRESH_MS, (error) =>
        logger.warn({ err: (error as Error).message }, "refreshing schemas failed"),
      );
    },
    stop() {
      validators.close();
      health.stop();
    },
  };
}
