// What JSON Schema validation costs the gRPC batch ingest: the same run (1 producer, batches
// of 100, deduplication on, JSON payloads from `producer --payload json`) with a schema
// registered for both sample types, and with none. Schemas live in the shared Redis, so each
// run starts from the flushed Redis the previous scenario left and flushes it again.
import { SAMPLE_EVENT_TYPES } from "@eventpipe/producer";
import { createSchemaRegistry } from "@eventpipe/schemas";
import { PRODUCER } from "./bench-services.js";
import { start, until } from "./processes.js";
import type { BenchRedis } from "./redis-server.js";
import { type IngestFigures, ingest } from "./scenarios.js";

const PROBE_LIMIT_MS = 10_000;

/** Fits every payload of `producer --payload json`: {"user":"u<i>","path":"/p/<i>","n":<i>}. */
export const SAMPLE_PAYLOAD_SCHEMA = Object.freeze({
  type: "object",
  properties: {
    user: { type: "string", minLength: 1, maxLength: 64 },
    path: { type: "string", maxLength: 256 },
    n: { type: "integer", minimum: 0 },
  },
  required: ["user"],
});

/**
 * Waits until two events with empty payloads (one of each type) are rejected: proof that the
 * collector enforces the schemas, so the timed run measures validation and not a missed
 * registration. A collector may serve before its first schema load succeeds (that load can
 * race the Redis connection), so this polls; events stored meanwhile are not counted.
 */
async function expectSchemaRejections(address: string): Promise<void> {
  let last = "";
  try {
    await until(
      "the collector to enforce the registered schemas",
      async () => {
        const probe = start(PRODUCER, ["--count", "2", "--rpc", "batch", "--json"], {
          COLLECTOR_ADDRESS: address,
        });
        const code = await probe.exited;
        last = probe.output();
        const summary = JSON.parse(last.trim().split("\n").pop() ?? "{}") as {
          rejected?: number;
        };
        return code !== 0 && summary.rejected === 2;
      },
      PROBE_LIMIT_MS,
      100,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; the last probe said:\n${last.slice(-2000)}`);
  }
}

export async function schemaIngest(
  redis: BenchRedis,
  events: number,
  schemas: boolean,
): Promise<IngestFigures> {
  const registry = createSchemaRegistry(redis.client);
  if (schemas) {
    // Before the collector starts: it loads the registered schemas once at start.
    for (const type of SAMPLE_EVENT_TYPES) await registry.register(type, SAMPLE_PAYLOAD_SCHEMA);
  } else if ((await registry.listTypes()).length > 0) {
    throw new Error("schemas are registered in the bench's Redis; the no-schema run needs none");
  }
  return ingest(redis, events, "batch", 1, {
    producerArgs: ["--payload", "json"],
    beforeRun: schemas ? expectSchemaRejections : undefined,
  });
}
