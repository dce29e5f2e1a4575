// createCollector: one process, two doors onto one core. The gRPC door (server.ts) and the
// HTTP door (http/server.ts) share validation, schemas, deduplication, the enqueue and the
// budget of buffered events (core.ts); either door can be turned off. It owns no process
// concerns (env, signals): main.ts wires those. Tests create collectors directly.
import type { ServerCredentials } from "@grpc/grpc-js";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { CollectorConfig } from "./config.js";
import { createIngestCore, type IngestCore } from "./core.js";
import type { HealthMonitor } from "./health.js";
import { createHttpDoor, type HttpDoor } from "./http/server.js";
import { createGrpcDoor, type GrpcDoor } from "./server.js";

export interface CollectorDependencies {
  /** A connection made with connectRedis(..., "writer"): it must fail fast when Redis is down. */
  readonly redis: Redis;
  readonly config: CollectorConfig;
  readonly logger: Logger;
  /** gRPC credentials; default: built from config.tls (plaintext when unset). */
  readonly credentials?: ServerCredentials;
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

export function createCollector({
  redis,
  config,
  logger,
  credentials,
}: CollectorDependencies): Collector {
  const core = createIngestCore(redis, config, logger);
  const grpc: GrpcDoor | undefined =
    config.listen === undefined
      ? undefined
      : createGrpcDoor(core, { config, logger, credentials, caller: core.caller });
  const http: HttpDoor | undefined =
    config.httpListen === undefined ? undefined : createHttpDoor(core, { config, logger });
  let httpPort: number | undefined;
  let closing: Promise<void> | undefined;
  return {
    core,
    health: core.health,
    get httpPort() {
      return httpPort;
    },
    get activeStreams() {
      return (grpc?.activeStreams ?? 0) + (http?.inFlight ?? 0);
    },
    async listen() {
      await core.start();
      const grpcPort = (await grpc?.listen()) ?? 0;
      httpPort = await http?.listen();
      logger.info({ grpc: grpcPort || undefined, http: httpPort }, "collector listening");
      return grpcPort;
    },
    close(graceMs = config.shutdownGraceMs) {
      closing ??= (async () => {
        core.health.stop();
        await Promise.allSettled([grpc?.close(graceMs), http?.close(graceMs)]);
        core.stop();
        logger.info("collector stopped");
      })();
      return closing;
    },
  };
}
