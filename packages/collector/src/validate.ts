// Per-event validation. A bad event is rejected with a reason; the stream goes on.
import { type Event, RejectionReason } from "@eventpipe/proto";
import type { EventLimits } from "./config.js";

export interface EventProblem {
  readonly reason: RejectionReason;
  readonly message: string;
}

/** Before this no event of ours was produced; earlier values are unit mistakes (seconds). */
const EARLIEST_TIMESTAMP_MS = 946_684_800_000n; // 2000-01-01T00:00:00Z

function tooLong(field: string, bytes: number, limit: number): string {
  return `${field} is ${bytes} bytes, the limit is ${limit}`;
}

export function validateEvent(
  event: Event,
  limits: EventLimits,
  allowed: ReadonlySet<string> | undefined,
  nowMs: number,
): EventProblem | undefined {
  if (event.eventId.length === 0) {
    return { reason: RejectionReason.REJECTION_REASON_MISSING_ID, message: "event_id is empty" };
  }
  // String length is a cheap lower bound of the UTF-8 size; measure only when it matters.
  if (event.eventId.length * 3 > limits.maxIdBytes) {
    const bytes = Buffer.byteLength(event.eventId);
    if (bytes > limits.maxIdBytes) {
      return {
        reason: RejectionReason.REJECTION_REASON_ID_TOO_LONG,
        message: tooLong("event_id", bytes, limits.maxIdBytes),
      };
    }
  }
  if (event.type.length === 0) {
    return { reason: RejectionReason.REJECTION_REASON_MISSING_TYPE, message: "type is empty" };
  }
  if (event.type.length * 3 > limits.maxTypeBytes) {
    const bytes = Buffer.byteLength(event.type);
    if (bytes > limits.maxTypeBytes) {
      return {
        reason: RejectionReason.REJECTION_REASON_TYPE_TOO_LONG,
        message: tooLong("type", bytes, limits.maxTypeBytes),
      };
    }
  }
  if (allowed !== undefined && !allowed.has(event.type)) {
    return {
      reason: RejectionReason.REJECTION_REASON_TYPE_NOT_ALLOWED,
      message: `type "${event.type.slice(0, 64)}" is not in ALLOWED_EVENT_TYPES`,
    };
  }
  const latest = BigInt(nowMs + limits.maxFutureSkewMs);
  if (event.timestamp < EARLIEST_TIMESTAMP_MS || event.timestamp > latest) {
    return {
      reason: RejectionReason.REJECTION_REASON_TIMESTAMP_OUT_OF_RANGE,
      message: `timestamp ${event.timestamp} is not milliseconds since the epoch between 2000-01-01 and ${limits.maxFutureSkewMs} ms from now`,
    };
  }
  if (event.payload.length > limits.maxPayloadBytes) {
    return {
      reason: RejectionReason.REJECTION_REASON_PAYLOAD_TOO_LARGE,
      message: tooLong("payload", event.payload.length, limits.maxPayloadBytes),
    };
  }
  if (event.source.length * 3 > limits.maxSourceBytes) {
    const bytes = Buffer.byteLength(event.source);
    if (bytes > limits.maxSourceBytes) {
      return {
        reason: RejectionReason.REJECTION_REASON_SOURCE_TOO_LONG,
        message: tooLong("source", bytes, limits.maxSourceBytes),
      };
    }
  }
  let attributes = 0;
  for (const key in event.attributes) {
    attributes++;
    if (attributes > limits.maxAttributes) {
      return {
        reason: RejectionReason.REJECTION_REASON_TOO_MANY_ATTRIBUTES,
        message: `more than ${limits.maxAttributes} attributes`,
      };
    }
    const bytes = Buffer.byteLength(key) + Buffer.byteLength(event.attributes[key] ?? "");
    if (bytes > limits.maxAttributeBytes) {
      return {
        reason: RejectionReason.REJECTION_REASON_ATTRIBUTE_TOO_LARGE,
        message: `attribute "${key.slice(0, 64)}" is ${bytes} bytes with its value, the limit is ${limits.maxAttributeBytes}`,
      };
    }
  }
  return undefined;
}
