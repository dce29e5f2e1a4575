import { describe, expect, it } from "vitest";
import { newEvent } from "../../producer/src/index.js";
import { Event, EventBatch, PublishRequest } from "../../proto/src/index.js";
import { decodeIncomingBatch, decodeIncomingEvent, decodeIncomingPublish } from "../src/index.js";

describe("reading events from their wire bytes", () => {
  const events = [
    newEvent("page_view"),
    newEvent("ünïcödé ✓", { eventId: "ид-1", source: "svc", payload: Buffer.alloc(1000, 1) }),
    newEvent("t", {
      attributes: { small: "v", big: "x".repeat(300), mid: "y".repeat(20) },
      timestamp: -5n,
    }),
    newEvent("", { eventId: "" }),
  ];

  it("sees what the generated decoder sees, and keeps the exact bytes", () => {
    for (const event of events) {
      const bytes = Event.encode(event).finish();
      const view = decodeIncomingEvent(bytes);
      expect(view).toMatchObject({
        eventId: event.eventId,
        idBytes: Buffer.byteLength(event.eventId),
        type: event.type,
        typeBytes: Buffer.byteLength(event.type),
        timestamp: event.timestamp,
        payloadBytes: event.payload.length,
        sourceBytes: Buffer.byteLength(event.source),
        attributeCount: Object.keys(event.attributes).length,
      });
      expect(Event.decode(view.bytes)).toEqual(event);
    }
    const withAttributes = decodeIncomingEvent(Event.encode(events[2]!).finish());
    expect(withAttributes.largestAttributeKey).toBe("big");
    expect(withAttributes.largestAttributeBytes).toBeGreaterThan(300);
  });

  it("splits batches and publish requests into events, skipping unknown fields", () => {
    const batch = Buffer.concat([
      EventBatch.encode({ events }).finish(),
      Buffer.from([0x50, 0x01]),
    ]);
    expect(decodeIncomingBatch(batch).events.map((e) => e.eventId)).toEqual(
      events.map((e) => e.eventId),
    );
    const publish = decodeIncomingPublish(
      PublishRequest.encode({ sequence: 42n, events }).finish(),
    );
    expect(publish.sequence).toBe(42n);
    expect(publish.events.map((e) => Event.decode(e.bytes))).toEqual(events);
  });

  it("refuses truncated input", () => {
    const bytes = Event.encode(events[1]!).finish();
    expect(() => decodeIncomingEvent(bytes.subarray(0, bytes.length - 10))).toThrow();
    expect(() =>
      decodeIncomingBatch(EventBatch.encode({ events }).finish().subarray(0, 50)),
    ).toThrow();
  });
});
