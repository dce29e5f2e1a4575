#!/usr/bin/env node
// `pnpm start`: the whole pipeline on one machine, without Docker.
//
// Starts a private redis-server from PATH (data in .eventpipe/redis; skipped when REDIS_URL
// is set), the collector, two workers, then the producer with 10,000 events (COUNT to change
// it). Waits until every event is processed, prints a summary and shuts everything down.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { queueKeys, readQueueStats } from "../packages/queue/dist/index.js";
import {
  freePort,
  redisServerInstalled,
  startRedisServer,
} from "../packages/testkit/dist/index.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const COUNT = Number(process.env.COUNT ?? "10000");
const WORKERS = Number(process.env.WORKERS ?? "2");
const QUEUE = process.env.QUEUE_NAME ?? "event_queue";
const DEADLINE_MS = Number(process.env.RUN_TIMEOUT_MS ?? "300000");
const children = [];
let privateRedis;

function start(name, command, args, env, { inherit = false } = {}) {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: inherit ? ["ignore", "inherit", "inherit"] : ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
    if (output.length > 1_000_000) output = output.slice(-100_000);
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const entry = {
    name,
    child,
    output: () => output,
    exited: new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal))),
  };
  children.push(entry);
  return entry;
}

async function until(what, condition, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100).unref());
  }
}

async function stopAll() {
  // Producers first, then workers and collector (SIGTERM: they drain), Redis last.
  const order = ["producer", "worker", "collector"];
  for (const kind of order) {
    const group = children.filter((c) => c.name.startsWith(kind) && c.child.exitCode === null);
    for (const c of group) c.child.kill("SIGTERM");
    await Promise.race([
      Promise.all(group.map((c) => c.exited)),
      new Promise((resolve) => setTimeout(resolve, 15_000).unref()),
    ]);
    for (const c of group) if (c.child.exitCode === null) c.child.kill("SIGKILL");
  }
  await privateRedis?.stop();
}

async function main() {
  const started = performance.now();
  let redisUrl = process.env.REDIS_URL;
  if (redisUrl === undefined) {
    if (!redisServerInstalled()) {
      console.error(
        "redis-server is not on PATH. Install it (Debian/Ubuntu: sudo apt-get install redis-server;\n" +
          "macOS: brew install redis) or point REDIS_URL at a Redis you have, e.g.\n" +
          "  REDIS_URL=redis://localhost:6379 pnpm start",
      );
      process.exit(1);
    }
    const dir = `${ROOT}.eventpipe/redis`;
    mkdirSync(dir, { recursive: true });
    privateRedis = await startRedisServer({ dir });
    redisUrl = privateRedis.url;
    console.log(
      `redis      private redis-server on 127.0.0.1:${privateRedis.port}, data in .eventpipe/redis`,
    );
  } else {
    console.log(`redis      ${redisUrl.replace(/\/\/[^@/]*@/, "//***@")}`);
  }

  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  redis.on("error", () => {});
  await until(
    "Redis",
    () =>
      redis.ping().then(
        () => true,
        () => false,
      ),
    10_000,
  );
  const keys = queueKeys(QUEUE);
  const before = await readQueueStats(redis, keys);

  const collectorPort = await freePort();
  const collectorAddress = `127.0.0.1:${collectorPort}`;
  const common = {
    REDIS_URL: redisUrl,
    QUEUE_NAME: QUEUE,
    LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
  };
  const collector = start("collector", process.execPath, ["packages/collector/dist/main.js"], {
    ...common,
    COLLECTOR_LISTEN: collectorAddress,
    // The local run streams over gRPC; HTTP only when COLLECTOR_HTTP_LISTEN asks for it.
    COLLECTOR_HTTP_LISTEN: process.env.COLLECTOR_HTTP_LISTEN ?? "",
    METRICS_LISTEN: `127.0.0.1:${await freePort()}`,
  });
  await until("the collector", () => {
    const probe = spawnSync(
      process.execPath,
      ["packages/collector/dist/health-probe.js", collectorAddress],
      { cwd: ROOT },
    );
    if (collector.child.exitCode !== null)
      throw new Error(`collector exited:\n${collector.output()}`);
    return probe.status === 0;
  });
  console.log(`collector  listening on ${collectorAddress}`);

  const run = Date.now().toString(36);
  for (let i = 1; i <= WORKERS; i++) {
    start(`worker-${i}`, process.execPath, ["packages/worker/dist/main.js"], {
      ...common,
      WORKER_ID: `local-${run}-${i}`,
      // Several workers on one host: each serves its metrics on a port of its own.
      METRICS_LISTEN: `127.0.0.1:${await freePort()}`,
    });
  }
  console.log(`workers    ${WORKERS} started`);

  const producerStarted = performance.now();
  const producer = start(
    "producer",
    process.execPath,
    ["packages/producer/dist/main.js", "--count", String(COUNT), "--json"],
    { COLLECTOR_ADDRESS: collectorAddress },
  );
  const producerCode = await producer.exited;
  const produced = JSON.parse(producer.output().trim().split("\n").pop() ?? "{}");
  console.log(
    `producer   sent ${produced.sent}, stored ${produced.stored}, rejected ${produced.rejected} ` +
      `in ${produced.seconds} s (${produced.eventsPerSecond} events/s)`,
  );
  if (producerCode !== 0) throw new Error(`the producer failed: ${producer.output()}`);

  let after = before;
  await until(
    "every event to be processed",
    async () => {
      after = await readQueueStats(redis, keys);
      return (
        after.processed - before.processed >= produced.stored &&
        after.pending === 0 &&
        after.inFlight === 0
      );
    },
    Math.max(10_000, DEADLINE_MS - (performance.now() - started)),
  );
  const seconds = (performance.now() - producerStarted) / 1000;
  const processed = after.processed - before.processed;
  console.log(
    `\nprocessed  ${processed} of ${produced.stored} stored, ${seconds.toFixed(2)} s from the first event sent ` +
      `to the last processed (${Math.round(processed / seconds)} events/s end to end)`,
  );
  for (const worker of after.workers.filter((w) => w.id.startsWith(`local-${run}-`))) {
    console.log(`  ${worker.id.padEnd(24)} ${worker.processed}`);
  }
  console.log("by type");
  for (const [type, count] of Object.entries(after.byType).sort()) {
    const thisRun = count - (before.byType[type] ?? 0);
    if (thisRun > 0) console.log(`  ${type.padEnd(24)} ${thisRun}`);
  }
  console.log(
    `dead-lettered ${after.deadLettered}, pending ${after.pending}, in flight ${after.inFlight}`,
  );
  redis.disconnect();
}

const timer = setTimeout(() => {
  console.error(`run-local: gave up after ${DEADLINE_MS} ms`);
  void stopAll().then(() => process.exit(1));
}, DEADLINE_MS);
process.on("SIGINT", () => void stopAll().then(() => process.exit(130)));
main()
  .then(async () => {
    clearTimeout(timer);
    await stopAll();
    console.log("all stopped cleanly");
  })
  .catch(async (error) => {
    clearTimeout(timer);
    console.error(`run-local: ${error.message}`);
    for (const c of children)
      if (c.name !== "producer") console.error(`--- ${c.name}\n${c.output().slice(-2000)}`);
    await stopAll();
    process.exit(1);
  });
