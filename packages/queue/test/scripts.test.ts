import { describe, expect, it } from "vitest";
import { uniqueQueueName } from "../../../test-support/collector.js";
import { useSharedRedis } from "../../../test-support/shared-redis.js";
import { newEvent } from "../../producer/src/index.js";
import {
  BacklogFullError,
  createQueueStore,
  decodeDeadLetter,
  decodeEnvelope,
  EnvelopeDecodeError,
  encodeNewEvent,
  type QueueStore,
  queueKeys,
} from "../src/index.js";

const { redis } = useSharedRedis();

function setup(count: number) {
  const store = createQueueStore(redis, queueKeys(uniqueQueueName("scripts")));
  const events = Array.from({ length: count }, (_, i) => newEvent(i % 2 ? "a" : "b"));
  const entries = events.map((event) => ({
    eventId: event.eventId,
    envelope: encodeNewEvent(event, Date.now()),
  }));
  return { store, events, entries, keys: store.keys };
}
/** Claims under sequences first, first + 1, ... with a long lease. */
const claim = (store: QueueStore, workerId: string, max: number, firstSequence: number) =>
  store.claim({ workerId, max, firstSequence, leaseMs: 60_000 });
const ids = (raws: Buffer[]) => raws.map((raw) => decodeEnvelope(raw).stored.event!.eventId);
const noLimits = { dedupWindowMs: 0, maxBacklog: 0 };

describe("stored envelope", () => {
  it("round-trips an event and refuses what it did not write", () => {
    const event = newEvent("t", { payload: Buffer.from([0, 1, 2, 255]), attributes: { k: "v" } });
    const decoded = decodeEnvelope(encodeNewEvent(event, 1234));
    expect(decoded.deliveries).toBe(0);
    expect(decoded.stored.event).toEqual(event);
    expect(decoded.stored.enqueuedAtMs).toBe(1234n);
    for (const junk of ["", "ep1:", "ep1:x:abc", "ep2:0:", "hello", "ep1:1234567890123:"]) {
      expect(() => decodeEnvelope(Buffer.from(junk))).toThrow(EnvelopeDecodeError);
    }
  });
});

describe("queue scripts", () => {
  it("claims oldest first into the worker's hash; acks count only what the worker still holds", async () => {
    const { store, events, entries, keys } = setup(10);
    await store.enqueue(entries, noLimits);
    const first = await claim(store, "w1", 4, 1);
    const second = await claim(store, "w1", 100, 5);
    expect([...ids(first), ...ids(second)]).toEqual(events.map((e) => e.eventId));
    expect(await redis.hlen(keys.inflight("w1"))).toBe(10);
    expect(
      await store.ack(
        "w1",
        new Map([
          ["b", [1]],
          ["a", [2, 2, 99]],
        ]),
      ),
    ).toBe(2);
    expect(await redis.hgetall(keys.processedByType)).toEqual({ a: "1", b: "1" });
  });

  it("refuses a whole chunk past the backlog limit and drops ids seen within the window", async () => {
    const { store, entries, keys } = setup(10);
    await expect(
      store.enqueue(entries, { dedupWindowMs: 0, maxBacklog: 5 }),
    ).rejects.toBeInstanceOf(BacklogFullError);
    expect(await redis.llen(keys.pending)).toBe(0);
    const limits = { dedupWindowMs: 60_000, maxBacklog: 0 };
    expect(await store.enqueue(entries.slice(0, 6), limits)).toEqual({ stored: 6, duplicates: 0 });
    expect(await store.enqueue(entries, limits)).toEqual({ stored: 4, duplicates: 6 });
    expect(await redis.llen(keys.pending)).toBe(10);
  });

  it("recovers a dead worker's events to the head of the queue in order, and poison after MAX_DELIVERIES", async () => {
    const { store, events, entries, keys } = setup(5);
    await store.enqueue(entries, noLimits);
    await store.heartbeat("dead", 60_000);
    await claim(store, "dead", 3, 1);
    const recover = { maxDeliveries: 2, force: false, countDelivery: true };
    expect(await store.recover("dead", recover)).toBeUndefined(); // lease still valid

    await redis.zadd(keys.workers, 0, "dead"); // the lease ran out
    expect(await store.recover("dead", recover)).toEqual({ requeued: 3, deadLettered: 0 });
    const requeued = await claim(store, "next", 5, 1);
    expect(ids(requeued)).toEqual(events.map((e) => e.eventId));
    expect(requeued.map((raw) => decodeEnvelope(raw).deliveries)).toEqual([1, 1, 1, 0, 0]);

    // "next" dies too while holding them, then "third": the third recovery of the first
    // event exceeds MAX_DELIVERIES=2.
    await redis.zadd(keys.workers, 0, "next");
    expect(await store.recover("next", recover)).toEqual({ requeued: 5, deadLettered: 0 });
    await claim(store, "third", 1, 1);
    await redis.zadd(keys.workers, 0, "third");
    expect(await store.recover("third", recover)).toEqual({ requeued: 0, deadLettered: 1 });
    const [raw] = await redis.lrangeBuffer(keys.deadLetter, 0, -1);
    const poison = decodeDeadLetter(raw!);
    expect(poison.meta).toMatchObject({ reason: "poison", deliveries: 3, worker: "third" });
    expect(poison.stored?.event?.eventId).toBe(events[0]!.eventId);
    expect(await redis.llen(keys.pending)).toBe(4);
  });

  it("promotes due retries to the head of the queue, earliest due first", async () => {
    const { store, entries, keys } = setup(3);
    await store.enqueue(entries.slice(2), noLimits);
    await claim(store, "w", 1, 1);
    await store.enqueue(entries.slice(0, 2), noLimits);
    await redis.zadd(
      keys.delayed,
      2,
      entries[1]!.envelope,
      1,
      entries[0]!.envelope,
      Date.now() + 60_000,
      "later",
    );
    expect(await store.promoteDue(100)).toBe(2);
    const order = ids(await claim(store, "w", 10, 2));
    expect(order.slice(0, 2)).toEqual([entries[0]!.eventId, entries[1]!.eventId]);
    expect(await redis.zcard(keys.delayed)).toBe(1);
  });
});

describe("envelope of received bytes", () => {
  it("decodes exactly like an envelope encoded from the event", async () => {
    const { Event } = await import("../../proto/src/index.js");
    const { encodeReceivedEvent } = await import("../src/index.js");
    const event = newEvent("t", {
      payload: Buffer.alloc(300, 7),
      source: "s",
      attributes: { a: "b" },
    });
    const fromBytes = decodeEnvelope(
      encodeReceivedEvent(Event.encode(event).finish(), 1_795_000_000_123),
    );
    expect(fromBytes.stored.event).toEqual(event);
    expect(fromBytes.stored.enqueuedAtMs).toBe(1_795_000_000_123n);
    expect(fromBytes.deliveries).toBe(0);
    expect(fromBytes.stored.replyTo).toBe("");
  });

  it("carries the reply channel of a call", async () => {
    const { Event } = await import("../../proto/src/index.js");
    const { encodeReceivedEvent } = await import("../src/index.js");
    const event = newEvent("t", { payload: Buffer.from("{}") });
    const decoded = decodeEnvelope(
      encodeReceivedEvent(Event.encode(event).finish(), 42, "eventpipe:replies:c1"),
    );
    expect(decoded.stored.event).toEqual(event);
    expect(decoded.stored.replyTo).toBe("eventpipe:replies:c1");
    expect(decoded.stored.enqueuedAtMs).toBe(42n);
  });
});
