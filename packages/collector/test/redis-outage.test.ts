import * as grpc from "@grpc/grpc-js";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startTestCollector,
  type TestCollector,
  uniqueQueueName,
} from "../../../test-support/collector.js";
import { type RedisServer, startRedisServer } from "../../../test-support/redis-server.js";
import { createEventClient, sampleEvents, streamEvents } from "../../producer/src/index.js";
import { HealthClient, ServingStatus } from "../../proto/src/index.js";

let server: RedisServer;
let collector: TestCollector;
let health: HealthClient;
const queue = uniqueQueueName("outage");

function healthStatus(): Promise<ServingStatus> {
  return new Promise((resolve, reject) =>
    health.check({ service: "" }, (error, reply) =>
      error ? reject(error) : resolve(reply!.status),
    ),
  );
}

beforeAll(async () => {
  server = await startRedisServer();
  collector = await startTestCollector(server.url, queue);
  health = new HealthClient(collector.address, grpc.credentials.createInsecure());
});

afterAll(async () => {
  health.close();
  await collector.close();
  await server.destroy();
});

describe("collector while Redis is down", () => {
  it("answers UNAVAILABLE, never success, reports NOT_SERVING, and recovers when Redis is back", async () => {
    const client = createEventClient({ address: collector.address });
    await expect.poll(healthStatus, { timeout: 5000 }).toBe(ServingStatus.SERVING);
    const before = await streamEvents(client, [...sampleEvents(500)]);
    expect(before).toMatchObject({ success: true, eventsReceived: 500 });

    await server.kill();
    await expect.poll(healthStatus, { timeout: 5000 }).toBe(ServingStatus.NOT_SERVING);
    for (const rpc of ["batch", "single"] as const) {
      const error = await streamEvents(client, [...sampleEvents(300)], { rpc }).then(
        (summary) => summary,
        (e: grpc.ServiceError) => e,
      );
      expect((error as grpc.ServiceError).code).toBe(grpc.status.UNAVAILABLE);
      expect((error as grpc.ServiceError).details).toMatch(/Redis is unreachable; 0 events/);
    }

    await server.start();
    await expect.poll(healthStatus, { timeout: 10_000 }).toBe(ServingStatus.SERVING);
    const after = await streamEvents(client, [...sampleEvents(500)]);
    expect(after).toMatchObject({ success: true, eventsReceived: 500 });
    client.close();

    // Redis writes its AOF before it replies, so the 500 acknowledged before the crash are
    // back after the restart; nothing of the failed streams was stored.
    const check = new Redis(server.url);
    const length = await check.llen(queue);
    check.disconnect();
    expect(length).toBe(1000);
  });
});
