// The stored envelope: what one entry of the pending list holds.
//
//   "ep1:" <deliveries as decimal> ":" <protobuf StoredEvent>
//
// The short text header is there for the Lua scripts: crash recovery counts redeliveries by
// rewriting it with plain string operations, without decoding protobuf in Lua. The body is
// protobuf rather than JSON because the payload is opaque bytes (JSON would need base64, a
// third larger) and because it reuses the generated codec; `pnpm bench` prints both codecs'
// speed. The version lives in the magic ("ep1"): a new layout gets a new magic and workers can
// tell them apart.
import { type Event, StoredEvent } from "@eventpipe/proto";
import { EnvelopeDecodeError } from "./errors.js";

const MAGIC = Buffer.from("ep1:");
const COLON = 0x3a;
const ZERO_DELIVERIES_HEADER = Buffer.from("ep1:0:");
/** Deliveries header digits we accept; more is not a count we wrote. */
const MAX_HEADER_DIGITS = 9;

export interface DecodedEnvelope {
  /** Times the event was taken back from a worker that died holding it. */
  readonly deliveries: number;
  readonly stored: StoredEvent;
}

export function encodeEnvelope(stored: StoredEvent, deliveries = 0): Buffer {
  const body = StoredEvent.encode(stored).finish();
  const header = deliveries === 0 ? ZERO_DELIVERIES_HEADER : Buffer.from(`ep1:${deliveries}:`);
  return Buffer.concat([header, body], header.length + body.length);
}

/** The envelope for an event the collector is about to store. */
export function encodeNewEvent(event: Event, enqueuedAtMs: number, replyTo = ""): Buffer {
  return encodeEnvelope({
    event,
    enqueuedAtMs: BigInt(enqueuedAtMs),
    attempts: 0,
    firstError: "",
    lastError: "",
    firstFailedAtMs: 0n,
    lastFailedAtMs: 0n,
    retryToken: "",
    replyTo,
  });
}

export function decodeEnvelope(bytes: Buffer): DecodedEnvelope {
  if (bytes.length < MAGIC.length + 2 || bytes.compare(MAGIC, 0, 4, 0, 4) !== 0) {
    throw new EnvelopeDecodeError("missing the ep1 envelope header");
  }
  const end = bytes.indexOf(COLON, MAGIC.length);
  if (end <= MAGIC.length || end - MAGIC.length > MAX_HEADER_DIGITS) {
    throw new EnvelopeDecodeError("malformed deliveries header");
  }
  const deliveries = Number(bytes.toString("latin1", MAGIC.length, end));
  if (!Number.isInteger(deliveries) || deliveries < 0) {
    throw new EnvelopeDecodeError("malformed deliveries header");
  }
  let stored: StoredEvent;
  try {
    stored = StoredEvent.decode(bytes.subarray(end + 1));
  } catch (error) {
    throw new EnvelopeDecodeError(`protobuf body does not decode: ${(error as Error).message}`);
  }
  if (stored.event === undefined) throw new EnvelopeDecodeError("envelope holds no event");
  return { deliveries, stored };
}

const EVENT_FIELD_TAG = 0x0a; // StoredEvent.event: field 1, length-delimited
const ENQUEUED_AT_FIELD_TAG = 0x10; // StoredEvent.enqueued_at_ms: field 2, varint
const REPLY_TO_FIELD_TAG = 0x4a; // StoredEvent.reply_to: field 9, length-delimited

function writeVarint(target: Buffer, offset: number, value: number): number {
  let rest = value;
  while (rest > 0x7f) {
    target[offset++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  target[offset++] = rest;
  return offset;
}

/**
 * The envelope for an event whose protobuf encoding the collector received: the same bytes
 * as encodeNewEvent would produce, without decoding and re-encoding the event.
 */
export function encodeReceivedEvent(
  eventBytes: Uint8Array,
  enqueuedAtMs: number,
  replyTo = "",
): Buffer {
  const header = ZERO_DELIVERIES_HEADER.length;
  const replyToBytes = replyTo.length > 0 ? Buffer.from(replyTo) : undefined;
  // 1 tag + up to 5 length bytes + event + 1 tag + up to 8 bytes for a millisecond time
  // (+ the reply channel's tag, length and bytes).
  const replyToLength = replyToBytes === undefined ? 0 : 1 + 5 + replyToBytes.length;
  const envelope = Buffer.allocUnsafe(header + 1 + 5 + eventBytes.length + 1 + 8 + replyToLength);
  ZERO_DELIVERIES_HEADER.copy(envelope, 0);
  let offset = header;
  envelope[offset++] = EVENT_FIELD_TAG;
  offset = writeVarint(envelope, offset, eventBytes.length);
  envelope.set(eventBytes, offset);
  offset += eventBytes.length;
  envelope[offset++] = ENQUEUED_AT_FIELD_TAG;
  offset = writeVarint(envelope, offset, enqueuedAtMs);
  if (replyToBytes !== undefined) {
    envelope[offset++] = REPLY_TO_FIELD_TAG;
    offset = writeVarint(envelope, offset, replyToBytes.length);
    envelope.set(replyToBytes, offset);
    offset += replyToBytes.length;
  }
  return envelope.subarray(0, offset);
}
