// A corpus of hostile input against one collector: each case gets a clear status or a
// per-event rejection reason, the collector keeps serving everyone else, and every good event
// sent alongside the bad ones is stored.
import * as grpc from "@grpc/grpc-js";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  createEventClient,
  newEvent,
  sampleEvents,
  streamEvents,
} from "../packages/producer/src/index.js";
import {
  type Event,
  EventServiceService,
  HealthClient,
  RejectionReason,
  ServingStatus,
  type StreamSummary,
} from "../packages/proto/src/index.js";
import { decodeEnvelope } from "../packages/queue/src/index.js";
import {
  startTestCollector,
  type TestCollector,
  uniqueQueueName,
} from "../test-support/collector.js";
import { report } from "../test-support/processes.js";

const redisUrl = inject("redisUrl");
const queue = uniqueQueueName("hostile");
let collector: TestCollector;
let redis: Redis;
let client: ReturnType<typeof createEventClient>;
const goodIds: string[] = [];

beforeAll(async () => {
  collector = await startTestCollector(redisUrl, queue, {
    ALLOWED_EVENT_TYPES: "page_view,user_login",
    MAX_MESSAGE_BYTES: String(64 * 1024),
    MAX_CONCURRENT_STREAMS: "4",
    STREAM_IDLE_TIMEOUT_MS: "300",
  });
  redis = new Redis(redisUrl);
  client = createEventClient({ address: collector.address });
});

afterAll(async () => {
  client.close();
  redis.disconnect();
  await collector.close();
});

const good = () => {
  const event = newEvent("page_view");
  goodIds.push(event.eventId);
  return event;
};
const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => "ok" as const,
    (error: grpc.ServiceError) => grpc.status[error.code],
  );

/** A raw client that sends bytes as they are, for messages no honest encoder makes. */
function rawClient(method: "streamEvents" | "publish") {
  const Raw = grpc.makeGenericClientConstructor(
    { [method]: { ...EventServiceService[method], requestSerialize: (bytes: Buffer) => bytes } },
    "event.EventService",
  );
  return new Raw(collector.address, grpc.credentials.createInsecure()) as unknown as Record<
    string,
    (
      ...args: unknown[]
    ) => grpc.ClientWritableStream<Buffer> & grpc.ClientDuplexStream<Buffer, unknown>
  >;
}

describe("hostile input", () => {
  it("rejects each bad event with its reason, stores the good ones, and keeps serving", async () => {
    const ts = BigInt(Date.now());
    const corpus: [string, Event, RejectionReason][] = [
      [
        "empty id",
        newEvent("page_view", { eventId: "" }),
        RejectionReason.REJECTION_REASON_MISSING_ID,
      ],
      [
        "huge id",
        newEvent("page_view", { eventId: "i".repeat(10_000) }),
        RejectionReason.REJECTION_REASON_ID_TOO_LONG,
      ],
      ["empty type", newEvent(""), RejectionReason.REJECTION_REASON_MISSING_TYPE],
      ["huge type", newEvent("t".repeat(5000)), RejectionReason.REJECTION_REASON_TYPE_TOO_LONG],
      ["unknown type", newEvent("drop_tables"), RejectionReason.REJECTION_REASON_TYPE_NOT_ALLOWED],
      [
        "negative timestamp",
        newEvent("page_view", { timestamp: -1n }),
        RejectionReason.REJECTION_REASON_TIMESTAMP_OUT_OF_RANGE,
      ],
      [
        "timestamp in seconds",
        newEvent("page_view", { timestamp: ts / 1000n }),
        RejectionReason.REJECTION_REASON_TIMESTAMP_OUT_OF_RANGE,
      ],
      [
        "far future",
        newEvent("page_view", { timestamp: ts * 1000n }),
        RejectionReason.REJECTION_REASON_TIMESTAMP_OUT_OF_RANGE,
      ],
      [
        "int64 max",
        newEvent("page_view", { timestamp: 2n ** 63n - 1n }),
        RejectionReason.REJECTION_REASON_TIMESTAMP_OUT_OF_RANGE,
      ],
      [
        "huge attribute map",
        newEvent("page_view", {
          attributes: Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, "v"])),
        }),
        RejectionReason.REJECTION_REASON_TOO_MANY_ATTRIBUTES,
      ],
      [
        "huge attribute",
        newEvent("page_view", { attributes: { k: "v".repeat(5000) } }),
        RejectionReason.REJECTION_REASON_ATTRIBUTE_TOO_LARGE,
      ],
      [
        "huge source",
        newEvent("page_view", { source: "s".repeat(5000) }),
        RejectionReason.REJECTION_REASON_SOURCE_TOO_LONG,
      ],
    ];
    const events: Event[] = [];
    for (const [, bad] of corpus) events.push(good(), bad);
    events.push(good());
    const summary = await streamEvents(client, events, { batchSize: 5 });
    expect(summary.eventsReceived).toBe(corpus.length + 1);
    expect(summary.rejections.map((r) => r.reason)).toEqual(corpus.map(([, , reason]) => reason));
    expect(summary.rejections.map((r) => r.index)).toEqual(corpus.map((_, i) => 2 * i + 1));
    report("hostile events", {
      sent: events.length,
      stored: summary.eventsReceived,
      rejected: summary.rejected,
    });
  });

  it("answers bad messages and bad clients with clear statuses", async () => {
    const outcomes: Record<string, string> = {};

    // Not protobuf, on the single-event RPC: rejected as MALFORMED, the stream goes on.
    const raw = rawClient("streamEvents");
    const malformed = await new Promise<StreamSummary>((resolve, reject) => {
      const call = raw.streamEvents!((error: grpc.ServiceError | null, reply: StreamSummary) =>
        error ? reject(error) : resolve(reply),
      );
      call.write(Buffer.from(EventServiceService.streamEvents.requestSerialize(good())));
      call.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
      call.write(Buffer.from(EventServiceService.streamEvents.requestSerialize(good())));
      call.end();
    });
    expect(malformed.eventsReceived).toBe(2);
    expect(malformed.rejections[0]?.reason).toBe(RejectionReason.REJECTION_REASON_MALFORMED);
    outcomes.malformedEvent = "rejected MALFORMED";

    // Not protobuf, on the acknowledged RPC: the batch's sequence is unknown, so the call ends.
    const rawPublish = rawClient("publish");
    outcomes.malformedPublish = await new Promise<string>((resolve) => {
      const call = rawPublish.publish!();
      call.on("data", () => {});
      call.on("error", (error: grpc.ServiceError) => resolve(grpc.status[error.code]));
      call.write(Buffer.from([0x12, 0xff, 0xff]));
    });
    expect(outcomes.malformedPublish).toBe("INVALID_ARGUMENT");

    // Larger than MAX_MESSAGE_BYTES.
    outcomes.oversized = await codeOf(
      streamEvents(client, [newEvent("page_view", { payload: Buffer.alloc(100 * 1024) })]),
    );
    expect(outcomes.oversized).toBe("RESOURCE_EXHAUSTED");

    // A client that stalls mid-stream: its first batch is stored, then DEADLINE_EXCEEDED.
    const stalledFirst = [good(), good()];
    const stalled = new Promise<string>((resolve) => {
      const call = client.streamEventBatches((error) =>
        resolve(error ? grpc.status[error.code] : "ok"),
      );
      call.write({ events: stalledFirst });
    });
    // Meanwhile another producer is served normally.
    const meanwhile = await streamEvents(client, [good(), good(), good()]);
    expect(meanwhile.eventsReceived).toBe(3);
    outcomes.stalled = await stalled;
    expect(outcomes.stalled).toBe("DEADLINE_EXCEEDED");

    // A client that vanishes mid-stream: the collector lets go of the stream.
    const vanished = client.streamEventBatches(() => {});
    vanished.write({ events: [...sampleEvents(10)] });
    await expect.poll(() => collector.collector.activeStreams, { timeout: 5000 }).toBe(1);
    vanished.cancel();
    await expect.poll(() => collector.collector.activeStreams, { timeout: 5000 }).toBe(0);
    outcomes.vanished = "stream released";

    // More concurrent streams than MAX_CONCURRENT_STREAMS.
    const held = Array.from({ length: 4 }, () => {
      const call = client.streamEventBatches(() => {});
      call.write({ events: [] });
      return call;
    });
    await expect.poll(() => collector.collector.activeStreams, { timeout: 5000 }).toBe(4);
    outcomes.tooManyStreams = await codeOf(streamEvents(client, [newEvent("page_view")]));
    expect(outcomes.tooManyStreams).toBe("RESOURCE_EXHAUSTED");
    for (const call of held) call.cancel();
    await expect.poll(() => collector.collector.activeStreams, { timeout: 5000 }).toBe(0);

    // Still up and serving.
    const health = new HealthClient(collector.address, grpc.credentials.createInsecure());
    const status = await new Promise<ServingStatus>((resolve, reject) =>
      health.check({ service: "" }, (error, reply) =>
        error ? reject(error) : resolve(reply!.status),
      ),
    );
    health.close();
    expect(status).toBe(ServingStatus.SERVING);
    const after = await streamEvents(client, [good()]);
    expect(after).toMatchObject({ success: true, eventsReceived: 1 });

    // Every good event sent alongside the bad ones is in the queue.
    const stored = new Set(
      (await redis.lrangeBuffer(queue, 0, -1)).map(
        (entry) => decodeEnvelope(entry).stored.event!.eventId,
      ),
    );
    const missing = goodIds.filter((id) => !stored.has(id));
    expect(missing).toEqual([]);
    report("hostile clients", {
      ...outcomes,
      goodEventsSent: goodIds.length,
      goodEventsStored: goodIds.length - missing.length,
    });
  });
});
