// Per-event validation. A bad event is rejected with a reason; the stream goes on.
import { RejectionReason } from "@eventpipe/proto";
import type { EventLimits } from "./config.js";
import type { EventView } from "./incoming.js";

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
  event: EventView,
  limits: EventLimits,
  allowed: ReadonlySet<string> | undefined,
  /** now + limits.maxFutureSkewMs, computed once per chunk by the caller. */
  latestTimestamp: bigint,
): EventProblem | undefined {
  if (event.idBytes === 0) {
    return { reason: RejectionReason.REJECTION_REASON_MISSING_ID, message: "event_id is empty" };
  }
  if (event.idBytes > limits.maxIdBytes) {
    return {
      reason: RejectionReason.REJECTION_REASON_ID_TOO_LONG,
      message: tooLong("event_id", event.idBytes, limits.maxIdBytes),
    };
  }
  if (event.partitionKeyBytes > limits.maxIdBytes) {
    return {
      reason: RejectionReason.REJECTION_REASON_PARTITION_KEY_TOO_LONG,
      message: tooLong("partition_key", event.partitionKeyBytes, limits.maxIdBytes),
    };
  }
  if (event.typeBytes === 0) {
    return { reason: RejectionReason.REJECTION_REASON_MISSING_TYPE, message: "type is empty" };
  }
  if (event.typeBytes > limits.maxTypeBytes) {
    return {
      reason: RejectionReason.REJECTION_REASON_TYPE_TOO_LONG,
      message: tooLong("type", event.typeBytes, limits.maxTypeBytes),
    };
  }
  if (allowed !== undefined && !allowed.has(event.type)) {
    return {
      reason: RejectionReason.REJECTION_REASON_TYPE_NOT_ALLOWED,
      message: `type "${event.type.slice(0, 64)}" is not in ALLOWED_EVENT_TYPES`,
    };
  }
  if (event.timestamp < EARLIEST_TIMESTAMP_MS || event.timestamp > latestTimestamp) {
    return {
      reason: RejectionReason.REJECTION_REASON_TIMESTAMP_OUT_OF_RANGE,
      message: `timestamp ${event.timestamp} is not milliseconds since the epoch between 2000-01-01 and ${limits.maxFutureSkewMs} ms from now`,
    };
  }
  if (event.payloadBytes > limits.maxPayloadBytes) {
    return {
      reason: RejectionReason.REJECTION_REASON_PAYLOAD_TOO_LARGE,
      message: tooLong("payload", event.payloadBytes, limits.maxPayloadBytes),
    };
  }
  if (event.sourceBytes > limits.maxSourceBytes) {
    return {
      reason: RejectionReason.REJECTION_REASON_SOURCE_TOO_LONG,
      message: tooLong("source", event.sourceBytes, limits.maxSourceBytes),
    };
  }
  if (event.attributeCount > limits.maxAttributes) {
    return {
      reason: RejectionReason.REJECTION_REASON_TOO_MANY_ATTRIBUTES,
      message: `${event.attributeCount} attributes, the limit is ${limits.maxAttributes}`,
    };
  }
  // An entry's size counts its key, value and their two short field headers.
  if (event.largestAttributeBytes > limits.maxAttributeBytes) {
    return {
      reason: RejectionReason.REJECTION_REASON_ATTRIBUTE_TOO_LARGE,
      message: `attribute "${event.largestAttributeKey.slice(0, 64)}" is ${event.largestAttributeBytes} bytes with its value, the limit is ${limits.maxAttributeBytes}`,
    };
  }
  return undefined;
}
