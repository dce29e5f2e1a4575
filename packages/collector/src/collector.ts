// createCollector: one process, two doors onto one core. The gRPC door (server.ts) and the
// HTTP door (http/server.ts) share validation, schemas, deduplication, the enqueue and the
// budget of buffered events (core.ts); either door can be turned off. It owns no process
// concerns (env, signals): main.ts wires those. Tests create collectors directly.
import { forgetCollector, reportCollector } from "@eventpipe/queue";
import type { ServerCredentials } from "@grpc/grpc-js";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { CollectorConfig } from "./config.js";
import { createIngestCore, type IngestCore } from "./core.js";
import type { HealthMonitor } from "./health.js";
import { createHttpDoor, type HttpDoor } from "./http/server.js";
import type { CollectorMetrics } from "./metrics.js";
import { createGrpcDoor, type GrpcDoor } from "./server.js";

export interface CollectorDependencies {
  /** A connection made with connectRedis(..., "writer"): it must fail fast when Redis is down. */
  readonly redis: Redis;
  readonly config: CollectorConfig;
  readonly logger: Logger;
  /** gRPC credentials; default: built from config.tls (plaintext when unset). */
  readonly credentials?: ServerCredentials;
  /** Prometheus metrics to count into; none when omitted. */
  readonly metrics?: CollectorMetrics;
}

export interface Collector {
  /**
   * Loads the registered schemas, then binds each configured door (port 0 picks a free one);
   * resolves the gRPC port (0 when gRPC is off). `httpPort` is set once it resolves.
   */
  listen(): Promise<number>;
  readonly httpPort: number | undefined;
  readonly health: HealthMonitor;
  readonly core: IngestCore;
  /** gRPC streams and HTTP requests being served right now. */
  readonly activeStreams: number;
  /**
   * Stops accepting, lets what is in flight finish for up to the grace period, then ends the
   * rest with UNAVAILABLE (503) and what each stored. Idempotent. Does not close the Redis
   * connection, which the caller owns.
   */
  close(graceMs?: number): Promise<void>;
}

/** How often the collector reports its streams in Redis (`pnpm top`). */
const REPORT_INTERVAL_MS = 1000;

export function createCollector({
  redis,
  config,
  logger,
  credentials,
  metrics,
}: CollectorDependencies): Collector {
  const core = createIngestCore(redis, config, logger, metrics);
  const grpc: GrpcDoor | undefined =
    config.listen === undefined
      ? undefined
      : createGrpcDoor(core, { config, logger, credentials, caller: core.caller });
  const http: HttpDoor | undefined =
    config.httpListen === undefined ? undefined : createHttpDoor(core, { config, logger });
  let httpPort: number | undefined;
  let closing: Promise<void> | undefined;
  let reporting: NodeJS.Timeout | undefined;
  const activeStreams = () => (grpc?.activeStreams ?? 0) + (http?.inFlight ?? 0);
  metrics?.watch(redis, config.pipeline, () => ({
    streams: activeStreams(),
    buffered: core.budget.inUse,
  }));
  const report = () =>
    reportCollector(redis, {
      id: config.collectorId,
      streams: activeStreams(),
      buffered: core.budget.inUse,
      received: core.writer.totals.received,
      accepted: core.writer.totals.accepted,
      atMs: Date.now(),
    }).catch(() => undefined); // Redis away: health says so; the report waits for it.
  return {
    core,
    health: core.health,
    get httpPort() {
      return httpPort;
    },
    get activeStreams() {
      return activeStreams();
    },
    async listen() {
      await core.start();
      const grpcPort = (await grpc?.listen()) ?? 0;
      httpPort = await http?.listen();
      reporting = setInterval(report, REPORT_INTERVAL_MS);
      reporting.unref();
      logger.info({ grpc: grpcPort || undefined, http: httpPort }, "collector listening");
      return grpcPort;
    },
    close(graceMs = config.shutdownGraceMs) {
      closing ??= (async () => {
        core.health.stop();
        clearInterval(reporting);
        await Promise.allSettled([grpc?.close(graceMs), http?.close(graceMs)]);
        await forgetCollector(redis, config.collectorId).catch(() => undefined);
        core.stop();
        logger.info("collector stopped");
      })();
      return closing;
    },
  };
}
