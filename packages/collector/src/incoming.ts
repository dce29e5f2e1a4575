// Request decoders that keep each event's wire bytes next to its decoded fields.
//
// The collector validates the decoded event but stores the bytes it received, wrapped in the
// envelope without re-encoding (see encodeReceivedEvent): re-encoding every event cost more
// CPU than anything else in the collector, and storing the bytes as sent also preserves
// fields this version does not know yet.
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { Event } from "@eventpipe/proto";

export interface IncomingEvent {
  readonly event: Event;
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

export function decodeIncomingEvent(bytes: Uint8Array): IncomingEvent {
  return { event: Event.decode(bytes), bytes };
}

/** Reads one length-delimited Event field at the reader's position. */
function readEvent(reader: BinaryReader, buffer: Uint8Array): IncomingEvent {
  const length = reader.uint32();
  const start = reader.pos;
  const end = start + length;
  if (end > buffer.length) throw new RangeError("event field runs past the end of the message");
  reader.pos = end;
  return decodeIncomingEvent(buffer.subarray(start, end));
}

/** EventBatch: field 1, repeated Event. */
export function decodeIncomingBatch(buffer: Uint8Array): IncomingBatch {
  const reader = new BinaryReader(buffer);
  const events: IncomingEvent[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === WireType.LengthDelimited)
      events.push(readEvent(reader, buffer));
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
    const field = tag >>> 3;
    if (field === 1 && (tag & 7) === WireType.Varint) sequence = BigInt(reader.uint64());
    else if (field === 2 && (tag & 7) === WireType.LengthDelimited)
      events.push(readEvent(reader, buffer));
    else reader.skip(tag & 7);
  }
  return { sequence, events };
}
