import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { describe, expect, it } from "vitest";
import {
  startTestCollector,
  type TestCollector,
  uniqueQueueName,
} from "../../../test-support/collector.js";
import { useSharedRedis } from "../../../test-support/shared-redis.js";
import {
  createEventClient,
  createProducer,
  newEvent,
  sampleEvents,
  streamEvents,
} from "../../producer/src/index.js";
import { type Event, EventServiceService, RejectionReason } from "../../proto/src/index.js";
import { decodeEnvelope, queueKeys } from "../../queue/src/index.js";

const { redisUrl, redis } = useSharedRedis();

/** The queue's events in the order workers will take them (oldest first). */
async function queuedIds(queue: string): Promise<string[]> {
  const entries = await redis.lrangeBuffer(queue, 0, -1);
  return entries.reverse().map((entry) => decodeEnvelope(entry).stored.event!.eventId);
}

async function withCollector<T>(
  env: Record<string, string>,
  body: (collector: TestCollector, queue: string) => Promise<T>,
): Promise<T> {
  const queue = uniqueQueueName("ingest");
  const collector = await startTestCollector(redisUrl, queue, env);
  try {
    return await body(collector, queue);
  } finally {
    await collector.close();
  }
}

describe("collector ingestion", () => {
  it("stores every event of a batch stream, in the order sent, and says so", async () => {
    await withCollector({}, async ({ address }, queue) => {
      const events = [...sampleEvents(10_000)];
      const client = createEventClient({ address });
      const summary = await streamEvents(client, events, { rpc: "batch", batchSize: 100 });
      client.close();
      expect(summary).toMatchObject({
        success: true,
        eventsReceived: 10_000,
        rejected: 0,
        duplicates: 0,
      });
      expect(await queuedIds(queue)).toEqual(events.map((event) => event.eventId));
    });
  });

  it("stores single-event streams too", async () => {
    await withCollector({}, async ({ address }, queue) => {
      const events = [...sampleEvents(1000)];
      const client = createEventClient({ address });
      const summary = await streamEvents(client, events, { rpc: "single" });
      client.close();
      expect(summary).toMatchObject({ success: true, eventsReceived: 1000 });
      expect(await queuedIds(queue)).toEqual(events.map((event) => event.eventId));
    });
  });

  it("serves a client built from the original contract with @grpc/proto-loader", async () => {
    await withCollector({}, async ({ address }, queue) => {
      const definition = protoLoader.loadSync(
        fileURLToPath(new URL("./fixtures/original-event.proto", import.meta.url)),
        { keepCase: true, longs: String, defaults: true },
      );
      const loaded = grpc.loadPackageDefinition(definition) as unknown as {
        event: { EventService: grpc.ServiceClientConstructor };
      };
      const client = new loaded.event.EventService(address, grpc.credentials.createInsecure());
      const reply = await new Promise<{ success: boolean; events_received: number }>(
        (resolve, reject) => {
          const call = client.StreamEvents!((error: grpc.ServiceError | null, summary: never) =>
            error ? reject(error) : resolve(summary),
          );
          for (let i = 0; i < 250; i++) {
            call.write({ event_id: `legacy-${i}`, type: "page_view", timestamp: Date.now() });
          }
          call.end();
        },
      );
      client.close();
      expect(reply).toEqual({ success: true, events_received: 250 });
      expect(await redis.llen(queue)).toBe(250);
    });
  });

  it("rejects invalid events with reasons and stores the valid ones of the same stream", async () => {
    await withCollector(
      { MAX_PAYLOAD_BYTES: "1024", ALLOWED_EVENT_TYPES: "page_view,user_login" },
      async ({ address }, queue) => {
        const good = (n: number) => newEvent(n % 2 ? "page_view" : "user_login");
        const events: Event[] = [
          good(0),
          newEvent("page_view", { eventId: "" }),
          good(1),
          newEvent(""),
          newEvent("page_view", { timestamp: -5n }),
          newEvent("page_view", { timestamp: BigInt(Date.now() + 365 * 86_400_000) }),
          newEvent("page_view", { timestamp: 9_223_372_036_854_775_807n }),
          newEvent("page_view", { payload: Buffer.alloc(2048) }),
          newEvent("page_view", { eventId: "x".repeat(500) }),
          newEvent("not_allowed"),
          good(2),
        ];
        const client = createEventClient({ address });
        const summary = await streamEvents(client, events, { rpc: "batch", batchSize: 4 });
        client.close();
        expect(summary.success).toBe(false);
        expect(summary.eventsReceived).toBe(3);
        expect(summary.rejected).toBe(8);
        expect(summary.rejections.map((r) => [r.index, r.reason])).toEqual([
          [1, RejectionReason.REJECTION_REASON_MISSING_ID],
          [3, RejectionReason.REJECTION_REASON_MISSING_TYPE],
          [4, RejectionReason.REJECTION_REASON_TIMESTAMP_OUT_OF_RANGE],
          [5, RejectionReason.REJECTION_REASON_TIMESTAMP_OUT_OF_RANGE],
          [6, RejectionReason.REJECTION_REASON_TIMESTAMP_OUT_OF_RANGE],
          [7, RejectionReason.REJECTION_REASON_PAYLOAD_TOO_LARGE],
          [8, RejectionReason.REJECTION_REASON_ID_TOO_LONG],
          [9, RejectionReason.REJECTION_REASON_TYPE_NOT_ALLOWED],
        ]);
        for (const rejection of summary.rejections)
          expect(rejection.message.length).toBeGreaterThan(5);
        expect(await queuedIds(queue)).toEqual(
          [events[0], events[2], events[10]].map((e) => e!.eventId),
        );
      },
    );
  });

  it("rejects a message that is not protobuf and keeps serving the rest of the stream", async () => {
    await withCollector({}, async ({ address }, queue) => {
      const RawClient = grpc.makeGenericClientConstructor(
        {
          streamEvents: {
            ...EventServiceService.streamEvents,
            requestSerialize: (bytes: Buffer) => bytes,
          },
        },
        "event.EventService",
      );
      const client = new RawClient(address, grpc.credentials.createInsecure());
      const valid = [newEvent("page_view"), newEvent("user_login")];
      const encode = (event: Event) =>
        Buffer.from(EventServiceService.streamEvents.requestSerialize(event));
      const summary = await new Promise<{
        eventsReceived: number;
        rejections: { reason: number }[];
      }>((resolve, reject) => {
        const call = (
          client as unknown as Record<string, (cb: unknown) => grpc.ClientWritableStream<Buffer>>
        ).streamEvents!((error: grpc.ServiceError | null, reply: never) =>
          error ? reject(error) : resolve(reply),
        );
        call.write(encode(valid[0]!));
        call.write(Buffer.from([0x0a, 0xff, 0xff, 0xff])); // a length-delimited field longer than the message
        call.write(encode(valid[1]!));
        call.end();
      });
      client.close();
      expect(summary.eventsReceived).toBe(2);
      expect(summary.rejections.map((r) => r.reason)).toEqual([
        RejectionReason.REJECTION_REASON_MALFORMED,
      ]);
      expect(await queuedIds(queue)).toEqual(valid.map((e) => e.eventId));
    });
  });

  it("drops ids it already stored within the deduplication window", async () => {
    await withCollector({}, async ({ address }, queue) => {
      const events = [...sampleEvents(100)];
      const client = createEventClient({ address });
      const first = await streamEvents(client, events);
      const again = await streamEvents(client, [...events.slice(0, 40), newEvent("page_view")]);
      client.close();
      expect(first).toMatchObject({ success: true, eventsReceived: 100, duplicates: 0 });
      expect(again).toMatchObject({ success: true, eventsReceived: 1, duplicates: 40 });
      expect(await redis.llen(queue)).toBe(101);
    });
  });

  it("answers RESOURCE_EXHAUSTED with a retry hint past the backlog limit, storing nothing of the refused chunk", async () => {
    await withCollector(
      { MAX_BACKLOG: "150", RETRY_AFTER_MS: "750" },
      async ({ address }, queue) => {
        const client = createEventClient({ address });
        await streamEvents(client, [...sampleEvents(100)]);
        const error = await streamEvents(client, [...sampleEvents(100)]).catch(
          (e: grpc.ServiceError) => e,
        );
        client.close();
        expect((error as grpc.ServiceError).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
        expect((error as grpc.ServiceError).metadata.get("retry-after-ms")).toEqual(["750"]);
        expect(await redis.llen(queue)).toBe(100);
      },
    );
  });

  it("keeps per-stream counts apart when many producers stream at once through a small buffer budget", async () => {
    await withCollector({ COLLECTOR_MAX_BUFFERED_EVENTS: "120" }, async ({ address }, queue) => {
      const client = createEventClient({ address });
      const streams = await Promise.all(
        Array.from({ length: 8 }, () =>
          streamEvents(client, [...sampleEvents(500)], { batchSize: 50 }),
        ),
      );
      client.close();
      for (const summary of streams)
        expect(summary).toMatchObject({ success: true, eventsReceived: 500 });
      expect(await redis.llen(queue)).toBe(4000);
      expect(new Set(await queuedIds(queue)).size).toBe(4000);
    });
  });

  it("lets an acknowledged producer go quiet past the idle timeout and carry on without reconnect storms", async () => {
    await withCollector(
      { STREAM_IDLE_TIMEOUT_MS: "200" },
      async ({ address, collector }, queue) => {
        const producer = createProducer({ address });
        for (const event of sampleEvents(10)) await producer.send(event);
        await producer.flush();
        // The collector ends the silent stream; nothing was waiting for an ack.
        await expect.poll(() => collector.activeStreams, { timeout: 5000 }).toBe(0);
        for (const event of sampleEvents(10)) await producer.send(event);
        const totals = await producer.close();
        expect(totals).toMatchObject({ sent: 20, stored: 20, reconnects: 0 });
        expect(await redis.llen(queue)).toBe(20);
      },
    );
  });

  it("uses the queue's hash tag for every companion key", () => {
    const keys = queueKeys("event_queue");
    expect(keys.pending).toBe("event_queue");
    for (const key of [
      keys.workers,
      keys.delayed,
      keys.deadLetter,
      keys.seenEven,
      keys.seenOdd,
      keys.seenPeriods,
      keys.stats,
      keys.inflight(randomUUID()),
    ]) {
      expect(key.startsWith("{event_queue}:")).toBe(true);
    }
  });
});
