// One function per measurement. Each starts the processes it needs against the private
// Redis, measures with the wall clock, stops them and flushes Redis.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { queueKeys } from "@eventpipe/queue";
import {
  cleanUp,
  FAST_WORKER,
  newQueue,
  processedCount,
  type Rpc,
  redisCpuSeconds,
  runProducers,
  startCollector,
  startWorkers,
} from "./bench-services.js";
import {
  cpuSeconds,
  freePort,
  peakRssMiB,
  ROOT,
  rssMiB,
  start,
  until,
  waitForOutput,
} from "./processes.js";
import type { BenchRedis } from "./redis-server.js";

const SINK = "packages/bench/dist/sink-server.js";
const LATENCY_HANDLER = `${ROOT}packages/bench/dist/latency-handler.js`;
const LIMIT_MS = 600_000;

/** The grpc-js ceiling: the producer against a server that only counts. */
export async function sinkCeiling(
  redis: BenchRedis,
  events: number,
  rpc: Rpc,
  producers: number,
): Promise<number> {
  const port = await freePort();
  const sink = start(SINK, [String(port)], {});
  await waitForOutput(sink, "sink listening");
  const { seconds, stored } = await runProducers(`127.0.0.1:${port}`, events, producers, rpc);
  await cleanUp(redis, [sink]);
  if (stored !== events) throw new Error(`sink counted ${stored} of ${events}`);
  return events / seconds;
}

export interface IngestFigures {
  readonly perSecond: number;
  /** Redis memory the dedup window's id markers take, per event (0 with dedup off). */
  readonly dedupBytesPerEvent: number;
  /** CPU microseconds per event spent by each process. */
  readonly cpuMicros: {
    readonly collector: number;
    readonly redis: number;
    readonly producers: number;
  };
}

export interface IngestOptions {
  readonly collectorEnv?: Record<string, string>;
  /** Extra producer CLI arguments, e.g. ["--payload", "json"]. */
  readonly producerArgs?: readonly string[];
  /** Runs once the collector listens, before the timed producers (not timed); what it
   * queues is not counted. */
  readonly beforeRun?: (address: string) => Promise<void>;
}

/** Producer -> collector -> Redis, every event acknowledged. */
export async function ingest(
  redis: BenchRedis,
  events: number,
  rpc: Rpc,
  producers: number,
  { collectorEnv = {}, producerArgs = [], beforeRun }: IngestOptions = {},
): Promise<IngestFigures> {
  const queue = newQueue("ingest");
  const { child, address } = await startCollector(redis, queue, collectorEnv);
  await beforeRun?.(address);
  const queuedBefore = await redis.client.llen(queue);
  const collectorBefore = cpuSeconds(child.child.pid!);
  const redisBefore = await redisCpuSeconds(redis);
  const run = await runProducers(address, events, producers, rpc, [...producerArgs]);
  const collectorCpu = cpuSeconds(child.child.pid!) - collectorBefore;
  const redisCpu = (await redisCpuSeconds(redis)) - redisBefore;
  const length = (await redis.client.llen(queue)) - queuedBefore;
  const keys = queueKeys(queue);
  let dedupBytes = 0;
  for (const key of [keys.seenEven, keys.seenOdd]) {
    dedupBytes += Number((await redis.client.memory("USAGE", key, "SAMPLES", 0)) ?? 0);
  }
  await cleanUp(redis, [child]);
  if (run.stored !== events || length !== events) {
    throw new Error(`stored ${run.stored}, queued ${length} of ${events}`);
  }
  const micros = (seconds: number) => (seconds * 1e6) / events;
  return {
    perSecond: events / run.seconds,
    dedupBytesPerEvent: dedupBytes / events,
    cpuMicros: {
      collector: micros(collectorCpu),
      redis: micros(redisCpu),
      producers: micros(run.cpuSeconds),
    },
  };
}

/** Queues `events` through the real collector (not timed). */
async function fill(redis: BenchRedis, queue: string, events: number): Promise<void> {
  const { child, address } = await startCollector(redis, queue);
  await runProducers(address, events, 1, "batch");
  await child.stop();
}

/** `events` already queued, no-op handler: time until the workers processed them all. */
export async function drain(redis: BenchRedis, events: number, workers: number): Promise<number> {
  const queue = newQueue("drain");
  await fill(redis, queue, events);
  const started = performance.now();
  const children = startWorkers(redis, queue, workers, FAST_WORKER);
  await until("the drain", async () => (await processedCount(redis, queue)) >= events, LIMIT_MS);
  const seconds = (performance.now() - started) / 1000;
  await cleanUp(redis, children);
  return events / seconds;
}

/** 10,000 events whose handler awaits 50 ms each, one worker: wall seconds. */
export async function ioBound(redis: BenchRedis, events = 10_000): Promise<number> {
  const queue = newQueue("io");
  await fill(redis, queue, events);
  const started = performance.now();
  const children = startWorkers(redis, queue, 1, {
    WORKER_WORK_MS: "50",
    WORKER_CONCURRENCY: "1000",
    WORKER_BATCH_SIZE: "500",
  });
  await until(
    "the I/O-bound run",
    async () => (await processedCount(redis, queue)) >= events,
    LIMIT_MS,
  );
  const seconds = (performance.now() - started) / 1000;
  await cleanUp(redis, children);
  return seconds;
}

/** From the producer's start until the workers acknowledged the last event. */
export async function endToEnd(
  redis: BenchRedis,
  events: number,
  workers: number,
): Promise<number> {
  const queue = newQueue("e2e");
  const { child, address } = await startCollector(redis, queue);
  const children = startWorkers(redis, queue, workers, FAST_WORKER);
  await until(
    "workers",
    async () => (await redis.client.zcard(queueKeys(queue).workers)) === workers,
    15_000,
  );
  const started = performance.now();
  await runProducers(address, events, 1, "batch");
  await until("end to end", async () => (await processedCount(redis, queue)) >= events, LIMIT_MS);
  const seconds = (performance.now() - started) / 1000;
  await cleanUp(redis, [child, ...children]);
  return events / seconds;
}

/** A collector's RSS when idle and its peak while `producers` stream at once, in MiB. */
export async function collectorMemory(
  redis: BenchRedis,
  events: number,
  producers: number,
  nodeOptions?: string,
): Promise<{ idle: number; peak: number }> {
  const queue = newQueue("rss");
  const { child, address } = await startCollector(
    redis,
    queue,
    nodeOptions === undefined ? {} : { NODE_OPTIONS: nodeOptions },
  );
  const idle = rssMiB(child.child.pid!);
  await runProducers(address, events, producers, "batch");
  const peak = peakRssMiB(child.child.pid!);
  await cleanUp(redis, [child]);
  return { idle, peak };
}

/** Enqueue-to-handler-start latency at an offered rate, one worker. */
export async function latency(redis: BenchRedis, perSecond: number, seconds: number) {
  const queue = newQueue("latency");
  const dir = mkdtempSync(join(tmpdir(), "eventpipe-latency-"));
  const out = join(dir, "latency.json");
  const { child, address } = await startCollector(redis, queue);
  const [worker] = startWorkers(redis, queue, 1, {
    WORKER_HANDLER: LATENCY_HANDLER,
    LATENCY_OUT: out,
  });
  await until(
    "the worker",
    async () => (await redis.client.zcard(queueKeys(queue).workers)) === 1,
    15_000,
  );
  const events = perSecond * seconds;
  await runProducers(address, events, 1, "publish", ["--rate", String(perSecond)]);
  await until(
    "the latency run",
    async () => (await processedCount(redis, queue)) >= events,
    LIMIT_MS,
  );
  await cleanUp(redis, [child, worker!]);
  const result = JSON.parse(readFileSync(out, "utf8")) as {
    count: number;
    p50: number;
    p99: number;
    max: number;
    loopDelayP99Ms: number;
  };
  rmSync(dir, { recursive: true, force: true });
  return result;
}

/** redis-benchmark with pipelining, when it is installed: requests/s for LPUSH and RPOP. */
export function redisBenchmark(port: number): { lpush: number; rpop: number } | undefined {
  const run = spawnSync(
    "redis-benchmark",
    ["-h", "127.0.0.1", "-p", String(port), "-t", "lpush,rpop", "-P", "100", "-n", "2000000", "-q"],
    { encoding: "utf8", timeout: 120_000 },
  );
  if (run.error || run.status !== 0) return undefined;
  const rate = (name: string) =>
    Number(
      new RegExp(`${name}: ([\\d.]+) requests per second`).exec(run.stdout)?.[1] ?? Number.NaN,
    );
  return { lpush: rate("LPUSH"), rpop: rate("RPOP") };
}
