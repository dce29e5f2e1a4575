// Queue partitions on one Redis: a collector with QUEUE_PARTITIONS=4 spreads events over four
// partitions by partition key, each key in one partition in the order it was sent; two worker
// processes share the partitions (WORKER_PARTITIONS) and every id is handled once, by the
// worker of its partition. A collector or worker started with another count is refused while
// events remain, and accepted once the queue drained.

import type { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { readRecords, recordOutcome, waitUntilDrained } from "../packages/faults/src/index.js";
import { newEvent } from "../packages/producer/src/index.js";
import {
  decodeEnvelope,
  partitionKeys,
  partitionOf,
  type QueueKeys,
} from "../packages/queue/src/index.js";
import { waitForOutput } from "../packages/testkit/src/index.js";
import { type FaultRun, useFaultRun } from "../test-support/fault-run.js";
import { spawnService } from "../test-support/processes.js";

const run = useFaultRun({ ownRedis: false });
const PARTITIONS = 4;
const KEYS = 16;

/** The pending events of one partition, oldest first: [event id, partition key]. */
async function pendingInOrder(
  redis: Redis,
  keys: QueueKeys,
): Promise<Array<readonly [string, string]>> {
  const raw = await redis.lrangeBuffer(keys.pending, 0, -1);
  return raw.reverse().map((entry) => {
    const event = decodeEnvelope(entry).stored.event;
    return [event?.eventId ?? "", event?.partitionKey ?? ""] as const;
  });
}

/** A collector process with QUEUE_PARTITIONS=2 on the run's queue, left to exit if refused. */
function collectorWithTwoPartitions(faults: FaultRun) {
  return spawnService("collector", {
    REDIS_URL: faults.redisUrl,
    QUEUE_NAME: faults.queue,
    QUEUE_PARTITIONS: "2",
    COLLECTOR_LISTEN: "127.0.0.1:0",
    COLLECTOR_HTTP_LISTEN: "",
  });
}

describe("queue partitions", () => {
  it("keys keep their order in their own partition, and two workers splitting the partitions handle every id once", async () => {
    const faults = run();
    const total = 20_000;
    const layout = partitionKeys(faults.queue, PARTITIONS);
    const { port } = await faults.startCollector({ QUEUE_PARTITIONS: String(PARTITIONS) });
    const producer = faults.producer({ address: `127.0.0.1:${port}`, batchSize: 200 });
    const sentByKey = new Map<string, string[]>();
    for (let i = 0; i < total; i++) {
      const key = `account-${i % KEYS}`;
      const event = newEvent("order.placed", { partitionKey: key });
      faults.ledger.sent.add(event.eventId);
      sentByKey.set(key, [...(sentByKey.get(key) ?? []), event.eventId]);
      await producer.send(event);
    }
    const totals = await producer.close();
    expect(totals).toMatchObject({ sent: total, stored: total, rejected: 0 });

    // Before any worker runs: each key's events sit in its partition, in the order sent.
    const storedByKey = new Map<string, string[]>();
    for (let p = 0; p < PARTITIONS; p++) {
      const pending = await pendingInOrder(faults.redis, layout[p]!);
      expect(pending.length).toBeGreaterThan(0);
      for (const [id, key] of pending) {
        expect(partitionOf(key, PARTITIONS)).toBe(p);
        storedByKey.set(key, [...(storedByKey.get(key) ?? []), id]);
      }
    }
    expect(storedByKey).toEqual(sentByKey);

    faults.startWorker("low", { QUEUE_PARTITIONS: "4", WORKER_PARTITIONS: "0-1" });
    faults.startWorker("high", { QUEUE_PARTITIONS: "4", WORKER_PARTITIONS: "2,3" });
    await waitUntilDrained(faults.redis, layout, 60_000);
    await recordOutcome(faults.ledger, {
      redis: faults.redis,
      keys: layout,
      recordFile: faults.recordFile,
    });
    const verdict = faults.ledger.check();
    expect(verdict.problems).toEqual([]);
    expect(verdict.counts).toMatchObject({ sent: total, stored: total, handled: total });
    expect(verdict.counts.duplicates).toBe(0);

    const partitionOfId = new Map<string, number>();
    for (const [key, ids] of sentByKey) {
      for (const id of ids) partitionOfId.set(id, partitionOf(key, PARTITIONS));
    }
    const served = { low: new Set<number>(), high: new Set<number>() };
    for (const record of readRecords(faults.recordFile)) {
      served[record.workerId as "low" | "high"].add(partitionOfId.get(record.eventId)!);
    }
    expect([...served.low].sort()).toEqual([0, 1]);
    expect([...served.high].sort()).toEqual([2, 3]);
  }, 120_000);

  it("refuses another partition count while the queue holds events, and takes it once drained", async () => {
    const faults = run();
    const { port, proc } = await faults.startCollector({ QUEUE_PARTITIONS: "4" });
    const producer = faults.producer({ address: `127.0.0.1:${port}` });
    for (let i = 0; i < 100; i++) await producer.send(newEvent("order.placed"));
    await producer.close();
    proc.signal("SIGTERM");
    await proc.exited;

    const refusedCollector = collectorWithTwoPartitions(faults);
    expect(await refusedCollector.exited).not.toBe(0);
    expect(refusedCollector.output()).toContain(
      `queue "${faults.queue}" is split into 4 partition(s) and still holds 100 events`,
    );
    const refusedWorker = faults.startWorker("refused", { QUEUE_PARTITIONS: "1" });
    expect(await refusedWorker.exited).not.toBe(0);
    expect(refusedWorker.output()).toContain("QUEUE_PARTITIONS=1 would strand events");

    const drainer = faults.startWorker("drainer", { QUEUE_PARTITIONS: "4" });
    await waitUntilDrained(faults.redis, partitionKeys(faults.queue, 4), 30_000);
    // Drained, but a live worker of the old layout still refuses the change: collectors with
    // the old count could still be feeding it.
    const whileServed = collectorWithTwoPartitions(faults);
    expect(await whileServed.exited).not.toBe(0);
    expect(whileServed.output()).toContain("and 1 live worker lease(s)");
    drainer.signal("SIGTERM");
    await drainer.exited;
    const accepted = await faults.startCollector({ QUEUE_PARTITIONS: "2" });
    await waitForOutput(accepted.proc, "collector started");
    expect(await faults.redis.get(`{${faults.queue}}:partitions`)).toBe("2");
  }, 90_000);
});
