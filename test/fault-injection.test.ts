// Fault injection with real processes and a real redis-server (AOF on): workers and the
// collector are killed with SIGKILL, Redis is killed and restarted, the backlog and Redis's
// memory fill up. Every scenario checks that every acknowledged event is processed and
// reports the counts it checked.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createProducer, type Producer, sampleEvents } from "../packages/producer/src/index.js";
import { decodeEnvelope, queueKeys, readQueueStats } from "../packages/queue/src/index.js";
import { uniqueQueueName } from "../test-support/collector.js";
import {
  RECORDING_HANDLER,
  report,
  type ServiceProcess,
  spawnService,
  startCollectorProcess,
} from "../test-support/processes.js";
import { readRecords } from "../test-support/records.js";
import { freePort, type RedisServer, startRedisServer } from "../test-support/redis-server.js";

let redisServer: RedisServer;
let redis: Redis;
let dir: string;
let processes: ServiceProcess[];
let queue: string;

beforeEach(async () => {
  redisServer = await startRedisServer();
  redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  redis.on("error", () => {});
  dir = mkdtempSync(join(tmpdir(), "eventpipe-faults-"));
  processes = [];
  queue = uniqueQueueName("faults");
});

afterEach(async () => {
  for (const proc of processes) proc.signal("SIGKILL");
  await Promise.all(processes.map((proc) => proc.exited));
  redis.disconnect();
  await redisServer.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const recordFile = () => join(dir, "processed.log");
const uniqueProcessed = () => new Set(readRecords(recordFile()).map((r) => r.eventId)).size;

function startWorker(id: string, env: Record<string, string> = {}): ServiceProcess {
  const proc = spawnService("worker", {
    REDIS_URL: redisServer.url,
    QUEUE_NAME: queue,
    WORKER_ID: id,
    WORKER_HANDLER: RECORDING_HANDLER,
    TEST_RECORD_FILE: recordFile(),
    WORKER_LEASE_MS: "1000",
    WORKER_BLOCK_TIMEOUT_MS: "200",
    LOG_LEVEL: "warn",
    ...env,
  });
  processes.push(proc);
  return proc;
}

async function startCollector(
  port: number,
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  const proc = await startCollectorProcess(port, {
    REDIS_URL: redisServer.url,
    QUEUE_NAME: queue,
    ...env,
  });
  processes.push(proc);
  return proc;
}

/**
 * Sends `count` sample events in the background, at most `perSecond` of them a second when
 * given (so a fault can land while ingestion is still going on); resolves the totals.
 */
function produce(producer: Producer, count: number, perSecond = 0) {
  return (async () => {
    const started = performance.now();
    let sent = 0;
    for (const event of sampleEvents(count)) {
      await producer.send(event);
      if (perSecond > 0 && ++sent % 500 === 0) {
        const ahead = (sent * 1000) / perSecond - (performance.now() - started);
        if (ahead > 0) await new Promise((resolve) => setTimeout(resolve, ahead));
      }
    }
    return producer.close();
  })();
}

describe("fault injection", () => {
  it("kill -9 of workers, again and again, during a 100,000-event run loses nothing", async () => {
    const total = 100_000;
    const port = await freePort();
    await startCollector(port);
    const totals = await produce(
      createProducer({ address: `127.0.0.1:${port}`, batchSize: 500 }),
      total,
    );
    expect(totals).toMatchObject({ sent: total, stored: total });

    const fast = { WORKER_CONCURRENCY: "200", WORKER_BATCH_SIZE: "200" };
    let workers = [startWorker("w-0", fast), startWorker("w-1", fast)];
    let kills = 0;
    // Kill a worker each time another 10,000 events are recorded, six times.
    for (let next = 10_000; kills < 6; next += 10_000) {
      await expect
        .poll(() => readRecords(recordFile()).length, { timeout: 60_000, interval: 50 })
        .toBeGreaterThanOrEqual(next);
      const victim = workers[kills % workers.length]!;
      victim.signal("SIGKILL");
      await victim.exited;
      kills++;
      workers = workers.map((w) => (w === victim ? startWorker(`w-${kills + 1}`, fast) : w));
    }
    await expect.poll(uniqueProcessed, { timeout: 90_000, interval: 250 }).toBe(total);
    const records = readRecords(recordFile());
    const stats = await readQueueStats(redis, queueKeys(queue));
    await expect
      .poll(async () => (await readQueueStats(redis, queueKeys(queue))).pending, {
        timeout: 10_000,
      })
      .toBe(0);
    report("kill -9 workers x6", {
      sent: total,
      stored: totals.stored,
      processed: uniqueProcessed(),
      handlerRuns: records.length,
      duplicates: records.length - total,
      deadLettered: stats.deadLettered,
      requeuedFromKilledWorkers: stats.recovered,
    });
    expect(stats.recovered).toBeGreaterThan(0);
    expect(stats.deadLettered).toBe(0);
  });

  it("kill -9 of the collector mid-stream: the acknowledged producer resends and every event is stored once", async () => {
    const total = 30_000;
    const port = await freePort();
    const first = await startCollector(port);
    const producer = createProducer({
      address: `127.0.0.1:${port}`,
      batchSize: 100,
      maxBatchesInFlight: 64,
    });
    const done = produce(producer, total);
    await expect
      .poll(() => redis.llen(queue), { timeout: 20_000, interval: 10 })
      .toBeGreaterThan(5000);
    first.signal("SIGKILL");
    await first.exited;
    await startCollector(port);
    const totals = await done;

    const stored = (await redis.lrangeBuffer(queue, 0, -1)).map(
      (raw) => decodeEnvelope(raw).stored.event!.eventId,
    );
    report("kill -9 collector mid-stream", {
      sent: totals.sent,
      stored: stored.length,
      uniqueStored: new Set(stored).size,
      acknowledged: totals.stored,
      duplicatesDropped: totals.duplicates,
      reconnects: totals.reconnects,
    });
    expect(totals.reconnects).toBeGreaterThanOrEqual(1);
    expect(totals.stored + totals.duplicates).toBeGreaterThanOrEqual(total);
    expect(stored.length).toBe(total);
    expect(new Set(stored).size).toBe(total);
  });

  it("Redis killed during ingest and processing, then restarted: nothing acknowledged is lost, no restarts needed", async () => {
    const total = 20_000;
    const port = await freePort();
    const collector = await startCollector(port);
    const workers = [
      startWorker("steady-1", { TEST_WORK_MS: "1" }),
      startWorker("steady-2", { TEST_WORK_MS: "1" }),
    ];
    const producer = createProducer({ address: `127.0.0.1:${port}`, batchSize: 100 });
    const done = produce(producer, total, 5000); // about 4 s of ingestion
    await expect
      .poll(() => readRecords(recordFile()).length, { timeout: 20_000, interval: 10 })
      .toBeGreaterThan(2000);
    expect(producer.totals.sent).toBeLessThan(total);

    await redisServer.kill();
    // Down until both sides have noticed: the producer's stream failed and it is retrying.
    await expect
      .poll(() => producer.totals.reconnects, { timeout: 20_000, interval: 20 })
      .toBeGreaterThanOrEqual(1);
    const processedDuringOutage = readRecords(recordFile()).length;
    await redisServer.start();

    const totals = await done;
    await expect.poll(uniqueProcessed, { timeout: 60_000, interval: 250 }).toBe(total);
    const stats = await readQueueStats(redis, queueKeys(queue));
    report("Redis killed and restarted", {
      sent: totals.sent,
      acknowledged: totals.stored,
      duplicatesDropped: totals.duplicates,
      processed: uniqueProcessed(),
      handlerRuns: readRecords(recordFile()).length,
      processedBeforeRestart: processedDuringOutage,
      deadLettered: stats.deadLettered,
      producerReconnects: totals.reconnects,
    });
    expect(totals.stored + totals.duplicates).toBe(total);
    for (const proc of [collector, ...workers]) expect(proc.child.exitCode).toBeNull();
    expect(stats.workers.map((w) => w.id).sort()).toEqual(["steady-1", "steady-2"]);
    expect(stats.deadLettered).toBe(0);
  });

  it("a full backlog makes producers back off; nothing is dropped once workers catch up", async () => {
    const total = 10_000;
    const port = await freePort();
    await startCollector(port, { MAX_BACKLOG: "2000", RETRY_AFTER_MS: "100" });
    const producer = createProducer({ address: `127.0.0.1:${port}`, batchSize: 100 });
    const done = produce(producer, total);
    await expect
      .poll(() => producer.totals.reconnects, { timeout: 20_000, interval: 10 })
      .toBeGreaterThanOrEqual(1);
    const pendingAtLimit = await redis.llen(queue);
    expect(pendingAtLimit).toBeLessThanOrEqual(2000);

    startWorker("drainer", { TEST_WORK_MS: "0" });
    const totals = await done;
    await expect.poll(uniqueProcessed, { timeout: 60_000, interval: 250 }).toBe(total);
    report("backlog limit", {
      sent: totals.sent,
      stored: totals.stored,
      duplicatesDropped: totals.duplicates,
      processed: uniqueProcessed(),
      pendingAtLimit,
      backoffs: totals.reconnects,
    });
    expect(totals.stored + totals.duplicates).toBe(total);
  });

  it("Redis at maxmemory refuses writes as RESOURCE_EXHAUSTED; workers still drain it and nothing is dropped", async () => {
    await redis.config("SET", "maxmemory", String(4 * 1024 * 1024));
    const total = 40_000;
    const port = await freePort();
    // The dedup window's id markers take memory too and would keep Redis full after the queue
    // drained; a refused script stores nothing, so resends cannot duplicate here anyway.
    await startCollector(port, { RETRY_AFTER_MS: "100", DEDUP_WINDOW_SECONDS: "0" });
    const producer = createProducer({ address: `127.0.0.1:${port}`, batchSize: 200 });
    const done = produce(producer, total);
    await expect
      .poll(() => producer.totals.reconnects, { timeout: 20_000, interval: 10 })
      .toBeGreaterThanOrEqual(1);
    const pendingWhenFull = await redis.llen(queue);

    startWorker("drainer", { TEST_WORK_MS: "0", WORKER_CONCURRENCY: "200" });
    const totals = await done;
    await expect.poll(uniqueProcessed, { timeout: 60_000, interval: 250 }).toBe(total);
    report("Redis at maxmemory", {
      sent: totals.sent,
      stored: totals.stored,
      duplicatesDropped: totals.duplicates,
      processed: uniqueProcessed(),
      pendingWhenFull,
      backoffs: totals.reconnects,
    });
    expect(totals.stored + totals.duplicates).toBe(total);
  });
});
