// Pauses rather than crashes: Redis frozen with SIGSTOP or blocked by DEBUG SLEEP, and a
// worker frozen with SIGSTOP, each for longer than the workers' lease. Nothing dies, but
// leases run out by the Redis clock and the workers' connections go silent past their socket
// timeout (one lease), so they are dropped and their commands sent again on a new one. Every
// scenario accounts for each event id in the ledger, checks that no service gave up, and that
// Redis counted each event processed once: an ack for an event that was taken back from its
// worker must count nothing.
//
// When Redis itself pauses, the heartbeats the workers sent meanwhile run first on resume and
// renew the leases, so usually nothing is taken back; the tests print what happened. A paused
// worker does lose its events to the other one.
import { setTimeout as delay } from "node:timers/promises";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import {
  type LedgerVerdict,
  readRecords,
  type ServiceProcess,
} from "../packages/faults/src/index.js";
import { decodeEnvelope, readQueueStats } from "../packages/queue/src/index.js";
import { useFaultRun } from "../test-support/fault-run.js";

const LEASE_MS = 1000;
const worker = (env: Record<string, string>) => ({ WORKER_LEASE_MS: String(LEASE_MS), ...env });

// Redis 7 refuses DEBUG unless it is enabled; the other tests do not need it but lose nothing.
const run = useFaultRun({ redisArgs: ["--enable-debug-command", "yes"] });

/** Services that exited although nothing asked them to. */
function exited(services: Record<string, ServiceProcess>): string[] {
  return Object.entries(services).flatMap(([name, proc]) =>
    proc.child.exitCode === null && proc.child.signalCode === null
      ? []
      : [`${name} (${proc.child.exitCode ?? proc.child.signalCode})\n${proc.output()}`],
  );
}

/**
 * Redis's processed counter against the ledger: an event is counted once when the ack of its
 * current delivery removes it, so the counter equals the distinct ids a handler finished,
 * less those that ended as dead letters (acks of taken-back deliveries count nothing).
 */
async function expectEachCountedOnce(scenario: string, verdict: LedgerVerdict) {
  const { redis, keys, ledger } = run();
  const stats = await readQueueStats(redis, keys);
  const finished = [...ledger.handled.keys()].filter((id) => !ledger.deadLettered.has(id));
  process.stdout.write(
    `[fault-injection] ${scenario}: recovered ${stats.recovered}, duplicate handler runs ${verdict.counts.duplicates}, processed counter ${stats.processed}\n`,
  );
  expect(stats.processed).toBe(finished.length);
  return stats;
}

/** Event ids in a worker's in-flight hash right now. */
async function heldBy(workerId: string): Promise<string[]> {
  const { redis, keys } = run();
  const envelopes = await redis.hvalsBuffer(keys.inflight(workerId));
  return envelopes.map((raw) => decodeEnvelope(raw).stored.event?.eventId ?? "");
}

describe("pauses longer than the lease", () => {
  it("Redis frozen with SIGSTOP mid-stream, then resumed: nothing lost, no service exits, each event counted once", async () => {
    const { redisServer, startCollector, startWorker, producer, send, handledRuns, ledger } = run();
    const total = 20_000;
    const pauseMs = 2.5 * LEASE_MS;
    const { proc: collector, port } = await startCollector();
    const fast = worker({ TEST_WORK_MS: "5" });
    const services = {
      collector,
      "w-0": startWorker("w-0", fast),
      "w-1": startWorker("w-1", fast),
    };
    const done = send(producer({ address: `127.0.0.1:${port}`, batchSize: 100 }), total, 5000);

    await expect.poll(handledRuns, { timeout: 20_000, interval: 10 }).toBeGreaterThanOrEqual(2000);
    // The pause lands while events still stream in and are processed.
    expect(ledger.acknowledged.size).toBeLessThan(total);
    redisServer!.signal("SIGSTOP");
    try {
      await delay(pauseMs); // the fault itself
    } finally {
      redisServer!.signal("SIGCONT");
    }

    expect(await done).toMatchObject({ sent: total, stored: total });
    const verdict = await run().expectNothingLost("Redis SIGSTOP 2.5 s mid-stream");
    expect(verdict.counts).toMatchObject({ acknowledged: total, handled: total, deadLettered: 0 });
    await expectEachCountedOnce("Redis SIGSTOP 2.5 s mid-stream", verdict);
    expect(exited(services)).toEqual([]);
  });

  it("Redis blocked by DEBUG SLEEP during processing: nothing lost, no service exits, each event counted once", async () => {
    const { redisUrl, startCollector, startWorker, producer, send, handledRuns } = run();
    const total = 20_000;
    const { proc: collector, port } = await startCollector();
    const stored = await send(producer({ address: `127.0.0.1:${port}`, batchSize: 500 }), total);
    expect(stored).toMatchObject({ sent: total, stored: total });
    const fast = worker({ TEST_WORK_MS: "5" });
    const services = {
      collector,
      "w-0": startWorker("w-0", fast),
      "w-1": startWorker("w-1", fast),
    };
    await expect.poll(handledRuns, { timeout: 20_000, interval: 10 }).toBeGreaterThanOrEqual(2000);

    // Its own connection: while Redis sleeps, every client waits, this one for the reply.
    const sleeper = new Redis(redisUrl, { maxRetriesPerRequest: 0 });
    sleeper.on("error", () => {});
    try {
      const slept = sleeper.call("DEBUG", "SLEEP", String((2.5 * LEASE_MS) / 1000));
      expect(handledRuns()).toBeLessThan(total);
      expect(await slept).toBe("OK"); // the fault's end
    } finally {
      sleeper.disconnect();
    }

    const verdict = await run().expectNothingLost("Redis DEBUG SLEEP 2.5 s mid-processing");
    expect(verdict.counts).toMatchObject({ acknowledged: total, handled: total, deadLettered: 0 });
    await expectEachCountedOnce("Redis DEBUG SLEEP 2.5 s mid-processing", verdict);
    expect(exited(services)).toEqual([]);
  });

  it("a worker frozen with SIGSTOP past its lease: the other takes its events back, its late acks count nothing, and it works on after SIGCONT", async () => {
    const { redis, keys, recordFile, startCollector, startWorker, producer, send, ledger } = run();
    const address = (port: number) => `127.0.0.1:${port}`;
    const { proc: collector, port } = await startCollector();
    const first = 4000;
    expect(await send(producer({ address: address(port), batchSize: 500 }), first)).toMatchObject({
      stored: first,
    });

    // A holds up to 20 events for 50 ms each; B is quicker. After SIGCONT, A finishes the
    // handlers it had started (duplicates) or, when its silent connection was dropped before
    // the claim's reply was read, its resent claim finds the events gone and takes new ones:
    // either way its acks for the taken-back events count nothing.
    const a = startWorker("A", worker({ TEST_WORK_MS: "50", WORKER_CONCURRENCY: "20" }));
    const b = startWorker("B", worker({ TEST_WORK_MS: "5", WORKER_CONCURRENCY: "20" }));
    const inFlightOfA = async () =>
      (await readQueueStats(redis, keys)).workers.find((w) => w.id === "A")?.inFlight ?? 0;
    await expect.poll(inFlightOfA, { timeout: 20_000, interval: 10 }).toBeGreaterThan(0);

    const stoppedAt = performance.now();
    a.signal("SIGSTOP");
    try {
      // A is frozen, so its record lines are final: an event A held and had not recorded, it
      // had not acknowledged either (it records before it acks). B must take those back and
      // handle them while A is still frozen.
      const held = await heldBy("A");
      const recordedByA = new Set(
        readRecords(recordFile).flatMap((r) => (r.workerId === "A" ? [r.eventId] : [])),
      );
      const unfinished = held.filter((id) => !recordedByA.has(id));
      expect(unfinished.length).toBeGreaterThan(0);
      await expect
        .poll(
          () => {
            const byB = new Set(
              readRecords(recordFile).flatMap((r) => (r.workerId === "B" ? [r.eventId] : [])),
            );
            return unfinished.filter((id) => !byB.has(id));
          },
          { timeout: 15_000, interval: 50 },
        )
        .toEqual([]);
      const stats = await readQueueStats(redis, keys);
      expect(stats.recovered).toBeGreaterThanOrEqual(unfinished.length);
      expect(stats.workers.map((w) => w.id)).not.toContain("A");
      const rest = 3 * LEASE_MS - (performance.now() - stoppedAt);
      if (rest > 0) await delay(rest); // the fault lasts three leases
    } finally {
      a.signal("SIGCONT");
    }

    // Events sent after A resumed: A handles some of them, so it kept working.
    const before = new Set(ledger.sent);
    const second = 2000;
    expect(
      await send(producer({ address: address(port), batchSize: 100 }), second, 1000),
    ).toMatchObject({ stored: second });
    const late = [...ledger.sent].filter((id) => !before.has(id));
    await expect
      .poll(
        () => {
          const lateIds = new Set(late);
          return readRecords(recordFile).some((r) => r.workerId === "A" && lateIds.has(r.eventId));
        },
        { timeout: 20_000, interval: 50 },
      )
      .toBe(true);

    const verdict = await run().expectNothingLost("worker SIGSTOP 3 leases");
    expect(verdict.counts).toMatchObject({
      acknowledged: first + second,
      handled: first + second,
      deadLettered: 0,
    });
    await expectEachCountedOnce("worker SIGSTOP 3 leases", verdict);
    expect(exited({ collector, A: a, B: b })).toEqual([]);
  });
});
