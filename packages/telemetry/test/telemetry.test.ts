// The metric catalogue, the bounded type label, the /metrics server and the queue gauges
// against real Redis.
import { readFileSync } from "node:fs";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { uniqueQueueName } from "../../../test-support/collector.js";
import { freePort } from "../../../test-support/redis-server.js";
import { useSharedRedis } from "../../../test-support/shared-redis.js";
import { newEvent } from "../../producer/src/index.js";
import { createEnqueuer, encodeNewEvent, queueKeys } from "../../queue/src/index.js";
import {
  addQueueGauges,
  createMetricRegistry,
  createTypeLabel,
  METRICS,
  startMetricsServer,
} from "../src/index.js";

const { redis } = useSharedRedis();

describe("the metric catalogue", () => {
  it("follows Prometheus naming: prefix, _total only on counters, base units", () => {
    for (const spec of METRICS) {
      expect(spec.name).toMatch(/^eventpipe_(collector|worker|queue)_[a-z_]+$/);
      expect(spec.name.endsWith("_total")).toBe(spec.type === "counter");
      expect(spec.name).not.toMatch(/_(ms|milliseconds)$/);
    }
  });

  it("is the table the README shows", () => {
    const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
    const listed = [...readme.matchAll(/^\| `(eventpipe_[a-z_]+)` \| (\w+) \|/gm)].map(
      ([, name, type]) => `${name} ${type}`,
    );
    expect(listed.sort()).toEqual(METRICS.map((spec) => `${spec.name} ${spec.type}`).sort());
  });
});

describe("type labels", () => {
  it("name only types the operator named; everything else is other", () => {
    const label = createTypeLabel(
      ["user_login"],
      [{ name: "orders", types: ["order.created", "order.*"], queues: ["q"] }],
    );
    expect(["user_login", "order.created", "order.paid", "x"].map(label)).toEqual([
      "user_login",
      "order.created",
      "other",
      "other",
    ]);
  });
});

describe("GET /metrics", () => {
  it("serves the registry with queue state read from Redis on each scrape", async () => {
    const queue = uniqueQueueName("gauges");
    const metrics = createMetricRegistry("worker");
    addQueueGauges(metrics, redis, [queue]);
    const server = await startMetricsServer("127.0.0.1:0", metrics);
    try {
      const scrape = async () => (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      expect(await scrape()).toContain(`eventpipe_queue_pending{queue="${queue}"} 0`);

      const enqueuedAt = Date.now() - 5000;
      const entries = [newEvent("a"), newEvent("b")].map((event) => ({
        eventId: event.eventId,
        envelope: encodeNewEvent(event, enqueuedAt),
      }));
      await createEnqueuer(redis, [queueKeys(queue)]).enqueue(entries, {
        dedupWindowMs: 0,
        maxBacklog: 0,
      });
      const text = await scrape();
      expect(text).toContain(`eventpipe_queue_pending{queue="${queue}"} 2`);
      const age = Number(
        new RegExp(`eventpipe_queue_oldest_pending_age_seconds\\{queue="${queue}"\\} (\\S+)`).exec(
          text,
        )?.[1],
      );
      expect(age).toBeGreaterThanOrEqual(4);
      expect(age).toBeLessThan(60);
      expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

describe("during a Redis outage", () => {
  it("still serves the service's own metrics and /healthz, leaving the queue gauges out", async () => {
    // Nothing listens there; like a worker's connection, it holds commands until Redis comes.
    const away = new Redis(await freePort(), "127.0.0.1", {
      maxRetriesPerRequest: null,
      retryStrategy: () => 200,
    });
    away.on("error", () => {});
    const metrics = createMetricRegistry("worker");
    addQueueGauges(metrics, away, [uniqueQueueName("away")]);
    metrics.counter("eventpipe_worker_events_retried_total").inc({ queue: "q" });
    const server = await startMetricsServer("127.0.0.1:0", metrics);
    try {
      const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      expect(text).toContain('eventpipe_worker_events_retried_total{queue="q"} 1');
      expect(text).not.toMatch(/^eventpipe_queue_pending\{/m);
      const health = await fetch(`http://127.0.0.1:${server.port}/healthz`);
      expect(health.status).toBe(200);
    } finally {
      await server.close();
      away.disconnect();
    }
  });
});
