// A collector that starts while Redis is down: its Calls are refused (UNAVAILABLE, nothing
// stored) until Redis is back, and from then on answered, because the reply channel subscribes
// by itself once Redis comes, however late.
import { status } from "@grpc/grpc-js";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createEventClient } from "../packages/producer/src/index.js";
import { Outcome } from "../packages/proto/src/index.js";
import { eventOf, grpcCall } from "../test-support/call-pipeline.js";
import {
  startTestCollector,
  type TestCollector,
  uniqueQueueName,
} from "../test-support/collector.js";
import { type RedisServer, startRedisServer } from "../test-support/redis-server.js";
import { startTestWorker, type TestWorker } from "../test-support/worker.js";

let server: RedisServer | undefined;
let collector: TestCollector | undefined;
let worker: TestWorker | undefined;
afterEach(async () => {
  await worker?.close();
  await collector?.close();
  await server?.destroy();
});

describe("Call: Redis down when the collector starts", () => {
  it("is refused while Redis is away, and answered once it is back", async () => {
    server = await startRedisServer();
    await server.stop();
    const queue = uniqueQueueName("outage");
    collector = await startTestCollector(server.url, queue);
    const client = createEventClient({ address: collector.address });
    try {
      const refused = await grpcCall(client, eventOf("order.created"), 5_000);
      expect(refused.error?.code).toBe(status.UNAVAILABLE);

      await server.start();
      worker = await startTestWorker(server.url, queue, async (event) => ({
        outcome: "success",
        body: event.payload,
      }));
      await vi.waitFor(
        async () => {
          const event = eventOf("order.created", { payload: Buffer.from("back") });
          const answered = await grpcCall(client, event, 5_000);
          expect(answered.reply?.outcome).toBe(Outcome.OUTCOME_SUCCESS);
          expect(Buffer.from(answered.reply!.body).toString()).toBe("back");
        },
        { timeout: 30_000, interval: 200 },
      );
    } finally {
      client.close();
    }
  });
});
