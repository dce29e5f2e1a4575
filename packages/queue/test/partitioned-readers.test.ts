// The readers and dead-letter tools over a queue split into partitions, against real Redis:
// events stored the way collectors store them (one enqueuer per partition), claimed, acked,
// retried and dead-lettered the way workers do, then read and administered by queue name.
import { describe, expect, it } from "vitest";
import { uniqueQueueName } from "../../../test-support/collector.js";
import { useSharedRedis } from "../../../test-support/shared-redis.js";
import { newEvent } from "../../producer/src/index.js";
import {
  adoptPartitionCount,
  countQueueDeadLetters,
  createEnqueuer,
  createQueueStore,
  type DeadLetterReason,
  decodeEnvelope,
  encodeDeadLetter,
  encodeNewEvent,
  listQueueDeadLetters,
  partitionCountKey,
  partitionKeys,
  purgeQueueDeadLetterEntries,
  purgeQueueDeadLetters,
  type QueueDeadLetter,
  type QueueKeys,
  queueKeys,
  readQueueState,
  readQueueStateOf,
  readQueueStats,
  readQueueStatsOf,
  replayQueueDeadLetterEntries,
  replayQueueDeadLetters,
} from "../src/index.js";

const { redis } = useSharedRedis();

const PARTITIONS = 4;
const LEASE_MS = 60_000;
const limits = { dedupWindowMs: 60_000, maxBacklog: 0 };
const claimOf = (workerId: string, max: number) => ({
  workerId,
  max,
  firstSequence: 1,
  leaseMs: LEASE_MS,
});

/** Ids of the events in one partition's pending list, in the order workers will take them. */
async function pendingIds(keys: QueueKeys): Promise<string[]> {
  const raws = await redis.lrangeBuffer(keys.pending, 0, -1);
  return raws.reverse().map((raw) => decodeEnvelope(raw).stored.event!.eventId);
}

/**
 * A 4-partition queue; partition p stores 4 + p events of type "even" or "odd" (p's parity).
 * Worker w1 claims 3 in every partition: acks the first, dead-letters the second
 * (max_attempts) and the third (rejected, later). Worker w2 claims 1 in partitions 0 and 1,
 * schedules a retry of its event in partition 1, and its lease there runs out.
 */
async function fillPartitionedQueue() {
  const name = uniqueQueueName("partitioned");
  await adoptPartitionCount(redis, name, PARTITIONS);
  const partitions = partitionKeys(name, PARTITIONS);
  const base = Date.now();
  /** Per partition: the ids dead-lettered, by reason. */
  const deadIds: Record<DeadLetterReason, string>[] = [];
  for (const [p, keys] of partitions.entries()) {
    const type = p % 2 === 0 ? "even" : "odd";
    const events = Array.from({ length: 4 + p }, () => newEvent(type));
    const stored = await createEnqueuer(redis, [keys]).enqueue(
      events.map((event) => ({ eventId: event.eventId, envelope: encodeNewEvent(event, base) })),
      limits,
    );
    expect(stored.stored).toBe(events.length);

    const store = createQueueStore(redis, keys);
    const claimed = await store.claim(claimOf("w1", 3));
    expect(claimed).toHaveLength(3);
    await store.ack("w1", new Map([[type, [1]]]));
    const deadLetter = async (sequence: number, reason: DeadLetterReason, atMs: number) => {
      const envelope = claimed[sequence - 1]!;
      const entry = encodeDeadLetter(
        { reason, message: "test", worker: "w1", deadLetteredAtMs: atMs },
        envelope,
      );
      expect(await store.deadLetter("w1", sequence, entry)).toBe(true);
      return decodeEnvelope(envelope).stored.event!.eventId;
    };
    deadIds.push({
      max_attempts: await deadLetter(2, "max_attempts", base + p * 10),
      rejected: await deadLetter(3, "rejected", base + p * 10 + 5),
    } as Record<DeadLetterReason, string>);

    if (p < 2) {
      const [held] = await store.claim(claimOf("w2", 1));
      if (p === 1) {
        expect(await store.retry("w2", 1, LEASE_MS, held!)).toBe(true);
        await redis.zadd(keys.workers, 0, "w2"); // its lease in this partition ran out
      }
    }
  }
  return { name, partitions, deadIds };
}

describe("a partitioned queue read by name", () => {
  it("readQueueStatsOf adds the partitions up and reports each one", async () => {
    const { name, partitions } = await fillPartitionedQueue();
    const stats = await readQueueStatsOf(redis, name);
    expect(stats.partitions).toEqual(
      [
        { partition: 0, queue: `${name}:0`, pending: 0, inFlight: 1, processed: 1 },
        { partition: 1, queue: `${name}:1`, pending: 1, inFlight: 0, processed: 1 },
        { partition: 2, queue: `${name}:2`, pending: 3, inFlight: 0, processed: 1 },
        { partition: 3, queue: `${name}:3`, pending: 4, inFlight: 0, processed: 1 },
      ].map((row) => ({
        ...row,
        deadLettered: 2,
        retriesWaiting: row.partition === 1 ? 1 : 0,
        liveWorkers: row.partition === 0 ? 2 : 1,
      })),
    );
    expect(stats).toMatchObject({
      queue: name,
      pending: 8,
      inFlight: 1,
      enqueued: 4 + 5 + 6 + 7,
      processed: 4,
      deadLettered: 8,
      deadLetteredTotal: 8,
      retriesWaiting: 1,
      retried: 1,
      recovered: 0,
      byType: { even: 2, odd: 2 },
    });

    // Every total is the sum of what each partition alone reads.
    const parts = await Promise.all(partitions.map((keys) => readQueueStats(redis, keys)));
    for (const figure of [
      "pending",
      "inFlight",
      "enqueued",
      "processed",
      "deadLettered",
      "deadLetteredTotal",
      "retriesWaiting",
      "retried",
      "recovered",
    ] as const) {
      expect(stats[figure], figure).toBe(parts.reduce((sum, part) => sum + part[figure], 0));
    }

    // w1 is live everywhere; w2's lease ran out in partition 1, so it is listed as expired,
    // with its earliest lease and all it holds.
    expect(stats.workers).toEqual([
      expect.objectContaining({ id: "w1", inFlight: 0, processed: 4 }),
    ]);
    expect(stats.expiredWorkers).toEqual([
      { id: "w2", inFlight: 1, processed: 0, leaseExpiresAtMs: 0 },
    ]);
  });

  it("readQueueStateOf sums counts and keeps the largest age and live worker count", async () => {
    const { name, partitions } = await fillPartitionedQueue();
    const parts = await Promise.all(partitions.map((keys) => readQueueState(redis, keys)));
    const state = await readQueueStateOf(redis, name);
    expect(state).toMatchObject({
      queue: name,
      pending: 8,
      // Held by live leases only: w2's event in partition 0.
      inFlight: 1,
      delayed: 1,
      deadLetters: 8,
      liveWorkers: 2,
    });
    // Read after the partitions, so at least as old as the oldest of them.
    expect(state.oldestPendingAgeMs).toBeGreaterThanOrEqual(
      Math.max(...parts.map((part) => part.oldestPendingAgeMs)),
    );
    expect(state.oldestPendingAgeMs).toBeGreaterThan(0);
  });

  it("lists dead letters newest first across partitions and replays each into its own", async () => {
    const { name, partitions, deadIds } = await fillPartitionedQueue();
    const all = await listQueueDeadLetters(redis, name);
    expect(all.map((dead) => [dead.partition, dead.entry.meta.reason])).toEqual(
      [3, 2, 1, 0].flatMap((p) => [
        [p, "rejected"],
        [p, "max_attempts"],
      ]),
    );
    for (const dead of all) {
      expect(dead.keys.deadLetter).toBe(partitions[dead.partition]!.deadLetter);
      expect(dead.entry.stored?.event?.eventId).toBe(
        deadIds[dead.partition]![dead.entry.meta.reason],
      );
    }
    const raws = (list: readonly QueueDeadLetter[]) => list.map((dead) => dead.entry.raw);
    expect(raws(await listQueueDeadLetters(redis, name, {}, 3))).toEqual(raws(all.slice(0, 3)));
    expect(
      (await listQueueDeadLetters(redis, name, { reason: "rejected" })).map((d) => d.partition),
    ).toEqual([3, 2, 1, 0]);

    // Exact entries: the odd partitions' four, each back on its own partition, oldest first.
    const odd = await listQueueDeadLetters(redis, name, { type: "odd" });
    const pendingBefore = await Promise.all(partitions.map(pendingIds));
    expect(await replayQueueDeadLetterEntries(redis, odd)).toBe(4);
    expect(await replayQueueDeadLetterEntries(redis, odd)).toBe(0);
    for (const p of [1, 3]) {
      expect(await pendingIds(partitions[p]!)).toEqual([
        ...pendingBefore[p]!,
        deadIds[p]!.max_attempts,
        deadIds[p]!.rejected,
      ]);
    }
    for (const p of [0, 2]) expect(await pendingIds(partitions[p]!)).toEqual(pendingBefore[p]);
    expect(await countQueueDeadLetters(redis, name)).toBe(4);

    // By filter: partitions 0 and 2's max_attempts entries, each into its own partition.
    expect(await replayQueueDeadLetters(redis, name, { reason: "max_attempts" })).toBe(2);
    for (const p of [0, 2]) {
      expect(await pendingIds(partitions[p]!)).toEqual([
        ...pendingBefore[p]!,
        deadIds[p]!.max_attempts,
      ]);
    }
    expect((await readQueueStatsOf(redis, name)).partitions?.map((row) => row.pending)).toEqual([
      1, 3, 4, 6,
    ]);
  });

  it("purges dead letters across partitions, by filter and by exact entries", async () => {
    const { name, partitions } = await fillPartitionedQueue();
    expect(await purgeQueueDeadLetters(redis, name, { reason: "rejected" })).toBe(4);
    const left = await listQueueDeadLetters(redis, name);
    expect(left.map((dead) => [dead.partition, dead.entry.meta.reason])).toEqual(
      [3, 2, 1, 0].map((p) => [p, "max_attempts"]),
    );
    expect(await purgeQueueDeadLetterEntries(redis, left)).toBe(4);
    expect(await purgeQueueDeadLetterEntries(redis, left)).toBe(0);
    expect(await countQueueDeadLetters(redis, name)).toBe(0);
    for (const keys of partitions) expect(await redis.llen(keys.deadLetter)).toBe(0);
    // Purged, not replayed: nothing came back on any partition.
    expect((await readQueueStatsOf(redis, name)).pending).toBe(8);
  });
});

describe("a queue with one partition read by name", () => {
  it("reads exactly as its own keys do, without a partitions field", async () => {
    const name = uniqueQueueName("whole");
    const keys = queueKeys(name);
    const events = [newEvent("a"), newEvent("a"), newEvent("b")];
    await createEnqueuer(redis, [keys]).enqueue(
      events.map((event) => ({ eventId: event.eventId, envelope: encodeNewEvent(event, 1) })),
      limits,
    );
    const store = createQueueStore(redis, keys);
    const claimed = await store.claim(claimOf("w", 2));
    await store.ack("w", new Map([["a", [1]]]));
    await store.deadLetter(
      "w",
      2,
      encodeDeadLetter(
        { reason: "rejected", message: "test", worker: "w", deadLetteredAtMs: Date.now() },
        claimed[1]!,
      ),
    );

    const [byName, byKeys] = await Promise.all([
      readQueueStatsOf(redis, name),
      readQueueStats(redis, keys),
    ]);
    expect(byName).toEqual(byKeys);
    expect(byName).not.toHaveProperty("partitions");
    // Unrecorded and recorded as 1 (after a change back from more partitions) read the same.
    await redis.set(partitionCountKey(name), "1");
    expect(await readQueueStatsOf(redis, name)).toEqual(byKeys);

    const state = await readQueueStateOf(redis, name);
    expect({ ...state, oldestPendingAgeMs: 0 }).toEqual({
      ...(await readQueueState(redis, keys)),
      oldestPendingAgeMs: 0,
    });

    const dead = await listQueueDeadLetters(redis, name);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.partition).toBe(0);
    expect(dead[0]!.keys.deadLetter).toBe(keys.deadLetter);
    expect(await replayQueueDeadLetterEntries(redis, dead)).toBe(1);
    expect(await pendingIds(keys)).toEqual([events[2]!.eventId, events[1]!.eventId]);
  });
});
