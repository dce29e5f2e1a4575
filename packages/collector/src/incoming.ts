// Request decoders for the collector's hot path.
//
// The collector does not build full Event objects: it reads from each event's wire bytes
// only what validation and deduplication need (the EventView below: id, type, timestamp and
// the sizes of everything else), and stores the bytes it received, wrapped in the envelope
// without re-encoding (encodeReceivedEvent). Decoding payloads, attribute maps and sources
// into objects, then encoding them again, cost more CPU and garbage than anything else in the
// collector. Storing the bytes as sent also keeps fields this version does not know yet.
// Workers decode the full Event with the generated code.
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { Event } from "@eventpipe/proto";

/** What the collector reads of one event. Field semantics follow event.proto. */
export interface EventView {
  readonly eventId: string;
  readonly idBytes: number;
  readonly type: string;
  readonly typeBytes: number;
  /** Milliseconds since the epoch, as sent (int64). */
  readonly timestamp: bigint;
  readonly payloadBytes: number;
  /** Where the payload starts in the event's bytes (IncomingEvent.bytes). */
  readonly payloadOffset: number;
  /** The schema version the payload names; 0: the latest. */
  readonly schemaVersion: number;
  readonly sourceBytes: number;
  /** Map entries on the wire (a repeated key counts each time). */
  readonly attributeCount: number;
  /** The largest attribute, key plus value, in bytes, and its key. */
  readonly largestAttributeBytes: number;
  readonly largestAttributeKey: string;
  /** Chooses the queue partition; empty: the event id does. */
  readonly partitionKey: string;
  readonly partitionKeyBytes: number;
}

export interface IncomingEvent extends EventView {
  /** The event's protobuf encoding exactly as received. */
  readonly bytes: Uint8Array;
}

export interface IncomingBatch {
  readonly events: IncomingEvent[];
}

export interface IncomingPublish {
  readonly sequence: bigint;
  readonly events: IncomingEvent[];
}

const LEN = WireType.LengthDelimited;
const tagOf = (field: number, wireType: WireType) => (field << 3) | wireType;
/** Event's field tags (field << 3 | wire type), as in event.proto; HTTP's encoder writes them. */
export const EVENT_TAGS = Object.freeze({
  id: tagOf(1, LEN),
  type: tagOf(2, LEN),
  timestamp: tagOf(3, WireType.Varint),
  payload: tagOf(4, LEN),
  source: tagOf(5, LEN),
  attribute: tagOf(6, LEN),
  schemaVersion: tagOf(7, WireType.Varint),
  partitionKey: tagOf(8, LEN),
  /** Inside an attribute map entry. */
  entryKey: tagOf(1, LEN),
  entryValue: tagOf(2, LEN),
});
const {
  id: ID,
  type: TYPE,
  timestamp: TIMESTAMP,
  payload: PAYLOAD,
  source: SOURCE,
  attribute: ATTRIBUTE,
  schemaVersion: SCHEMA_VERSION,
  partitionKey: PARTITION_KEY,
} = EVENT_TAGS;

/** Skips a length-delimited field's body without copying it; returns its length. */
function skipLength(reader: BinaryReader): number {
  const length = reader.uint32();
  reader.pos += length;
  if (reader.pos > reader.len) throw new RangeError("field runs past the end of the message");
  return length;
}

/** Reads the Event that occupies bytes [reader.pos, end) of `buffer`. */
function scanEvent(reader: BinaryReader, buffer: Uint8Array, end: number): IncomingEvent {
  const start = reader.pos;
  let eventId = "";
  let idBytes = 0;
  let type = "";
  let typeBytes = 0;
  let timestamp = 0n;
  let payloadBytes = 0;
  let payloadOffset = 0;
  let schemaVersion = 0;
  let sourceBytes = 0;
  let attributeCount = 0;
  let largestAttributeBytes = 0;
  let largestAttributeKey = "";
  let partitionKey = "";
  let partitionKeyBytes = 0;
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case ID:
        idBytes = peekLength(reader);
        eventId = reader.string();
        break;
      case TYPE:
        typeBytes = peekLength(reader);
        type = reader.string();
        break;
      case TIMESTAMP:
        timestamp = BigInt(reader.int64());
        break;
      case PAYLOAD:
        payloadBytes = skipLength(reader);
        payloadOffset = reader.pos - payloadBytes - start;
        break;
      case SCHEMA_VERSION:
        schemaVersion = reader.uint32();
        break;
      case PARTITION_KEY:
        partitionKeyBytes = peekLength(reader);
        partitionKey = reader.string();
        break;
      case SOURCE:
        sourceBytes = skipLength(reader);
        break;
      case ATTRIBUTE: {
        attributeCount++;
        const entryStart = reader.pos;
        const entryBytes = skipLength(reader);
        if (entryBytes > largestAttributeBytes) {
          largestAttributeBytes = entryBytes;
          largestAttributeKey = attributeKey(buffer, entryStart);
        }
        break;
      }
      default:
        reader.skip(tag & 7);
    }
  }
  if (reader.pos !== end) throw new RangeError("event fields run past the end of the event");
  return {
    eventId,
    idBytes,
    type,
    typeBytes,
    timestamp,
    payloadBytes,
    payloadOffset,
    schemaVersion,
    sourceBytes,
    attributeCount,
    largestAttributeBytes,
    largestAttributeKey,
    partitionKey,
    partitionKeyBytes,
    bytes: buffer.subarray(start, end),
  };
}

/** The length prefix of the field at the reader's position, leaving the position as it was. */
function peekLength(reader: BinaryReader): number {
  const at = reader.pos;
  const length = reader.uint32();
  reader.pos = at;
  return length;
}

/** The key of the map entry whose length prefix starts at `at` (field 1 of the entry). */
function attributeKey(buffer: Uint8Array, at: number): string {
  const reader = new BinaryReader(buffer);
  reader.pos = at;
  const end = reader.uint32() + reader.pos;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === EVENT_TAGS.entryKey) return reader.string();
    reader.skip(tag & 7);
  }
  return "";
}

export function decodeIncomingEvent(bytes: Uint8Array): IncomingEvent {
  const reader = new BinaryReader(bytes);
  return scanEvent(reader, bytes, bytes.length);
}

/** An event built in memory (from HTTP JSON, say), encoded once as it is then stored. */
export function incomingFromEvent(event: Event): IncomingEvent {
  return decodeIncomingEvent(Event.encode(event).finish());
}

/** Reads one length-delimited Event field at the reader's position. */
function readEventField(reader: BinaryReader, buffer: Uint8Array): IncomingEvent {
  const length = reader.uint32();
  const end = reader.pos + length;
  if (end > buffer.length) throw new RangeError("event field runs past the end of the message");
  return scanEvent(reader, buffer, end);
}

/** EventBatch: field 1, repeated Event. */
export function decodeIncomingBatch(buffer: Uint8Array): IncomingBatch {
  const reader = new BinaryReader(buffer);
  const events: IncomingEvent[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === tagOf(1, LEN)) events.push(readEventField(reader, buffer));
    else reader.skip(tag & 7);
  }
  return { events };
}

/** PublishRequest: field 1, uint64 sequence; field 2, repeated Event. */
export function decodeIncomingPublish(buffer: Uint8Array): IncomingPublish {
  const reader = new BinaryReader(buffer);
  const events: IncomingEvent[] = [];
  let sequence = 0n;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === tagOf(1, WireType.Varint)) sequence = BigInt(reader.uint64());
    else if (tag === tagOf(2, LEN)) events.push(readEventField(reader, buffer));
    else reader.skip(tag & 7);
  }
  return { sequence, events };
}

/** The payload bytes of an event, without copying. */
export function payloadOf(event: IncomingEvent): Uint8Array {
  return event.bytes.subarray(event.payloadOffset, event.payloadOffset + event.payloadBytes);
}
