// grpc.health.v1 for the collector. The status follows Redis: SERVING while the write
// connection is ready and answers PING, NOT_SERVING otherwise and once shutdown has begun.
import { HealthCheckResponse, type HealthServer, ServingStatus } from "@eventpipe/proto";
import { type ServerWritableStream, status } from "@grpc/grpc-js";
import type { Redis } from "ioredis";
import type { Logger } from "pino";

/** The services this health endpoint answers for: "" is the whole server. */
const SERVICES = new Set(["", "event.EventService"]);

export interface HealthMonitor {
  readonly implementation: HealthServer;
  readonly serving: boolean;
  /** Stops reporting SERVING for good (shutdown). */
  stop(): void;
}

export function createHealthMonitor(
  redis: Redis,
  intervalMs: number,
  logger: Logger,
): HealthMonitor {
  let current = ServingStatus.NOT_SERVING;
  let stopped = false;
  const watchers = new Set<ServerWritableStream<unknown, HealthCheckResponse>>();

  const set = (next: ServingStatus) => {
    if (stopped && next === ServingStatus.SERVING) return;
    if (next === current) return;
    current = next;
    logger.info({ status: ServingStatus[next] }, "health changed");
    for (const watcher of watchers)
      watcher.write(HealthCheckResponse.fromPartial({ status: next }));
  };

  let probing = false;
  const probe = async () => {
    if (probing) return;
    probing = true;
    try {
      // The writer connection has no offline queue: PING fails at once while disconnected.
      await redis.ping();
      set(ServingStatus.SERVING);
    } catch {
      set(ServingStatus.NOT_SERVING);
    } finally {
      probing = false;
    }
  };
  const onDown = () => set(ServingStatus.NOT_SERVING);
  const onReady = () => void probe();
  redis.on("close", onDown);
  redis.on("ready", onReady);
  const timer = setInterval(() => void probe(), intervalMs);
  timer.unref();
  void probe();

  const implementation: HealthServer = {
    check(call, callback) {
      if (!SERVICES.has(call.request.service)) {
        callback({ code: status.NOT_FOUND, details: `unknown service "${call.request.service}"` });
        return;
      }
      callback(null, HealthCheckResponse.fromPartial({ status: current }));
    },
    watch(call) {
      const known = SERVICES.has(call.request.service);
      call.write(
        HealthCheckResponse.fromPartial({
          status: known ? current : ServingStatus.SERVICE_UNKNOWN,
        }),
      );
      if (!known) return;
      watchers.add(call);
      call.on("cancelled", () => watchers.delete(call));
      call.on("close", () => watchers.delete(call));
    },
  };

  return {
    implementation,
    get serving() {
      return current === ServingStatus.SERVING;
    },
    stop() {
      if (stopped) return;
      set(ServingStatus.NOT_SERVING);
      stopped = true;
      clearInterval(timer);
      redis.off("close", onDown);
      redis.off("ready", onReady);
      for (const watcher of watchers) watcher.end();
      watchers.clear();
    },
  };
}
