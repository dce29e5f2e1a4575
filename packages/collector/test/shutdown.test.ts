// SIGTERM on a real collector process while streams are open.
import * as grpc from "@grpc/grpc-js";
import { Redis } from "ioredis";
import { afterEach, describe, expect, inject, it } from "vitest";
import { uniqueQueueName } from "../../../test-support/collector.js";
import { type ServiceProcess, spawnService } from "../../../test-support/processes.js";
import { freePort } from "../../../test-support/redis-server.js";
import { createEventClient, sampleEvents } from "../../producer/src/index.js";
import type { StreamSummary } from "../../proto/src/index.js";

const redisUrl = inject("redisUrl");
let proc: ServiceProcess | undefined;

afterEach(async () => {
  proc?.signal("SIGKILL");
  await proc?.exited;
});

async function startCollector(queue: string, graceMs: number): Promise<string> {
  const port = await freePort();
  proc = spawnService("collector", {
    REDIS_URL: redisUrl,
    QUEUE_NAME: queue,
    COLLECTOR_LISTEN: `127.0.0.1:${port}`,
    COLLECTOR_HTTP_LISTEN: "",
    SHUTDOWN_GRACE_MS: String(graceMs),
  });
  await expect.poll(() => proc!.output(), { timeout: 10_000 }).toContain("collector listening");
  return `127.0.0.1:${port}`;
}

/** Opens a batch stream and returns a writer plus the eventual summary or error. */
function openStream(address: string) {
  const client = createEventClient({ address });
  let settle: (value: StreamSummary | grpc.ServiceError) => void = () => {};
  const result = new Promise<StreamSummary | grpc.ServiceError>((resolve) => {
    settle = resolve;
  });
  const call = client.streamEventBatches((error, summary) => settle(error ?? summary!));
  return { client, call, result };
}

describe("collector SIGTERM", () => {
  it("lets an open stream finish within the grace period and stores all of it", async () => {
    const queue = uniqueQueueName("sigterm-collector");
    const address = await startCollector(queue, 10_000);
    const { client, call, result } = openStream(address);
    const events = [...sampleEvents(2000)];
    call.write({ events: events.slice(0, 1000) });
    const redis = new Redis(redisUrl);
    await expect.poll(() => redis.llen(queue), { timeout: 5000 }).toBe(1000);

    proc!.signal("SIGTERM");
    await expect.poll(() => proc!.output(), { timeout: 5000 }).toContain("shutting down");
    call.write({ events: events.slice(1000) });
    call.end();
    const summary = await result;
    client.close();
    expect(summary).toMatchObject({ success: true, eventsReceived: 2000 });
    expect(await proc!.exited).toBe(0);
    expect(await redis.llen(queue)).toBe(2000);
    redis.disconnect();
  });

  it("past the grace period, ends a stream with UNAVAILABLE saying exactly how many were stored", async () => {
    const queue = uniqueQueueName("sigterm-grace");
    const address = await startCollector(queue, 300);
    const { client, call, result } = openStream(address);
    call.write({ events: [...sampleEvents(700)] });
    const redis = new Redis(redisUrl);
    await expect.poll(() => redis.llen(queue), { timeout: 5000 }).toBe(700);
    proc!.signal("SIGTERM"); // the client never ends its stream
    const error = (await result) as grpc.ServiceError;
    client.close();
    expect(error.code).toBe(grpc.status.UNAVAILABLE);
    expect(error.details).toContain("700 events of this call were stored");
    expect(await proc!.exited).toBe(0);
    expect(await redis.llen(queue)).toBe(700);
    redis.disconnect();
  });
});
