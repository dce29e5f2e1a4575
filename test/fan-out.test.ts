// Fan-out end to end: one route stores every event in two queues, each served by its own
// worker process; each queue gets every event once, by id, though one of its workers is
// killed mid-run; a resent batch adds no copies; a Redis at maxmemory stores no copy at all.
import { join } from "node:path";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { RECORDING_HANDLER, readRecords } from "../packages/faults/src/index.js";
import { newEvent } from "../packages/producer/src/index.js";
import { decodeEnvelope, queueKeys, readQueueStats } from "../packages/queue/src/index.js";
import { startTestCollector } from "../test-support/collector.js";
import { repeated, usePipelineRun } from "../test-support/pipeline-run.js";
import { startRedisServer } from "../test-support/redis-server.js";

const run = usePipelineRun();

function fanOutPipeline(billing: string, audit: string, other: string, handler: string): string {
  return `routes:
  - { name: orders, types: ["order.*"], queues: [${billing}, ${audit}] }
  - { name: default, types: ["*"], queue: ${other} }
processors:
  - { route: orders, queue: ${billing}, module: ${JSON.stringify(handler)} }
  - { route: orders, queue: ${audit}, module: ${JSON.stringify(handler)} }
`;
}

describe("fan-out", () => {
  it("stores each event of the route in both queues; each queue's worker handles every id, a killed worker's events go to its successor", async () => {
    const r = run();
    const billing = r.queueName("billing");
    const audit = r.queueName("audit");
    const file = r.writePipeline(
      "fan-out.yaml",
      fanOutPipeline(billing, audit, r.queueName("other"), RECORDING_HANDLER),
    );
    const billingRecord = join(r.dir, "billing.log");
    const auditRecord = join(r.dir, "audit.log");
    // A short lease, so the successor takes the killed worker's events back within the test.
    const auditEnv = {
      WORKER_ROUTES: audit,
      TEST_RECORD_FILE: auditRecord,
      TEST_WORK_MS: "2",
      WORKER_LEASE_MS: "1500",
    };
    const [{ address }, , auditWorker] = await Promise.all([
      r.startCollector(file),
      r.startWorker("billing-worker", file, {
        WORKER_ROUTES: billing,
        TEST_RECORD_FILE: billingRecord,
        TEST_WORK_MS: "1",
      }),
      r.startWorker("audit-worker-1", file, auditEnv),
    ]);

    const total = 5000;
    const events = Array.from({ length: total }, (_, i) =>
      newEvent(i % 2 ? "order.created" : "order.paid", { source: "fan-out.test" }),
    );
    const sending = r.send(address, events);
    await r.until("the audit worker is part-way through", () => {
      const handled = readRecords(auditRecord).length;
      return handled >= 500 && handled < total;
    });
    auditWorker.signal("SIGKILL");
    await auditWorker.exited;
    await r.startWorker("audit-worker-2", file, auditEnv);

    const sent = await sending;
    expect(sent.acknowledged).toEqual(new Set(sent.sent));
    await Promise.all([r.waitUntilDrained(billing, 60_000), r.waitUntilDrained(audit, 60_000)]);

    const billingIds = readRecords(billingRecord).map((record) => record.eventId);
    const auditRuns = readRecords(auditRecord);
    for (const [queue, handled] of [
      [billing, billingIds],
      [audit, auditRuns.map((record) => record.eventId)],
    ] as const) {
      const { verdict } = await r.account(queue, sent, handled);
      expect(verdict.problems).toEqual([]);
      expect(verdict.counts).toMatchObject({
        acknowledged: total,
        stored: total,
        handled: total,
        deadLettered: 0,
      });
      const stats = await readQueueStats(r.redis, queueKeys(queue));
      expect(stats).toMatchObject({ processed: total, pending: 0, inFlight: 0 });
    }
    // The healthy consumer ran each event once; only events the killed worker held may have
    // run twice, and only on its own queue.
    expect(repeated(billingIds)).toEqual([]);
    const twice = repeated(auditRuns.map((record) => record.eventId));
    const killedRan = new Set(
      auditRuns.filter((rec) => rec.workerId === "audit-worker-1").map((rec) => rec.eventId),
    );
    expect(twice.every((id) => killedRan.has(id))).toBe(true);

    // The same batch again: every id is a duplicate, no queue gets a second copy.
    const again = await r.send(address, events);
    expect(again.totals.duplicates).toBe(total);
    for (const queue of [billing, audit]) {
      const audited = await r.audit(queue);
      expect(audited.pending).toEqual([]);
      const stats = await readQueueStats(r.redis, queueKeys(queue));
      expect(stats.processed).toBe(total);
    }
  });

  it("with Redis at maxmemory, stores no copy in any queue and says so; once there is room, the resent batch is stored in both", async () => {
    const r = run();
    const redisServer = await startRedisServer();
    const redis = new Redis(redisServer.url);
    try {
      const billing = r.queueName("billing");
      const audit = r.queueName("audit");
      const file = r.writePipeline(
        "fan-out.yaml",
        fanOutPipeline(billing, audit, r.queueName("other"), RECORDING_HANDLER),
      );
      const collector = await startTestCollector(redisServer.url, "unused", {
        EVENTPIPE_CONFIG: file,
      });
      try {
        // Some data that is not a queue, then a limit below what Redis already uses.
        const filler = "x".repeat(64 * 1024);
        for (let i = 0; i < 16; i++) await redis.set(`filler:${i}`, filler);
        const used = Number(/used_memory:(\d+)/.exec(await redis.info("memory"))![1]);
        await redis.config("SET", "maxmemory-policy", "noeviction");
        await redis.config("SET", "maxmemory", String(used - 256 * 1024));
        const batch = Array.from({ length: 50 }, (_, i) => ({
          eventId: `fan-out-oom-${i}`,
          type: "order.created",
          payload: { n: i },
        }));
        const post = () =>
          fetch(`${collector.httpUrl}/v1/events`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(batch),
          });

        const full = await post();
        expect(full.status).toBe(429);
        expect(await full.text()).toMatch(/memory|full/i);
        expect(await redis.llen(queueKeys(billing).pending)).toBe(0);
        expect(await redis.llen(queueKeys(audit).pending)).toBe(0);

        await redis.config("SET", "maxmemory", "0");
        const stored = await post();
        expect(stored.status).toBe(200);
        expect(await stored.json()).toMatchObject({ accepted: 50, duplicates: 0 });
        const ids = batch.map((event) => event.eventId);
        for (const queue of [billing, audit]) {
          const raw = await redis.lrangeBuffer(queueKeys(queue).pending, 0, -1);
          const storedIds = raw.map((entry) => decodeEnvelope(entry).stored.event!.eventId);
          expect(new Set(storedIds)).toEqual(new Set(ids));
        }
      } finally {
        await collector.close();
      }
    } finally {
      redis.disconnect();
      await redisServer.destroy();
    }
  });
});
