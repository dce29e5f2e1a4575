import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  startTestCollector,
  type TestCollector,
  uniqueQueueName,
} from "../../../test-support/collector.js";
import { type RedisServer, startRedisServer } from "../../../test-support/redis-server.js";
import { useSharedRedis } from "../../../test-support/shared-redis.js";
import { decodeEnvelope } from "../../queue/src/index.js";

const { redisUrl, redis } = useSharedRedis();

const started: TestCollector[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((collector) => collector.close()));
});

async function start(url: string, queue: string, env: Record<string, string> = {}) {
  const collector = await startTestCollector(url, queue, env);
  started.push(collector);
  return collector;
}

function postEvents(collector: TestCollector, count: number, prefix = "e") {
  const events = Array.from({ length: count }, (_, i) => ({
    eventId: `${prefix}-${i}`,
    type: "t",
  }));
  return fetch(`${collector.httpUrl}/v1/events`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(events),
  });
}

const status = async (url: string) => (await fetch(url)).status;

describe("HTTP door under pressure", () => {
  it("answers 429 with Retry-After past MAX_BACKLOG and stores nothing of the refused request", async () => {
    const queue = uniqueQueueName("http_backlog");
    const collector = await start(redisUrl, queue, { MAX_BACKLOG: "5", RETRY_AFTER_MS: "1500" });
    expect((await postEvents(collector, 4, "first")).status).toBe(200);
    const refused = await postEvents(collector, 3, "second");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("2");
    expect(await refused.json()).toMatchObject({
      error: expect.stringMatching(/backlog/),
      stored: 0,
    });
    expect(await redis.llen(queue)).toBe(4);
    // Room for one more: a request that fits is stored.
    expect((await postEvents(collector, 1, "third")).status).toBe(200);
    expect(await redis.llen(queue)).toBe(5);
  });

  it("says how much of a big request was stored when the backlog fills half-way, and the ids it made", async () => {
    const queue = uniqueQueueName("http_backlog_partial");
    const collector = await start(redisUrl, queue, {
      MAX_BACKLOG: "25",
      COLLECTOR_CHUNK_SIZE: "10",
    });
    const response = await fetch(`${collector.httpUrl}/v1/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(Array.from({ length: 40 }, () => ({ type: "t" }))),
    });
    expect(response.status).toBe(429);
    const body = (await response.json()) as {
      stored: number;
      assignedIds: { index: number; eventId: string }[];
    };
    // Written in pieces of 10: two fit under the limit of 25, the others were refused whole.
    expect(body.stored).toBe(20);
    expect(body.assignedIds.map(({ index }) => index)).toEqual([...Array(40).keys()]);
    const stored = (await redis.lrangeBuffer(queue, 0, -1))
      .reverse()
      .map((entry) => decodeEnvelope(entry).stored.event!.eventId);
    expect(stored).toEqual(body.assignedIds.slice(0, 20).map(({ eventId }) => eventId));
  });

  it("lets a request in flight finish when shutdown begins, and ends it with 503 past the grace period", async () => {
    const queue = uniqueQueueName("http_shutdown");
    const collector = await start(redisUrl, queue, { COLLECTOR_MAX_BUFFERED_EVENTS: "10" });
    const { budget } = collector.collector.core;

    // The budget is spent elsewhere: the request waits in flight until it is given back.
    const held = await budget.acquire(10);
    const finishing = postEvents(collector, 3, "finishing");
    await expect.poll(() => collector.collector.activeStreams).toBe(1);
    const closing = collector.collector.close(10_000);
    budget.release(held);
    expect((await finishing).status).toBe(200);
    await closing;
    expect(collector.collector.activeStreams).toBe(0);
    expect(await redis.llen(queue)).toBe(3);
    // Closing again is a no-op.
    await collector.collector.close(10_000);

    const other = await start(redisUrl, queue, { COLLECTOR_MAX_BUFFERED_EVENTS: "10" });
    const otherBudget = other.collector.core.budget;
    await otherBudget.acquire(10);
    const stuck = postEvents(other, 3, "stuck");
    await expect.poll(() => other.collector.activeStreams).toBe(1);
    await other.collector.close(200);
    const response = await stuck;
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(await response.json()).toMatchObject({ error: expect.stringMatching(/shutting down/) });
    expect(await redis.llen(queue)).toBe(3);
  });
});

describe("HTTP door while its Redis is in trouble", () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server.destroy();
  });

  it("answers 429 when Redis is at maxmemory", async () => {
    const queue = uniqueQueueName("http_oom");
    const collector = await start(server.url, queue);
    const admin = new Redis(server.url);
    try {
      await admin.config("SET", "maxmemory", "1");
      const refused = await postEvents(collector, 2, "oom");
      expect(refused.status).toBe(429);
      expect(refused.headers.get("retry-after")).toBe("1");
      expect(await refused.json()).toMatchObject({ error: expect.stringMatching(/maxmemory/) });
    } finally {
      await admin.config("SET", "maxmemory", "0");
      admin.disconnect();
    }
    expect((await postEvents(collector, 2, "after")).status).toBe(200);
  });

  it("answers 503 with Retry-After and readyz 503 while Redis is down, and recovers", async () => {
    const queue = uniqueQueueName("http_outage");
    const collector = await start(server.url, queue);
    const readyz = `${collector.httpUrl}/readyz`;
    await expect.poll(() => status(readyz), { timeout: 5000 }).toBe(200);
    expect((await postEvents(collector, 10, "before")).status).toBe(200);

    await server.kill();
    await expect.poll(() => status(readyz), { timeout: 5000 }).toBe(503);
    expect(await status(`${collector.httpUrl}/healthz`)).toBe(200);
    const refused = await postEvents(collector, 10, "during");
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(await refused.json()).toMatchObject({
      error: expect.stringMatching(/Redis is unreachable/),
      stored: 0,
    });
    const schemas = await fetch(`${collector.httpUrl}/v1/schemas`);
    expect(schemas.status).toBe(503);
    expect(schemas.headers.get("retry-after")).toBe("1");

    await server.start();
    await expect.poll(() => status(readyz), { timeout: 10_000 }).toBe(200);
    expect((await postEvents(collector, 10, "after")).status).toBe(200);
    const check = new Redis(server.url);
    try {
      expect(await check.llen(queue)).toBe(20);
    } finally {
      check.disconnect();
    }
  });
});
