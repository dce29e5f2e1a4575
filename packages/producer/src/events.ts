import { randomUUID } from "node:crypto";
import type { Event } from "@eventpipe/proto";

export const SAMPLE_EVENT_TYPES = ["page_view", "user_login"] as const;

/** An event with a fresh UUID and the current time; the other fields default to empty. */
export function newEvent(type: string, fields: Partial<Omit<Event, "type">> = {}): Event {
  return {
    eventId: randomUUID(),
    type,
    timestamp: BigInt(Date.now()),
    payload: Buffer.alloc(0),
    source: "",
    attributes: {},
    schemaVersion: 0,
    partitionKey: "",
    ...fields,
  };
}

/** The sample stream the CLI sends: alternating page_view and user_login events. */
export function* sampleEvents(
  count: number,
  payloadBytes = 0,
  source = "eventpipe-producer",
): Generator<Event> {
  const payload = Buffer.alloc(payloadBytes, 0x61);
  for (let i = 0; i < count; i++) {
    yield newEvent(SAMPLE_EVENT_TYPES[i % SAMPLE_EVENT_TYPES.length]!, { payload, source });
  }
}
