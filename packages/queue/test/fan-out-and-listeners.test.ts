// Fan-out (one chunk, a copy in each queue, all or none) and listeners (a capped copy of what
// is stored, without taking it), against the real scripts.
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { uniqueQueueName } from "../../../test-support/collector.js";
import { useSharedRedis } from "../../../test-support/shared-redis.js";
import { newEvent } from "../../producer/src/index.js";
import {
  BacklogFullError,
  createEnqueuer,
  createListener,
  createQueueStore,
  decodeEnvelope,
  encodeNewEvent,
  LISTENER_BUFFER,
  type QueueKeys,
  queueKeys,
} from "../src/index.js";

const { redisUrl, redis } = useSharedRedis();
const blocking = new Redis(redisUrl);
afterAll(() => blocking.disconnect());

const dedup = { dedupWindowMs: 60_000, maxBacklog: 0 };

function entriesOf(count: number, type = "order.created") {
  const events = Array.from({ length: count }, () => newEvent(type));
  return events.map((event) => ({
    eventId: event.eventId,
    envelope: encodeNewEvent(event, Date.now()),
  }));
}

/** Event ids in a pending list, oldest first. */
async function pendingIds(keys: QueueKeys): Promise<string[]> {
  const raws = await redis.lrangeBuffer(keys.pending, 0, -1);
  return raws.reverse().map((raw) => decodeEnvelope(raw).stored.event!.eventId);
}

function listenerOn(queues: QueueKeys[], id = `l${Math.random().toString(36).slice(2)}`) {
  return createListener({ control: redis, blocking, queues, id, leaseMs: 30_000 });
}

describe("fan-out enqueue", () => {
  it("stores every event in each queue, in order, and a resent chunk in none", async () => {
    const billing = queueKeys(uniqueQueueName("billing"));
    const audit = queueKeys(uniqueQueueName("audit"));
    const fanOut = createEnqueuer(redis, [billing, audit]);
    const entries = entriesOf(25);
    const ids = entries.map((entry) => entry.eventId);

    expect(await fanOut.enqueue(entries, dedup)).toEqual({ stored: 25, duplicates: 0 });
    expect(await fanOut.enqueue(entries, dedup)).toEqual({ stored: 0, duplicates: 25 });
    // A chunk mixing new ids and resent ones stores only the new ones, in each queue.
    const more = entriesOf(5);
    const mixed = [...more.slice(0, 2), entries[3]!, ...more.slice(2)];
    expect(await fanOut.enqueue(mixed, dedup)).toEqual({ stored: 5, duplicates: 1 });

    const expected = [...ids, ...more.map((entry) => entry.eventId)];
    expect(await pendingIds(billing)).toEqual(expected);
    expect(await pendingIds(audit)).toEqual(expected);
  });

  it("stores in no queue when one of them is past the backlog limit", async () => {
    const billing = queueKeys(uniqueQueueName("billing"));
    const audit = queueKeys(uniqueQueueName("audit"));
    await createEnqueuer(redis, [audit]).enqueue(entriesOf(8), dedup);
    const fanOut = createEnqueuer(redis, [billing, audit]);

    const refused = fanOut.enqueue(entriesOf(5), { dedupWindowMs: 60_000, maxBacklog: 10 });
    await expect(refused).rejects.toBeInstanceOf(BacklogFullError);
    expect(await redis.llen(billing.pending)).toBe(0);
    expect(await redis.llen(audit.pending)).toBe(8);
  });
});

describe("listeners", () => {
  it("get a copy of each stored event, oldest first, while the queue keeps every event", async () => {
    const orders = queueKeys(uniqueQueueName("orders"));
    const listener = listenerOn([orders]);
    expect((await listener.renew()).rejoined).toEqual([orders.name]);

    const entries = entriesOf(30);
    await createEnqueuer(redis, [orders]).enqueue(entries, dedup);
    const seen = await listener.read(100, 1000);
    expect(seen.map((e) => e.queue)).toEqual(entries.map(() => orders.name));
    expect(seen.map((e) => decodeEnvelope(e.envelope).stored.event!.eventId)).toEqual(
      entries.map((entry) => entry.eventId),
    );
    expect(await redis.llen(orders.pending)).toBe(30);
    expect(await listener.read(100, 50)).toEqual([]);
  });

  it("see fan-out copies, retries put back, dead-letter replays and results", async () => {
    const billing = queueKeys(uniqueQueueName("billing"));
    const audit = queueKeys(uniqueQueueName("audit"));
    const results = queueKeys(uniqueQueueName("results"));
    const listener = listenerOn([billing, audit, results]);
    await listener.renew();
    const [event] = entriesOf(1);
    await createEnqueuer(redis, [billing, audit]).enqueue([event!], dedup);

    const store = createQueueStore(redis, billing);
    const [claimed] = await store.claim({
      workerId: "w",
      max: 1,
      firstSequence: 1,
      leaseMs: 60_000,
    });
    await store.retry("w", 1, 0, claimed!);
    expect(await store.promoteDue(10)).toBe(1);
    await store.claim({ workerId: "w", max: 1, firstSequence: 2, leaseMs: 60_000 });
    await store.complete("w", [{ sequence: 2, type: "order.created", result: claimed! }], results);

    const queues: string[] = [];
    for (let round = 0; round < 10 && queues.length < 4; round++) {
      for (const seen of await listener.read(100, 200)) queues.push(seen.queue);
    }
    expect(queues.sort()).toEqual([audit.name, billing.name, billing.name, results.name].sort());
  });

  it("keep at most LISTENER_BUFFER copies and report how many they missed", async () => {
    const orders = queueKeys(uniqueQueueName("orders"));
    const listener = listenerOn([orders]);
    await listener.renew();
    const enqueuer = createEnqueuer(redis, [orders]);
    const total = LISTENER_BUFFER + 1500;
    for (let sent = 0; sent < total; sent += 1000) {
      await enqueuer.enqueue(entriesOf(Math.min(1000, total - sent)), dedup);
    }
    expect(await redis.llen(orders.listener(listener.id))).toBe(LISTENER_BUFFER);
    const renewal = await listener.renew();
    expect(renewal.dropped.get(orders.name)).toBe(1500);
    expect(renewal.rejoined).toEqual([]);
    // The newest stayed: the last copy is the last event stored.
    const newest = await redis.lindexBuffer(orders.listener(listener.id), 0);
    const last = (await redis.lindexBuffer(orders.pending, 0))!;
    expect(newest!.equals(last)).toBe(true);
  });

  it("leave nothing behind: leave() deletes their keys, a dead one's keys expire", async () => {
    const orders = queueKeys(uniqueQueueName("orders"));
    const enqueuer = createEnqueuer(redis, [orders]);
    const leaving = listenerOn([orders]);
    await leaving.renew();
    await enqueuer.enqueue(entriesOf(3), dedup);
    await leaving.leave();
    const dead = createListener({
      control: redis,
      blocking,
      queues: [orders],
      id: "dead",
      leaseMs: 300,
    });
    await dead.renew();
    await enqueuer.enqueue(entriesOf(3), dedup);
    expect(await redis.pttl(orders.listener("dead"))).toBeGreaterThan(0);
    expect(await redis.pttl(orders.listeners)).toBeGreaterThan(0);
    await expect
      .poll(() => redis.keys(`${orders.listeners}*`), { timeout: 5000, interval: 100 })
      .toEqual([]);
    expect(await redis.llen(orders.pending)).toBe(6);
  });
});
