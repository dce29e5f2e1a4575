// The whole pipeline as people run it: a collector process, worker processes, real gRPC.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import { uniqueQueueName } from "../../../test-support/collector.js";
import {
  RECORDING_HANDLER,
  type ServiceProcess,
  spawnService,
} from "../../../test-support/processes.js";
import { freePort } from "../../../test-support/redis-server.js";
import { readRecords } from "../../faults/src/index.js";
import {
  createEventClient,
  createProducer,
  sampleEvents,
  streamEvents,
} from "../../producer/src/index.js";
import { queueKeys, readQueueStats } from "../../queue/src/index.js";

const redisUrl = inject("redisUrl");
let redis: Redis;
let dir: string;
let processes: ServiceProcess[];

beforeEach(() => {
  redis = new Redis(redisUrl);
  dir = mkdtempSync(join(tmpdir(), "eventpipe-pipeline-"));
  processes = [];
});
afterEach(async () => {
  for (const proc of processes) proc.signal("SIGKILL");
  await Promise.all(processes.map((proc) => proc.exited));
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

function worker(queue: string, id: string, env: Record<string, string> = {}): ServiceProcess {
  const proc = spawnService("worker", {
    REDIS_URL: redisUrl,
    QUEUE_NAME: queue,
    WORKER_ID: id,
    WORKER_HANDLER: RECORDING_HANDLER,
    TEST_RECORD_FILE: join(dir, "processed.log"),
    WORKER_BLOCK_TIMEOUT_MS: "200",
    ...env,
  });
  processes.push(proc);
  return proc;
}

async function collector(queue: string): Promise<string> {
  const port = await freePort();
  const proc = spawnService("collector", {
    REDIS_URL: redisUrl,
    QUEUE_NAME: queue,
    COLLECTOR_LISTEN: `127.0.0.1:${port}`,
    SHUTDOWN_GRACE_MS: "5000",
  });
  processes.push(proc);
  await expect.poll(() => proc.output(), { timeout: 10_000 }).toContain("collector listening");
  return `127.0.0.1:${port}`;
}

describe("pipeline", () => {
  it("processes 10,000 events through a collector and two workers exactly once", async () => {
    const queue = uniqueQueueName("e2e");
    const address = await collector(queue);
    worker(queue, "w1");
    worker(queue, "w2");
    const producer = createProducer({ address });
    for (const event of sampleEvents(10_000)) await producer.send(event);
    const totals = await producer.close();
    expect(totals).toMatchObject({ sent: 10_000, stored: 10_000, duplicates: 0, rejected: 0 });

    const file = join(dir, "processed.log");
    await expect
      .poll(() => readRecords(file).length, { timeout: 30_000, interval: 100 })
      .toBe(10_000);
    const records = readRecords(file);
    expect(new Set(records.map((r) => r.eventId)).size).toBe(10_000);
    expect(new Set(records.map((r) => r.workerId))).toEqual(new Set(["w1", "w2"]));
    await expect
      .poll(async () => (await readQueueStats(redis, queueKeys(queue))).processed, {
        timeout: 5000,
      })
      .toBe(10_000);
    const stats = await readQueueStats(redis, queueKeys(queue));
    expect(stats).toMatchObject({ pending: 0, inFlight: 0, deadLettered: 0 });
    expect(stats.byType).toEqual({ page_view: 5000, user_login: 5000 });
  });

  it("loses nothing when a worker is killed with SIGKILL mid-handler", async () => {
    const queue = uniqueQueueName("kill9");
    const address = await collector(queue);
    const client = createEventClient({ address });
    const events = [...sampleEvents(400)];
    expect((await streamEvents(client, events)).eventsReceived).toBe(400);
    client.close();

    const lease = { WORKER_LEASE_MS: "1000", TEST_WORK_MS: "50", WORKER_CONCURRENCY: "20" };
    const victim = worker(queue, "victim", lease);
    const file = join(dir, "processed.log");
    await expect
      .poll(() => readRecords(file).length, { timeout: 15_000, interval: 20 })
      .toBeGreaterThan(40);
    const inFlightAtKill = (await readQueueStats(redis, queueKeys(queue))).inFlight;
    victim.signal("SIGKILL");
    await victim.exited;
    expect(inFlightAtKill).toBeGreaterThan(0);

    worker(queue, "rescuer", lease);
    await expect
      .poll(() => new Set(readRecords(file).map((r) => r.eventId)).size, {
        timeout: 30_000,
        interval: 100,
      })
      .toBe(400);
    const stats = await readQueueStats(redis, queueKeys(queue));
    expect(stats).toMatchObject({ pending: 0, deadLettered: 0 });
    expect(stats.workers.map((w) => w.id)).toEqual(["rescuer"]);
  });

  it("SIGTERM on a worker finishes its in-flight events and returns the rest", async () => {
    const queue = uniqueQueueName("sigterm-worker");
    const address = await collector(queue);
    const client = createEventClient({ address });
    expect((await streamEvents(client, [...sampleEvents(300)])).eventsReceived).toBe(300);
    client.close();

    const first = worker(queue, "first", { TEST_WORK_MS: "100", WORKER_CONCURRENCY: "20" });
    const file = join(dir, "processed.log");
    await expect
      .poll(() => readRecords(file).length, { timeout: 15_000, interval: 20 })
      .toBeGreaterThan(20);
    first.signal("SIGTERM");
    expect(await first.exited).toBe(0);
    const afterStop = await readQueueStats(redis, queueKeys(queue));
    const done = readRecords(file).length;
    expect(afterStop.inFlight).toBe(0);
    expect(afterStop.processed).toBe(done);
    expect(afterStop.pending).toBe(300 - done);

    worker(queue, "second", { TEST_WORK_MS: "1", WORKER_CONCURRENCY: "50" });
    await expect.poll(() => readRecords(file).length, { timeout: 20_000, interval: 100 }).toBe(300);
    expect(new Set(readRecords(file).map((r) => r.eventId)).size).toBe(300);
  });
});
