import { Event } from "@eventpipe/proto";
import { describe, expect, it } from "vitest";
import { type EventFields, encodeJsonEvent } from "../src/http/event-encoding.js";
import { incomingFromEvent } from "../src/incoming.js";

/** What the generic path (Event.encode, then reading the bytes back) makes of `fields`. */
function viaEventEncode(fields: EventFields) {
  return incomingFromEvent({
    ...fields,
    timestamp: BigInt(fields.timestamp),
    payload: Buffer.from(fields.payload, "utf8"),
    attributes: { ...fields.attributes },
  });
}

function plain(event: ReturnType<typeof encodeJsonEvent>) {
  return { ...event, bytes: Buffer.from(event.bytes).toString("hex") };
}

const base: EventFields = {
  eventId: "0190a3f2-7b1c-7000-8000-000000000001",
  type: "page_view",
  timestamp: 1_735_786_000_123,
  payload: '{"user":"u1","path":"/p/1","n":1}',
  source: "web",
  attributes: {},
  schemaVersion: 0,
  partitionKey: "",
};

describe("encodeJsonEvent", () => {
  it.each<[string, Partial<EventFields>]>([
    ["a typical event", {}],
    ["empty strings and no payload", { eventId: "", type: "", source: "", payload: "" }],
    ["timestamp 0", { timestamp: 0 }],
    ["a negative timestamp", { timestamp: -1 }],
    ["the earliest Date", { timestamp: -8.64e15 }],
    ["the latest Date", { timestamp: 8.64e15 }],
    ["a timestamp past 2^32", { timestamp: 2 ** 32 + 5 }],
    ["schema versions", { schemaVersion: 4_294_967_295 }],
    ["a small schema version", { schemaVersion: 3 }],
    ["a partition key", { partitionKey: "account-42" }],
    ["a partition key with a schema version", { partitionKey: "clé", schemaVersion: 9 }],
    ["multi-byte text", { type: "été_✓", source: "源", payload: '"😀"' }],
    ["lone surrogates", { eventId: "a\ud800b", type: "\udc00", source: "\ud83d" }],
    ["a long payload", { payload: JSON.stringify({ text: "x".repeat(70_000) }) }],
    [
      "attributes",
      {
        attributes: {
          region: "eu",
          "": "empty key",
          empty: "",
          tier: "g\ud800ld",
          [`k${"y".repeat(300)}`]: "v",
        },
      },
    ],
    ["attributes of equal size", { attributes: { aa: "1", bb: "2", c: "33" } }],
    ["a lone surrogate in the largest key", { attributes: { "\udfff\udfff": "value" } }],
  ])("writes %s as Event.encode does", (_name, changes) => {
    const fields = { ...base, ...changes };
    const fast = encodeJsonEvent(fields);
    expect(plain(fast)).toEqual(plain(viaEventEncode(fields)));
    expect(Event.decode(fast.bytes).eventId).toBe(fast.eventId);
  });
});
