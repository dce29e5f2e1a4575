// The whole pipeline as people run it: a collector process, worker processes, real gRPC.
// Each test accounts for every event id in a ledger (sent, acknowledged, stored, handled).
import { describe, expect, it } from "vitest";
import { useFaultRun } from "../../../test-support/fault-run.js";
import { readRecords } from "../../faults/src/index.js";
import { createEventClient, sampleEvents, streamEvents } from "../../producer/src/index.js";
import { readQueueStats } from "../../queue/src/index.js";

const run = useFaultRun({ ownRedis: false });

/** Sends `count` events over the original StreamEvents RPC; its summary acknowledges them. */
async function streamOriginal(address: string, count: number): Promise<void> {
  const { ledger } = run();
  const events = [...sampleEvents(count)];
  ledger.recordSent(events.map((event) => event.eventId));
  const client = createEventClient({ address });
  const summary = await streamEvents(client, events);
  client.close();
  expect(summary).toMatchObject({ success: true, eventsReceived: count });
  ledger.recordAcknowledged(events.map((event) => event.eventId));
}

describe("pipeline", () => {
  it("processes 10,000 events through a collector and two workers exactly once", async () => {
    const { redis, keys, recordFile, startCollector, startWorker, producer, send } = run();
    const { port } = await startCollector();
    startWorker("w1");
    startWorker("w2");
    // Both registered before the first event: a worker still starting up when the other has
    // drained everything would make the check below about process start-up, not sharing.
    await expect
      .poll(async () => (await readQueueStats(redis, keys)).workers.length, { timeout: 15_000 })
      .toBe(2);
    const totals = await send(producer({ address: `127.0.0.1:${port}` }), 10_000);
    expect(totals).toMatchObject({ sent: 10_000, stored: 10_000, duplicates: 0, rejected: 0 });

    const verdict = await run().expectNothingLost("pipeline, no faults");
    expect(verdict.counts).toMatchObject({ handled: 10_000, duplicates: 0 });
    const workers = new Set(readRecords(recordFile).map((record) => record.workerId));
    expect(workers).toEqual(new Set(["w1", "w2"]));
    const stats = await readQueueStats(redis, keys);
    expect(stats).toMatchObject({ processed: 10_000, pending: 0, inFlight: 0, deadLettered: 0 });
    expect(stats.byType).toEqual({ page_view: 5000, user_login: 5000 });
  });

  it("loses nothing when a worker is killed with SIGKILL mid-handler", async () => {
    const { redis, keys, startCollector, startWorker, handledRuns } = run();
    const { port } = await startCollector();
    await streamOriginal(`127.0.0.1:${port}`, 400);

    // 200 ms per handler: 400 events take the victim 4 s, so it still holds events when the
    // test, on a busy machine, gets round to reading its in-flight count and killing it.
    const lease = { WORKER_LEASE_MS: "1000", TEST_WORK_MS: "200", WORKER_CONCURRENCY: "20" };
    const victim = startWorker("victim", lease);
    await expect.poll(handledRuns, { timeout: 15_000, interval: 20 }).toBeGreaterThan(40);
    const inFlightAtKill = (await readQueueStats(redis, keys)).inFlight;
    victim.signal("SIGKILL");
    await victim.exited;
    expect(inFlightAtKill).toBeGreaterThan(0);

    startWorker("rescuer", lease);
    await run().expectNothingLost("pipeline, worker killed mid-handler");
    const stats = await readQueueStats(redis, keys);
    expect(stats.workers.map((w) => w.id)).toEqual(["rescuer"]);
    expect(stats.recovered).toBeGreaterThan(0);
  });

  it("SIGTERM on a worker finishes its in-flight events and returns the rest", async () => {
    const { redis, keys, startCollector, startWorker, handledRuns } = run();
    const { port } = await startCollector();
    await streamOriginal(`127.0.0.1:${port}`, 300);

    const first = startWorker("first", { TEST_WORK_MS: "100", WORKER_CONCURRENCY: "20" });
    await expect.poll(handledRuns, { timeout: 15_000, interval: 20 }).toBeGreaterThan(20);
    first.signal("SIGTERM");
    expect(await first.exited).toBe(0);
    const afterStop = await readQueueStats(redis, keys);
    const done = handledRuns();
    expect(afterStop.inFlight).toBe(0);
    expect(afterStop.processed).toBe(done);
    expect(afterStop.pending).toBe(300 - done);

    startWorker("second", { TEST_WORK_MS: "1", WORKER_CONCURRENCY: "50" });
    const verdict = await run().expectNothingLost("pipeline, worker stopped with SIGTERM");
    // A clean stop hands nothing to a second worker that the first had finished.
    expect(verdict.counts).toMatchObject({ handled: 300, duplicates: 0 });
  });
});
