// Fault injection with real processes and a real redis-server (AOF on): workers and the
// collector are killed with SIGKILL, the backlog and Redis's memory fill up. Every scenario
// accounts for each event id in a ledger (sent, acknowledged, stored, handled,
// dead-lettered) and prints the counts it checked. Redis crashes are in redis-crash.test.ts,
// network faults in network-faults.test.ts, pauses in pauses.test.ts.
import { describe, expect, it } from "vitest";
import { readQueueStats } from "../packages/queue/src/index.js";
import { useFaultRun } from "../test-support/fault-run.js";

const run = useFaultRun();

describe("fault injection", () => {
  it("kill -9 of workers, again and again, during a 100,000-event run loses nothing", async () => {
    const { startCollector, startWorker, producer, send, handledRuns, expectNothingLost } = run();
    const total = 100_000;
    const { port } = await startCollector();
    const totals = await send(producer({ address: `127.0.0.1:${port}`, batchSize: 500 }), total);
    expect(totals).toMatchObject({ sent: total, stored: total });

    const fast = { WORKER_CONCURRENCY: "200", WORKER_BATCH_SIZE: "200" };
    let workers = [startWorker("w-0", fast), startWorker("w-1", fast)];
    let kills = 0;
    // Kill a worker each time another 10,000 events are handled, six times.
    for (let next = 10_000; kills < 6; next += 10_000) {
      await expect
        .poll(handledRuns, { timeout: 60_000, interval: 50 })
        .toBeGreaterThanOrEqual(next);
      const victim = workers[kills % workers.length]!;
      victim.signal("SIGKILL");
      await victim.exited;
      kills++;
      workers = workers.map((w) => (w === victim ? startWorker(`w-${kills + 1}`, fast) : w));
    }
    const verdict = await expectNothingLost("kill -9 workers x6", { drainTimeoutMs: 90_000 });
    const stats = await readQueueStats(run().redis, run().keys);
    expect(stats.recovered).toBeGreaterThan(0);
    expect(verdict.counts).toMatchObject({ handled: total, deadLettered: 0 });
  });

  it("kill -9 of the collector mid-stream: the acknowledged producer resends and every event is stored once", async () => {
    const { redis, queue, startCollector, startWorker, producer, send, expectNothingLost } = run();
    const total = 30_000;
    const first = await startCollector();
    const address = `127.0.0.1:${first.port}`;
    const done = send(producer({ address, batchSize: 100, maxBatchesInFlight: 64 }), total);
    await expect
      .poll(() => redis.llen(queue), { timeout: 20_000, interval: 10 })
      .toBeGreaterThan(5000);
    first.proc.signal("SIGKILL");
    await first.proc.exited;
    await run().startCollector({ COLLECTOR_LISTEN: address });
    const totals = await done;
    expect(totals.reconnects).toBeGreaterThanOrEqual(1);
    // Stored once: drained by a worker that never crashes, each id runs exactly once.
    startWorker("drainer", { WORKER_CONCURRENCY: "200" });
    const verdict = await expectNothingLost("kill -9 collector mid-stream");
    expect(verdict.counts).toMatchObject({ acknowledged: total, handled: total, duplicates: 0 });
  });

  it("a full backlog makes producers back off; nothing is dropped once workers catch up", async () => {
    const { redis, queue, startCollector, startWorker, producer, send, expectNothingLost } = run();
    const total = 10_000;
    const { port } = await startCollector({ MAX_BACKLOG: "2000", RETRY_AFTER_MS: "100" });
    const events = producer({ address: `127.0.0.1:${port}`, batchSize: 100 });
    const done = send(events, total);
    await expect
      .poll(() => events.totals.reconnects, { timeout: 20_000, interval: 10 })
      .toBeGreaterThanOrEqual(1);
    expect(await redis.llen(queue)).toBeLessThanOrEqual(2000);

    startWorker("drainer");
    await done;
    const verdict = await expectNothingLost("backlog limit");
    expect(verdict.counts).toMatchObject({ acknowledged: total, handled: total });
  });

  it("Redis at maxmemory refuses writes as RESOURCE_EXHAUSTED; workers still drain it and nothing is dropped", async () => {
    const { redis, startCollector, startWorker, producer, send, expectNothingLost } = run();
    await redis.config("SET", "maxmemory", String(4 * 1024 * 1024));
    const total = 40_000;
    // The dedup window's id markers take memory too and would keep Redis full after the queue
    // drained; a refused script stores nothing, so resends cannot duplicate here anyway.
    const { port } = await startCollector({ RETRY_AFTER_MS: "100", DEDUP_WINDOW_SECONDS: "0" });
    const events = producer({ address: `127.0.0.1:${port}`, batchSize: 200 });
    const done = send(events, total);
    await expect
      .poll(() => events.totals.reconnects, { timeout: 20_000, interval: 10 })
      .toBeGreaterThanOrEqual(1);

    startWorker("drainer", { WORKER_CONCURRENCY: "200" });
    await done;
    // Without deduplication no set names the stored ids: handled ids are checked against
    // the sent ones, and none may run twice.
    const verdict = await expectNothingLost("Redis at maxmemory", { storedIdsKnown: false });
    expect(verdict.counts).toMatchObject({ acknowledged: total, handled: total, duplicates: 0 });
  });
});
