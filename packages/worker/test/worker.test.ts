import { describe, expect, it } from "vitest";
import { startTestCollector, uniqueQueueName } from "../../../test-support/collector.js";
import { useSharedRedis } from "../../../test-support/shared-redis.js";
import { startTestWorker } from "../../../test-support/worker.js";
import { createEventClient, sampleEvents, streamEvents } from "../../producer/src/index.js";
import type { Event } from "../../proto/src/index.js";
import {
  decodeDeadLetter,
  decodeEnvelope,
  queueKeys,
  readQueueStats,
} from "../../queue/src/index.js";
import type { EventContext } from "../src/index.js";

const { redisUrl, redis } = useSharedRedis();

async function produce(queue: string, events: Event[]): Promise<void> {
  const collector = await startTestCollector(redisUrl, queue);
  const client = createEventClient({ address: collector.address });
  const summary = await streamEvents(client, events);
  client.close();
  await collector.close();
  expect(summary.eventsReceived).toBe(events.length);
}

describe("worker", () => {
  it("starts events in the order they were sent and acknowledges each once", async () => {
    const queue = uniqueQueueName("fifo");
    const events = [...sampleEvents(3000)];
    await produce(queue, events);
    const started: string[] = [];
    const { worker, close } = await startTestWorker(
      redisUrl,
      queue,
      async (event) => {
        started.push(event.eventId);
        await new Promise((resolve) => setImmediate(resolve));
      },
      { WORKER_CONCURRENCY: "50", WORKER_BATCH_SIZE: "20" },
    );
    await expect.poll(() => worker.counters.processed, { timeout: 20_000 }).toBe(3000);
    await close();
    expect(started).toEqual(events.map((event) => event.eventId));
    const stats = await readQueueStats(redis, queueKeys(queue));
    expect(stats).toMatchObject({ pending: 0, inFlight: 0, processed: 3000, deadLettered: 0 });
    expect(stats.byType).toEqual({ page_view: 1500, user_login: 1500 });
  });

  it("retries a failing handler with the attempt number, then succeeds", async () => {
    const queue = uniqueQueueName("retry");
    const [event] = [...sampleEvents(1)];
    await produce(queue, [event!]);
    const attempts: EventContext[] = [];
    const { worker, close } = await startTestWorker(
      redisUrl,
      queue,
      async (_event, ctx) => {
        attempts.push(ctx);
        if (ctx.attempt < 3) throw new Error(`flaky downstream (try ${ctx.attempt})`);
      },
      { RETRY_BASE_DELAY_MS: "20", MAX_ATTEMPTS: "5" },
    );
    await expect.poll(() => worker.counters.processed, { timeout: 10_000 }).toBe(1);
    await close();
    expect(attempts.map((ctx) => [ctx.eventId, ctx.attempt])).toEqual([
      [event!.eventId, 1],
      [event!.eventId, 2],
      [event!.eventId, 3],
    ]);
    const stats = await readQueueStats(redis, queueKeys(queue));
    expect(stats).toMatchObject({ processed: 1, retried: 2, retriesWaiting: 0, deadLettered: 0 });
  });

  it("dead-letters an event after MAX_ATTEMPTS with its errors, and carries on", async () => {
    const queue = uniqueQueueName("dead");
    const events = [...sampleEvents(5)];
    await produce(queue, events);
    const poisonId = events[2]!.eventId;
    const { worker, close } = await startTestWorker(
      redisUrl,
      queue,
      async (event, ctx) => {
        if (event.eventId === poisonId) throw new Error(`cannot handle (try ${ctx.attempt})`);
      },
      { RETRY_BASE_DELAY_MS: "10", MAX_ATTEMPTS: "3" },
    );
    await expect
      .poll(() => worker.counters.processed + worker.counters.deadLettered, { timeout: 10_000 })
      .toBe(5);
    await close();
    const stats = await readQueueStats(redis, queueKeys(queue));
    expect(stats).toMatchObject({ processed: 4, deadLettered: 1, pending: 0, inFlight: 0 });
    const [raw] = await redis.lrangeBuffer(queueKeys(queue).deadLetter, 0, -1);
    const entry = decodeDeadLetter(raw!);
    expect(entry.meta).toMatchObject({
      reason: "max_attempts",
      attempts: 3,
      firstError: "Error: cannot handle (try 1)",
      lastError: "Error: cannot handle (try 3)",
      worker: worker.id,
    });
    expect(entry.stored?.event?.eventId).toBe(poisonId);
  });

  it("dead-letters a queue entry it cannot decode and keeps consuming", async () => {
    const queue = uniqueQueueName("garbage");
    const events = [...sampleEvents(3)];
    await redis.lpush(queue, "not an envelope");
    await produce(queue, events);
    const seen: string[] = [];
    const { worker, close } = await startTestWorker(redisUrl, queue, async (event) => {
      seen.push(event.eventId);
    });
    await expect.poll(() => worker.counters.processed, { timeout: 10_000 }).toBe(3);
    await close();
    expect(seen).toEqual(events.map((event) => event.eventId));
    const [raw] = await redis.lrangeBuffer(queueKeys(queue).deadLetter, 0, -1);
    const entry = decodeDeadLetter(raw!);
    expect(entry.meta.reason).toBe("undecodable");
    expect(entry.envelope.toString()).toBe("not an envelope");
  });

  it("on close, finishes in-flight handlers and returns unstarted claims to the queue", async () => {
    const queue = uniqueQueueName("close");
    const events = [...sampleEvents(200)];
    await produce(queue, events);
    const finished: string[] = [];
    const { worker, close } = await startTestWorker(
      redisUrl,
      queue,
      async (event) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        finished.push(event.eventId);
      },
      { WORKER_CONCURRENCY: "10", WORKER_BATCH_SIZE: "10" },
    );
    await expect.poll(() => finished.length, { timeout: 10_000 }).toBeGreaterThan(20);
    await close(5000);
    const stats = await readQueueStats(redis, queueKeys(queue));
    expect(stats.inFlight).toBe(0);
    expect(stats.processed).toBe(finished.length);
    expect(stats.pending + finished.length).toBe(200);
    expect(worker.inFlight).toBe(0);
  });
});

describe("worker shutdown past its grace period", () => {
  it("puts back a handler it cut off as it was, spending none of its attempts", async () => {
    const queue = uniqueQueueName("cut-off");
    const events = [...sampleEvents(3)];
    await produce(queue, events);
    // Like an HTTP or gRPC processor: the handler gives up when the grace period runs out.
    const { worker, close } = await startTestWorker(redisUrl, queue, (_event, ctx) => {
      return new Promise((_resolve, reject) => {
        ctx.signal.addEventListener("abort", () => reject(new Error("cut off by shutdown")));
      });
    });
    await expect.poll(() => worker.inFlight, { timeout: 10_000 }).toBe(3);
    await close(100);

    const keys = queueKeys(queue);
    const pending = (await redis.lrangeBuffer(keys.pending, 0, -1)).map(decodeEnvelope);
    expect(new Set(pending.map(({ stored }) => stored.event!.eventId))).toEqual(
      new Set(events.map((event) => event.eventId)),
    );
    for (const { stored } of pending) expect(stored.attempts).toBe(0);
    expect(await redis.zcard(keys.delayed)).toBe(0);
    expect((await readQueueStats(redis, keys)).deadLettered).toBe(0);
  });
});

describe("worker restarted with the same WORKER_ID", () => {
  it("first puts back what its previous life held, so nothing is overwritten", async () => {
    const queue = uniqueQueueName("same-id");
    const events = [...sampleEvents(20)];
    await produce(queue, events);
    // The previous process claimed 5 events and died before acknowledging them.
    const { createQueueStore } = await import("../../queue/src/index.js");
    await createQueueStore(redis, queueKeys(queue)).claim({
      workerId: "fixed-id",
      max: 5,
      firstSequence: 1,
      leaseMs: 60_000,
    });
    const seen: string[] = [];
    const { worker, close } = await startTestWorker(
      redisUrl,
      queue,
      async (event) => {
        seen.push(event.eventId);
      },
      { WORKER_ID: "fixed-id" },
    );
    await expect.poll(() => worker.counters.processed, { timeout: 10_000 }).toBe(20);
    await close();
    expect(seen).toEqual(events.map((event) => event.eventId));
  });
});
