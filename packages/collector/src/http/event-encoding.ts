// A JSON event's fields to an IncomingEvent in one pass: the protobuf bytes (identical to
// Event.encode's) written straight into one buffer, and the EventView filled from the values
// at hand. The generic path (Event.encode, then scanning the bytes it made) cost a growing
// writer, a copy in finish() and a second read of every field, once per event. The output must
// stay byte for byte what Event.encode writes: test/http-event-encoding.test.ts compares them.
import { EVENT_TAGS, type IncomingEvent } from "../incoming.js";

export interface EventFields {
  readonly eventId: string;
  readonly type: string;
  /** Milliseconds since the epoch, an integer within ±8.64e15. */
  readonly timestamp: number;
  /** The payload's UTF-8 bytes (JSON text); "" for none. */
  readonly payload: string;
  readonly source: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly schemaVersion: number;
  /** "" for none: the event id picks the partition. */
  readonly partitionKey: string;
}

const {
  id: ID,
  type: TYPE,
  timestamp: TIMESTAMP,
  payload: PAYLOAD,
  source: SOURCE,
  attribute: ATTRIBUTE,
  schemaVersion: SCHEMA_VERSION,
  partitionKey: PARTITION_KEY,
  entryKey: ENTRY_KEY,
  entryValue: ENTRY_VALUE,
} = EVENT_TAGS;

interface WellFormed {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/**
 * The string a protobuf reader gets back after this one is written as UTF-8: lone surrogates
 * become U+FFFD, as TextEncoder and Buffer write them. (ES2024 methods; Node 20 has them.)
 */
function asDecoded(text: string): string {
  const wellFormed = text as unknown as WellFormed;
  return wellFormed.isWellFormed() ? text : wellFormed.toWellFormed();
}

/**
 * Buffer#write without its argument juggling, which cost as much as the copy itself for these
 * short strings. utf8Write is what Buffer#write calls; undocumented, so checked once at load.
 */
type Utf8Write = (this: Buffer, text: string, at: number, length: number) => number;
const bufferProto = Buffer.prototype as unknown as { utf8Write?: Utf8Write };
const utf8Write: Utf8Write =
  typeof bufferProto.utf8Write === "function"
    ? bufferProto.utf8Write
    : function (this: Buffer, text, at, length) {
        return this.write(text, at, length, "utf8");
      };

function varintSize(value: number): number {
  let size = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/** A non-negative integer below 2^53 as a varint at `at`; returns the position after it. */
function writeVarint(buffer: Buffer, at: number, value: number): number {
  while (value >= 0x8000_0000) {
    // `% 128` rather than `& 127`: bitwise operators would truncate to 32 bits first.
    buffer[at++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  while (value >= 128) {
    buffer[at++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  buffer[at++] = value;
  return at;
}

/** int64 varint bytes: a negative number is its 64-bit two's complement, ten bytes. */
function timestampVarint(ms: number): number[] | undefined {
  if (ms >= 0) return undefined;
  const bytes: number[] = [];
  let value = BigInt.asUintN(64, BigInt(ms));
  while (value >= 128n) {
    bytes.push(Number(value & 0x7fn) | 0x80);
    value >>= 7n;
  }
  bytes.push(Number(value));
  return bytes;
}

/** tag + length + bytes of a length-delimited field of `bytes` bytes. */
function fieldSize(bytes: number): number {
  return 1 + varintSize(bytes) + bytes;
}

function writeString(buffer: Buffer, at: number, tag: number, text: string, bytes: number) {
  buffer[at++] = tag;
  at = writeVarint(buffer, at, bytes);
  return at + utf8Write.call(buffer, text, at, bytes);
}

/** Encodes `fields` as an Event; omits defaults the way Event.encode does. */
export function encodeJsonEvent(fields: EventFields): IncomingEvent {
  const { eventId, type, timestamp, payload, source, attributes, schemaVersion, partitionKey } =
    fields;
  const idBytes = Buffer.byteLength(eventId, "utf8");
  const typeBytes = Buffer.byteLength(type, "utf8");
  const payloadBytes = Buffer.byteLength(payload, "utf8");
  const sourceBytes = Buffer.byteLength(source, "utf8");
  const partitionKeyBytes = partitionKey === "" ? 0 : Buffer.byteLength(partitionKey, "utf8");
  const negative = timestampVarint(timestamp);
  let size = 0;
  if (idBytes > 0) size += fieldSize(idBytes);
  if (typeBytes > 0) size += fieldSize(typeBytes);
  if (timestamp !== 0) size += 1 + (negative?.length ?? varintSize(timestamp));
  if (payloadBytes > 0) size += fieldSize(payloadBytes);
  if (sourceBytes > 0) size += fieldSize(sourceBytes);
  if (schemaVersion !== 0) size += 1 + varintSize(schemaVersion);
  if (partitionKeyBytes > 0) size += fieldSize(partitionKeyBytes);

  // Attributes: sizes first (a map entry's length prefix comes before it), kept for the write.
  const keys = Object.keys(attributes);
  let entrySizes: number[] | undefined;
  let largestAttributeBytes = 0;
  let largestAttributeKey = "";
  if (keys.length > 0) {
    entrySizes = new Array<number>(keys.length * 2);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const keyBytes = Buffer.byteLength(key, "utf8");
      const valueBytes = Buffer.byteLength(attributes[key]!, "utf8");
      entrySizes[i * 2] = keyBytes;
      entrySizes[i * 2 + 1] = valueBytes;
      const entryBytes =
        (keyBytes > 0 ? fieldSize(keyBytes) : 0) + (valueBytes > 0 ? fieldSize(valueBytes) : 0);
      size += fieldSize(entryBytes);
      if (entryBytes > largestAttributeBytes) {
        largestAttributeBytes = entryBytes;
        largestAttributeKey = key;
      }
    }
  }

  // Small sizes come out of Node's shared pool: no allocation of its own per event.
  const bytes = Buffer.allocUnsafe(size);
  let at = 0;
  if (idBytes > 0) at = writeString(bytes, at, ID, eventId, idBytes);
  if (typeBytes > 0) at = writeString(bytes, at, TYPE, type, typeBytes);
  if (timestamp !== 0) {
    bytes[at++] = TIMESTAMP;
    if (negative === undefined) at = writeVarint(bytes, at, timestamp);
    else for (const byte of negative) bytes[at++] = byte;
  }
  let payloadOffset = 0;
  if (payloadBytes > 0) {
    bytes[at++] = PAYLOAD;
    at = writeVarint(bytes, at, payloadBytes);
    payloadOffset = at;
    at += utf8Write.call(bytes, payload, at, payloadBytes);
  }
  if (sourceBytes > 0) at = writeString(bytes, at, SOURCE, source, sourceBytes);
  if (entrySizes !== undefined) {
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const keyBytes = entrySizes[i * 2]!;
      const valueBytes = entrySizes[i * 2 + 1]!;
      bytes[at++] = ATTRIBUTE;
      at = writeVarint(
        bytes,
        at,
        (keyBytes > 0 ? fieldSize(keyBytes) : 0) + (valueBytes > 0 ? fieldSize(valueBytes) : 0),
      );
      if (keyBytes > 0) at = writeString(bytes, at, ENTRY_KEY, key, keyBytes);
      if (valueBytes > 0) at = writeString(bytes, at, ENTRY_VALUE, attributes[key]!, valueBytes);
    }
  }
  if (schemaVersion !== 0) {
    bytes[at++] = SCHEMA_VERSION;
    at = writeVarint(bytes, at, schemaVersion);
  }
  if (partitionKeyBytes > 0) {
    at = writeString(bytes, at, PARTITION_KEY, partitionKey, partitionKeyBytes);
  }
  if (at !== size) throw new Error(`encoded ${at} bytes of an event sized ${size}`);
  return {
    eventId: asDecoded(eventId),
    idBytes,
    type: asDecoded(type),
    typeBytes,
    timestamp: BigInt(timestamp),
    payloadBytes,
    payloadOffset,
    schemaVersion,
    sourceBytes,
    attributeCount: keys.length,
    largestAttributeBytes,
    largestAttributeKey: asDecoded(largestAttributeKey),
    partitionKey: asDecoded(partitionKey),
    partitionKeyBytes,
    bytes,
  };
}
