// Network faults between each service and Redis, and between producer and collector, put in
// by a TCP fault proxy: connections reset mid-command (the command ran, its reply was lost),
// added latency, a black hole that holds everything longer than a worker's lease, and a
// half-open link whose replies never come back. Every scenario accounts for each event id.
import { afterEach, describe, expect, it } from "vitest";
import { type FaultProxy, startFaultProxy } from "../packages/faults/src/index.js";
import type { Producer } from "../packages/producer/src/index.js";
import { readQueueStats } from "../packages/queue/src/index.js";
import { useFaultRun } from "../test-support/fault-run.js";

const run = useFaultRun();
const proxies: FaultProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

async function proxyTo(port: number): Promise<FaultProxy> {
  const proxy = await startFaultProxy({ host: "127.0.0.1", port });
  proxies.push(proxy);
  return proxy;
}
const redisProxy = () => proxyTo(run().redisServer!.port);

/** Holds the fault for `ms`: the length of the fault is the point, not a synchronisation. */
const hold = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every event counted as processed once by Redis, however often a handler ran it. */
async function expectCountedOnce(handled: number): Promise<void> {
  const stats = await readQueueStats(run().redis, run().keys);
  expect(stats.processed).toBe(handled);
}

/** Fills the queue through a collector that talks to Redis directly. */
async function ingest(count: number): Promise<void> {
  const { startCollector, producer, send } = run();
  const { port } = await startCollector();
  const totals = await send(producer({ address: `127.0.0.1:${port}`, batchSize: 200 }), count);
  expect(totals.stored).toBe(count);
}

describe("network faults between a worker and Redis", () => {
  it("connections reset mid-command, again and again: resent scripts lose and double-count nothing", async () => {
    const { startWorker, handledRuns, expectNothingLost } = run();
    const total = 20_000;
    await ingest(total);
    const proxy = await redisProxy();
    const env = { REDIS_URL: proxy.url(), TEST_WORK_MS: "2", WORKER_CONCURRENCY: "32" };
    startWorker("w-1", env);
    startWorker("w-2", env);
    let resets = 0;
    while (resets < 15 && handledRuns() < total * 0.9) {
      const before = handledRuns();
      await proxy.resetAfterNextRequest();
      resets++;
      // The workers reconnect and make progress before the next cut.
      await expect.poll(handledRuns, { timeout: 20_000, interval: 20 }).toBeGreaterThan(before);
    }
    expect(resets).toBeGreaterThanOrEqual(5);
    const verdict = await expectNothingLost(`worker-Redis link reset mid-command x${resets}`);
    await expectCountedOnce(verdict.counts.handled);
  });

  it("added latency slows the worker down and loses nothing", async () => {
    const { startWorker, expectNothingLost } = run();
    await ingest(3_000);
    const proxy = await redisProxy();
    proxy.setMode({ kind: "latency", ms: 20 });
    startWorker("slow-link", { REDIS_URL: proxy.url() });
    const verdict = await expectNothingLost("worker-Redis latency 20 ms each way");
    expect(verdict.counts.duplicates).toBe(0);
  });

  it("a black hole longer than the lease: another worker takes the events back; when the link comes back nothing is lost or acknowledged twice", async () => {
    const { redis, keys, startWorker, expectNothingLost } = run();
    const total = 4_000;
    await ingest(total);
    const proxy = await redisProxy();
    const cutOff = startWorker("cut-off", {
      REDIS_URL: proxy.url(),
      TEST_WORK_MS: "50",
      WORKER_CONCURRENCY: "40",
    });
    await expect
      .poll(
        async () =>
          (await readQueueStats(redis, keys)).workers.find((w) => w.id === "cut-off")?.inFlight,
        { timeout: 20_000, interval: 20 },
      )
      .toBeGreaterThan(0);
    proxy.setMode({ kind: "blackhole" });
    startWorker("rescuer", { TEST_WORK_MS: "1" });
    await expect
      .poll(async () => (await readQueueStats(redis, keys)).recovered, { timeout: 20_000 })
      .toBeGreaterThan(0);
    await hold(2000);
    proxy.setMode({ kind: "pass" });

    const verdict = await expectNothingLost("worker-Redis black hole > lease, then healed");
    await expectCountedOnce(verdict.counts.handled);
    expect(cutOff.child.exitCode).toBeNull();
    // The cut-off worker is back in service with a lease of its own.
    await expect
      .poll(async () => (await readQueueStats(redis, keys)).workers.map((w) => w.id).sort(), {
        timeout: 20_000,
      })
      .toEqual(["cut-off", "rescuer"]);
  });

  it("a half-open link (commands arrive, replies never do, no FIN or RST): the worker gives it up after a lease of silence, reconnects and goes on", async () => {
    const { redis, keys, startWorker, expectNothingLost } = run();
    await ingest(4_000);
    const proxy = await redisProxy();
    startWorker("half-open", { REDIS_URL: proxy.url(), TEST_WORK_MS: "20" });
    const processedBy = async (id: string) =>
      (await readQueueStats(redis, keys)).workers.find((w) => w.id === id)?.processed ?? 0;
    await expect.poll(() => processedBy("half-open"), { timeout: 20_000 }).toBeGreaterThan(0);
    proxy.stallOpenConnections("to-client");
    const atStall = await processedBy("half-open");
    // Its old connections never answer again; it must notice by itself and make new ones.
    await expect
      .poll(() => processedBy("half-open"), { timeout: 30_000, interval: 100 })
      .toBeGreaterThan(atStall + 100);
    const verdict = await expectNothingLost("worker-Redis half-open, no reset");
    await expectCountedOnce(verdict.counts.handled);
  });
});

describe("network faults between the collector and Redis", () => {
  it("replies to enqueue scripts lost mid-ingest: the producer resends and deduplication stores each event once", async () => {
    const { startCollector, startWorker, producer, send, expectNothingLost } = run();
    const proxy = await redisProxy();
    const { port } = await startCollector({ REDIS_URL: proxy.url() });
    const events = producer({ address: `127.0.0.1:${port}`, batchSize: 100 });
    const done = send(events, 20_000, 10_000);
    let resets = 0;
    while (resets < 8 && events.totals.stored + events.totals.duplicates < 18_000) {
      await proxy.resetAfterNextRequest();
      resets++;
    }
    const totals = await done;
    expect(resets).toBeGreaterThanOrEqual(3);
    expect(totals.reconnects).toBeGreaterThanOrEqual(1);
    startWorker("drainer");
    const verdict = await expectNothingLost(`collector-Redis reply lost x${resets}`);
    expect(verdict.counts).toMatchObject({ acknowledged: 20_000, handled: 20_000, duplicates: 0 });
  });

  /**
   * Streams `total` events through a collector whose Redis link goes through a proxy, puts in
   * `fault` once some are stored, then drains with a worker and checks each id stored once.
   */
  async function ingestThroughFault(
    scenario: string,
    total: number,
    fault: (proxy: FaultProxy) => Promise<void>,
  ) {
    const { startCollector, startWorker, producer, send, expectNothingLost } = run();
    const proxy = await redisProxy();
    const { port } = await startCollector({ REDIS_URL: proxy.url() });
    const events = producer({ address: `127.0.0.1:${port}`, batchSize: 100 });
    const done = send(events, total, 5_000);
    await expect.poll(() => events.totals.stored, { timeout: 20_000 }).toBeGreaterThan(1000);
    await fault(proxy);
    const totals = await done;
    startWorker("drainer");
    const verdict = await expectNothingLost(scenario);
    expect(verdict.counts).toMatchObject({ acknowledged: total, handled: total, duplicates: 0 });
    return totals;
  }

  it("a black hole during ingest holds the stream; once the link heals every event is stored once", async () => {
    await ingestThroughFault("collector-Redis black hole 2 s", 10_000, async (proxy) => {
      proxy.setMode({ kind: "blackhole" });
      await hold(2000);
      proxy.setMode({ kind: "pass" });
    });
  });

  it("a half-open link mid-ingest: the collector drops it, answers UNAVAILABLE, and the producer's resend is stored once", async () => {
    const totals = await ingestThroughFault(
      "collector-Redis half-open, no reset",
      10_000,
      async (proxy) => proxy.stallOpenConnections("to-client"),
    );
    expect(totals.reconnects).toBeGreaterThanOrEqual(1);
  });
});

describe("network faults between the producer and the collector", () => {
  it("streams cut again and again: the producer resends what was not acknowledged and nothing is stored twice", async () => {
    const { startCollector, startWorker, producer, send, expectNothingLost } = run();
    const { port } = await startCollector();
    const proxy = await proxyTo(port);
    // Acks take a 40 ms round trip while a batch goes out every 10 ms, so batches are always in
    // flight when a cut comes: each cut leaves some unacknowledged, which must be resent. (On
    // a fast link the cuts can all land between an ack and the next batch, resending nothing.)
    proxy.setMode({ kind: "latency", ms: 20 });
    const events = producer({ address: proxy.address, batchSize: 100 });
    const done = send(events, 20_000, 10_000);
    for (let cut = 1; cut <= 5; cut++) {
      await expect
        .poll(() => events.totals.stored + events.totals.duplicates, { timeout: 30_000 })
        .toBeGreaterThan(cut * 3000);
      proxy.resetAll();
    }
    const totals = await done;
    expect(proxy.stats.resets).toBeGreaterThanOrEqual(5);
    expect(totals.reconnects).toBeGreaterThanOrEqual(1);
    startWorker("drainer");
    const verdict = await expectNothingLost("producer-collector link reset x5");
    expect(verdict.counts).toMatchObject({ acknowledged: 20_000, handled: 20_000, duplicates: 0 });
  });

  /**
   * Streams `total` events to the collector through a proxy with an ack timeout of 1 s, puts
   * in `fault` once some are stored, then drains with a worker and checks each id stored once.
   */
  async function publishThroughFault(
    scenario: string,
    total: number,
    fault: (proxy: FaultProxy, events: Producer) => Promise<void>,
  ) {
    const { startCollector, startWorker, producer, send, expectNothingLost } = run();
    const { port } = await startCollector();
    const proxy = await proxyTo(port);
    const events = producer({ address: proxy.address, batchSize: 100, ackTimeoutMs: 1000 });
    const done = send(events, total, 5_000);
    await expect.poll(() => events.totals.stored, { timeout: 20_000 }).toBeGreaterThan(1000);
    await fault(proxy, events);
    const totals = await done;
    startWorker("drainer");
    const verdict = await expectNothingLost(scenario);
    expect(verdict.counts).toMatchObject({ acknowledged: total, handled: total, duplicates: 0 });
    return totals;
  }

  it("a black hole longer than the producer's ack timeout: it gives up on the call, reconnects once the link heals, and nothing is lost", async () => {
    await publishThroughFault(
      "producer-collector black hole > ack timeout",
      10_000,
      async (proxy, events) => {
        proxy.setMode({ kind: "blackhole" });
        await expect.poll(() => events.totals.reconnects, { timeout: 20_000 }).toBeGreaterThan(0);
        proxy.setMode({ kind: "pass" });
      },
    );
  });

  it("a half-open link (acks never come back): the producer gives the call up, resends on a new one, and each event is stored once", async () => {
    const totals = await publishThroughFault(
      "producer-collector half-open",
      10_000,
      async (proxy) => proxy.stallOpenConnections("to-client"),
    );
    expect(totals.reconnects).toBeGreaterThanOrEqual(1);
  });

  it("added latency slows the producer down and loses nothing", async () => {
    await publishThroughFault("producer-collector latency 20 ms each way", 5_000, async (proxy) =>
      proxy.setMode({ kind: "latency", ms: 20 }),
    );
  });
});
