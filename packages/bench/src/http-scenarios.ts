// The HTTP door against its ceiling: the same load generator (http-load.ts) POSTs JSON batches
// to a no-op fastify server (http-sink-server.ts) and to the collector's HTTP door.
import { queueKeys } from "@eventpipe/queue";
import { cleanUp, newQueue, redisCpuSeconds, startCollector } from "./bench-services.js";
import { type Child, cpuSeconds, freePort, start, waitForOutput } from "./processes.js";
import type { BenchRedis } from "./redis-server.js";

const HTTP_SINK = "packages/bench/dist/http-sink-server.js";
const HTTP_LOAD = "packages/bench/dist/http-load.js";
export const HTTP_BATCH = 100;
/** Requests in flight, one keep-alive connection each; the same for both targets. */
export const HTTP_IN_FLIGHT = 16;

interface LoadRun {
  readonly seconds: number;
  readonly cpuSeconds: number;
}

/** One http-load process sending `events` to `address`; throws unless every event was accepted. */
async function runHttpLoad(address: string, events: number): Promise<LoadRun> {
  const load: Child = start(
    HTTP_LOAD,
    [
      "--url",
      `http://${address}/v1/events`,
      "--count",
      String(events),
      "--batch-size",
      String(HTTP_BATCH),
      "--in-flight",
      String(HTTP_IN_FLIGHT),
    ],
    {},
  );
  const code = await load.exited;
  if (code !== 0) throw new Error(`http load failed:\n${load.output().slice(-2000)}`);
  const summary = JSON.parse(load.output().trim().split("\n").pop() ?? "{}") as {
    accepted?: number;
    seconds?: number;
    cpuSeconds?: number;
  };
  if (summary.accepted !== events || !summary.seconds) {
    throw new Error(`http load: unexpected summary:\n${load.output().slice(-2000)}`);
  }
  return { seconds: summary.seconds, cpuSeconds: summary.cpuSeconds ?? 0 };
}

/** The fastify ceiling: the load generator against a server that only parses and counts. */
export async function httpSinkCeiling(redis: BenchRedis, events: number): Promise<number> {
  const port = await freePort();
  const sink = start(HTTP_SINK, [String(port)], {});
  await waitForOutput(sink, "http sink listening");
  const run = await runHttpLoad(`127.0.0.1:${port}`, events);
  await cleanUp(redis, [sink]);
  return events / run.seconds;
}

export interface HttpIngestFigures {
  readonly perSecond: number;
  /** CPU microseconds per event spent by each process. */
  readonly cpuMicros: { readonly collector: number; readonly redis: number; readonly load: number };
}

/** Load generator -> collector's HTTP door -> Redis, deduplication on, every event queued. */
export async function httpIngest(redis: BenchRedis, events: number): Promise<HttpIngestFigures> {
  const queue = newQueue("http");
  const { child, httpAddress } = await startCollector(redis, queue, {}, { http: true });
  const collectorBefore = cpuSeconds(child.child.pid!);
  const redisBefore = await redisCpuSeconds(redis);
  const run = await runHttpLoad(httpAddress!, events);
  const collectorCpu = cpuSeconds(child.child.pid!) - collectorBefore;
  const redisCpu = (await redisCpuSeconds(redis)) - redisBefore;
  const length = await redis.client.llen(queueKeys(queue).pending);
  await cleanUp(redis, [child]);
  if (length !== events) throw new Error(`the HTTP door queued ${length} of ${events} events`);
  const micros = (seconds: number) => (seconds * 1e6) / events;
  return {
    perSecond: events / run.seconds,
    cpuMicros: {
      collector: micros(collectorCpu),
      redis: micros(redisCpu),
      load: micros(run.cpuSeconds),
    },
  };
}
