// The pipeline's own processes as the benchmark starts them against its private Redis (a
// collector, producers sharing a count of events, workers) and the readings every group
// takes: events processed, Redis CPU. Each group flushes Redis with cleanUp when done.
import { queueKeys } from "@eventpipe/queue";
import { type Child, freePort, start, waitForOutput } from "./processes.js";
import type { BenchRedis } from "./redis-server.js";

export const COLLECTOR = "packages/collector/dist/main.js";
export const WORKER = "packages/worker/dist/main.js";
export const PRODUCER = "packages/producer/dist/main.js";
const BATCH = 100;
/** Worker settings for throughput runs: many handlers in flight, big claims. */
export const FAST_WORKER = {
  WORKER_WORK_MS: "0",
  WORKER_CONCURRENCY: "1000",
  WORKER_BATCH_SIZE: "500",
};

export type Rpc = "single" | "batch";

let queueCounter = 0;
export const newQueue = (label: string) => `bench_${label}_${queueCounter++}`;

/** A collector on `queue`; its HTTP door is off unless `http` (then on `httpAddress`). */
export async function startCollector(
  redis: BenchRedis,
  queue: string,
  env: Record<string, string> = {},
  { http = false } = {},
) {
  const port = await freePort();
  const httpAddress = http ? `127.0.0.1:${await freePort()}` : undefined;
  const child = start(COLLECTOR, [], {
    REDIS_URL: redis.url,
    QUEUE_NAME: queue,
    COLLECTOR_LISTEN: `127.0.0.1:${port}`,
    COLLECTOR_HTTP_LISTEN: httpAddress ?? "",
    LOG_LEVEL: "info",
    ...env,
  });
  await waitForOutput(child, "collector listening");
  return { child, address: `127.0.0.1:${port}`, httpAddress };
}

/** Runs `producers` producer processes that share `count` events; resolves the wall time. */
export async function runProducers(
  address: string,
  count: number,
  producers: number,
  rpc: Rpc | "publish",
  extra: string[] = [],
) {
  const started = performance.now();
  const children: Child[] = [];
  for (let i = 0; i < producers; i++) {
    const share = Math.floor(count / producers) + (i < count % producers ? 1 : 0);
    children.push(
      start(
        PRODUCER,
        ["--count", String(share), "--rpc", rpc, "--batch-size", String(BATCH), "--json", ...extra],
        {
          COLLECTOR_ADDRESS: address,
        },
      ),
    );
  }
  const codes = await Promise.all(children.map((c) => c.exited));
  const seconds = (performance.now() - started) / 1000;
  let stored = 0;
  let cpu = 0;
  for (const [i, child] of children.entries()) {
    const summary = JSON.parse(child.output().trim().split("\n").pop() ?? "{}") as {
      stored?: number;
      cpuSeconds?: number;
    };
    stored += summary.stored ?? 0;
    cpu += summary.cpuSeconds ?? 0;
    if (codes[i] !== 0) throw new Error(`producer failed:\n${child.output().slice(-2000)}`);
  }
  return { seconds, stored, cpuSeconds: cpu };
}

export function startWorkers(
  redis: BenchRedis,
  queue: string,
  count: number,
  env: Record<string, string>,
): Child[] {
  return Array.from({ length: count }, (_, i) =>
    start(WORKER, [], {
      REDIS_URL: redis.url,
      QUEUE_NAME: queue,
      WORKER_ID: `${queue}-w${i}`,
      ...env,
    }),
  );
}

export async function processedCount(redis: BenchRedis, queue: string): Promise<number> {
  return Number((await redis.client.hget(queueKeys(queue).stats, "processed")) ?? 0);
}

export async function cleanUp(redis: BenchRedis, children: Child[]): Promise<void> {
  await Promise.all(children.map((c) => c.stop()));
  await redis.client.flushall();
}

/** used_cpu_user + used_cpu_sys of the benchmark's Redis, in seconds. */
export async function redisCpuSeconds(redis: BenchRedis): Promise<number> {
  const info = await redis.client.info("cpu");
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return field("used_cpu_user") + field("used_cpu_sys");
}
