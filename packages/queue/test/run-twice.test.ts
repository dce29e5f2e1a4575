// Every queue script run twice with the same arguments, as ioredis does when it resends a
// command whose reply a dropped connection lost, or as a caller does when it retries: the
// second run must find the first run's effect and add nothing, lose nothing, count nothing.
import { describe, expect, it } from "vitest";
import { uniqueQueueName } from "../../../test-support/collector.js";
import { useSharedRedis } from "../../../test-support/shared-redis.js";
import { newEvent } from "../../producer/src/index.js";
import {
  createQueueStore,
  decodeEnvelope,
  encodeDeadLetter,
  encodeNewEvent,
  purgeDeadLetters,
  queueKeys,
  readQueueStats,
} from "../src/index.js";

const { redis } = useSharedRedis();

function setup(count: number) {
  const store = createQueueStore(redis, queueKeys(uniqueQueueName("twice")));
  const events = Array.from({ length: count }, () => newEvent("t"));
  const entries = events.map((event) => ({
    eventId: event.eventId,
    envelope: encodeNewEvent(event, Date.now()),
  }));
  return { store, keys: store.keys, events, entries };
}
const ids = (raws: Buffer[]) => raws.map((raw) => decodeEnvelope(raw).stored.event!.eventId);
const claimOf = (workerId: string, max: number, firstSequence: number) => ({
  workerId,
  max,
  firstSequence,
  leaseMs: 60_000,
});
const noLimits = { dedupWindowMs: 0, maxBacklog: 0 };

describe("every queue script is safe to run twice", () => {
  it("enqueue: with deduplication on, a resent chunk stores nothing again", async () => {
    const { store, keys, entries } = setup(20);
    const limits = { dedupWindowMs: 60_000, maxBacklog: 0 };
    expect(await store.enqueue(entries, limits)).toEqual({ stored: 20, duplicates: 0 });
    expect(await store.enqueue(entries, limits)).toEqual({ stored: 0, duplicates: 20 });
    expect(await redis.llen(keys.pending)).toBe(20);
  });

  it("claim: a resent claim returns the first run's events and takes no others", async () => {
    const { store, keys, events, entries } = setup(10);
    await store.enqueue(entries, noLimits);
    const first = await store.claim(claimOf("w", 4, 1000));
    const resent = await store.claim(claimOf("w", 4, 1000));
    expect(ids(resent)).toEqual(ids(first));
    expect(ids(first)).toEqual(events.slice(0, 4).map((e) => e.eventId));
    expect(await redis.llen(keys.pending)).toBe(6);
    expect(await redis.hlen(keys.inflight("w"))).toBe(4);

    // A short claim resent: still only its own events, although more are pending now.
    const short = setup(0);
    await short.store.enqueue(entries.slice(0, 2), noLimits);
    const partial = await short.store.claim(claimOf("w", 5, 1));
    await short.store.enqueue(entries.slice(2, 5), noLimits);
    expect(ids(await short.store.claim(claimOf("w", 5, 1)))).toEqual(ids(partial));
    expect(await redis.llen(short.keys.pending)).toBe(3);

    // The next claim, under the sequences that follow, takes the rest in order.
    const next = await store.claim(claimOf("w", 100, 1004));
    expect(ids(next)).toEqual(events.slice(4).map((e) => e.eventId));
  });

  it("claim: a resend after the worker's events were taken back claims afresh, overwriting nothing", async () => {
    const { store, keys, entries } = setup(6);
    await store.enqueue(entries, noLimits);
    await store.claim(claimOf("w", 3, 1));
    await redis.zadd(keys.workers, 0, "w"); // the lease ran out
    await store.recover("w", { maxDeliveries: 5, force: false, countDelivery: true });
    const resent = await store.claim(claimOf("w", 3, 1));
    expect(resent).toHaveLength(3);
    expect(await redis.llen(keys.pending)).toBe(3);
    // The claim registered the worker again, so its new events can be taken back if it dies.
    expect(Number(await redis.zscore(keys.workers, "w"))).toBeGreaterThan(Date.now());
  });

  it("claim: a first run that arrives after its resend was answered and acknowledged takes nothing", async () => {
    const { store, keys, entries } = setup(6);
    await store.enqueue(entries, noLimits);
    expect(await store.claim(claimOf("w", 3, 1000))).toHaveLength(3); // the resend, answered
    expect(await store.ack("w", new Map([["t", [1000, 1001, 1002]]]))).toBe(3);
    expect(await store.claim(claimOf("w", 3, 1000))).toEqual([]); // the late first run
    expect(await redis.llen(keys.pending)).toBe(3);
    expect(await redis.hlen(keys.inflight("w"))).toBe(0);
    // Later claims, under later sequences, go on as usual.
    expect(await store.claim(claimOf("w", 3, 1003))).toHaveLength(3);
  });

  it("ack: a resent ack counts nothing again", async () => {
    const { store, keys, entries } = setup(3);
    await store.enqueue(entries, noLimits);
    await store.claim(claimOf("w", 3, 1));
    const acks = new Map([["t", [1, 2, 3]]]);
    expect(await store.ack("w", acks)).toBe(3);
    expect(await store.ack("w", acks)).toBe(0);
    const stats = await readQueueStats(redis, keys);
    expect(stats.processed).toBe(3);
    expect(stats.byType).toEqual({ t: 3 });
  });

  it("complete: a resent completion stores each result and publishes each reply once", async () => {
    const { store, keys, entries, events } = setup(3);
    const results = queueKeys(uniqueQueueName("results"));
    await store.enqueue(entries, noLimits);
    await store.claim(claimOf("w", 3, 1));
    const channel = `replies:${uniqueQueueName("calls")}`;
    const listener = redis.duplicate();
    const heard: string[] = [];
    listener.on("message", (_channel, message) => heard.push(message));
    await listener.subscribe(channel);
    const completions = events.map((event, i) => ({
      sequence: i + 1,
      type: "t",
      result: encodeNewEvent(event, 1),
      replyTo: i === 0 ? channel : undefined,
      reply: i === 0 ? Buffer.from("answer") : undefined,
    }));
    expect(await store.complete("w", completions, results)).toBe(3);
    expect(await store.complete("w", completions, results)).toBe(0);
    expect(await redis.llen(results.pending)).toBe(3);
    expect(await redis.hlen(keys.inflight("w"))).toBe(0);
    expect((await readQueueStats(redis, keys)).processed).toBe(3);
    // A marker published after the replies arrives after them: then nothing more is coming.
    await redis.publish(channel, "end");
    for (let i = 0; i < 100 && !heard.includes("end"); i++) await listener.ping();
    listener.disconnect();
    expect(heard).toEqual(["answer", "end"]);
  });

  it("retry and dead-letter: a resent call schedules or dead-letters the event once", async () => {
    const { store, keys, entries } = setup(2);
    await store.enqueue(entries, noLimits);
    const [a, b] = await store.claim(claimOf("w", 2, 1));
    expect(await store.retry("w", 1, 60_000, a!)).toBe(true);
    expect(await store.retry("w", 1, 60_000, a!)).toBe(false);
    const entry = encodeDeadLetter(
      { reason: "max_attempts", message: "test", worker: "w", deadLetteredAtMs: 1 },
      b!,
    );
    expect(await store.deadLetter("w", 2, entry)).toBe(true);
    expect(await store.deadLetter("w", 2, entry)).toBe(false);
    const stats = await readQueueStats(redis, keys);
    expect(stats).toMatchObject({ retriesWaiting: 1, retried: 1, deadLettered: 1 });
    expect(stats.deadLetteredTotal).toBe(1);
  });

  it("promote: a resent promotion moves each due retry once", async () => {
    const { store, keys, entries } = setup(3);
    for (const [i, entry] of entries.entries()) await redis.zadd(keys.delayed, i, entry.envelope);
    expect(await store.promoteDue(100)).toBe(3);
    expect(await store.promoteDue(100)).toBe(0);
    expect(await redis.llen(keys.pending)).toBe(3);
  });

  it("recover: a resent recovery, or two workers racing, requeue the events once", async () => {
    const { store, keys, entries } = setup(4);
    await store.enqueue(entries, noLimits);
    await store.claim(claimOf("dead", 4, 1));
    await redis.zadd(keys.workers, 0, "dead");
    const options = { maxDeliveries: 5, force: false, countDelivery: true };
    const [one, two] = await Promise.all([
      store.recover("dead", options),
      store.recover("dead", options),
    ]);
    expect([one, two]).toContainEqual({ requeued: 4, deadLettered: 0 });
    expect([one, two]).toContainEqual({ requeued: 0, deadLettered: 0 });
    expect(await redis.llen(keys.pending)).toBe(4);
    expect((await readQueueStats(redis, keys)).recovered).toBe(4);
  });

  it("return: a resent return requeues the named entries once, and only them", async () => {
    const { store, keys, entries } = setup(3);
    await store.enqueue(entries, noLimits);
    await store.claim(claimOf("w", 3, 10));
    expect(await store.returnEntries("w", [10, 12])).toBe(2);
    expect(await store.returnEntries("w", [10, 12])).toBe(0);
    expect(await store.heldSequences("w")).toEqual([11]);
    expect(ids(await redis.lrangeBuffer(keys.pending, 0, -1)).sort()).toEqual(
      [entries[0]!.eventId, entries[2]!.eventId].sort(),
    );
    expect((await readQueueStats(redis, keys)).recovered).toBe(2);
  });

  it("replay and purge: a resent call moves or deletes each dead letter once", async () => {
    const { store, keys, entries } = setup(2);
    const [first, second] = entries.map((entry, i) =>
      encodeDeadLetter(
        { reason: "poison", message: "test", worker: "w", deadLetteredAtMs: i },
        entry.envelope,
      ),
    );
    await redis.lpush(keys.deadLetter, first!, second!);
    const pairs = [first!, entries[0]!.envelope];
    expect(await store.replay(pairs)).toBe(1);
    expect(await store.replay(pairs)).toBe(0);
    expect(await redis.llen(keys.pending)).toBe(1);
    expect(await purgeDeadLetters(redis, keys)).toBe(1);
    expect(await purgeDeadLetters(redis, keys)).toBe(0);
  });

  it("heartbeat: a resent heartbeat keeps one lease, and says when the lease had been lost", async () => {
    const { store, keys } = setup(0);
    expect((await store.heartbeat("w", 60_000)).reRegistered).toBe(true);
    expect((await store.heartbeat("w", 60_000)).reRegistered).toBe(false);
    expect(await redis.zcard(keys.workers)).toBe(1);
    await redis.zrem(keys.workers, "w"); // taken back by another worker
    expect((await store.heartbeat("w", 60_000)).reRegistered).toBe(true);
  });
});
