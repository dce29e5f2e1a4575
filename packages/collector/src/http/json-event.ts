// One event of a JSON or NDJSON body to the collector's IncomingEvent, or the reason it cannot
// be one. This runs once per event on the hot path: no logging, no closures, no regex unless a
// timestamp is a string. Limits (sizes, time range, allowed types, schemas) are the core's job;
// this only checks the shape JSON can get wrong and protobuf cannot.
import { RejectionReason } from "@eventpipe/proto";
import type { IncomingEvent } from "../incoming.js";
import { encodeJsonEvent } from "./event-encoding.js";
import { uuidV7 } from "./uuid-v7.js";

export type JsonEventOutcome =
  | { readonly ok: true; readonly event: IncomingEvent; readonly assignedId: boolean }
  | {
      readonly ok: false;
      readonly eventId: string;
      readonly reason: RejectionReason;
      readonly message: string;
    };

/** Beyond ±8.64e15 ms no Date exists; such numbers are mistakes, and would overflow int64 later. */
const MAX_ABS_MS = 8.64e15;
const INTEGER = /^-?\d{1,16}$/;
const RFC_3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function malformed(eventId: string, message: string): JsonEventOutcome {
  return { ok: false, eventId, reason: RejectionReason.REJECTION_REASON_MALFORMED, message };
}

/** Milliseconds since the epoch, or undefined when `value` is no timestamp we read. */
export function parseTimestamp(value: unknown, nowMs: number): number | undefined {
  if (value === undefined || value === null) return nowMs;
  if (typeof value === "number") {
    return Number.isFinite(value) && Math.abs(value) <= MAX_ABS_MS ? Math.floor(value) : undefined;
  }
  if (typeof value !== "string") return undefined;
  if (INTEGER.test(value)) {
    const ms = Number(value);
    return Math.abs(ms) <= MAX_ABS_MS ? ms : undefined;
  }
  return parseRfc3339(value);
}

/** Milliseconds since the epoch of an RFC 3339 date-time, or undefined when it is not one. */
export function parseRfc3339(value: string): number | undefined {
  if (!RFC_3339.test(value)) return undefined;
  const ms = Date.parse(value.toUpperCase().replace(" ", "T"));
  return Number.isNaN(ms) ? undefined : ms;
}

function readAttributes(value: unknown): Record<string, string> | string {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) return "attributes must be an object";
  for (const key in value) {
    if (typeof (value as Record<string, unknown>)[key] !== "string") {
      return `attribute "${key.slice(0, 64)}" must be a string`;
    }
  }
  return value as Record<string, string>;
}

/** `nowMs`: the request's arrival, used for missing timestamps (one clock read per request). */
export function eventFromJson(value: unknown, nowMs: number): JsonEventOutcome {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return malformed("", "an event must be a JSON object");
  }
  const fields = value as Record<string, unknown>;
  const givenId = fields.eventId;
  if (givenId !== undefined && givenId !== null && typeof givenId !== "string") {
    return malformed("", "eventId must be a string (or left out: the collector makes one)");
  }
  // An event refused here gets no id made for it: its rejection names it by index.
  const knownId = givenId ?? "";
  const type = fields.type;
  if (typeof type !== "string") {
    return {
      ok: false,
      eventId: knownId,
      reason: RejectionReason.REJECTION_REASON_MISSING_TYPE,
      message: type === undefined ? "type is missing" : "type must be a string",
    };
  }
  const timestamp = parseTimestamp(fields.timestamp, nowMs);
  if (timestamp === undefined) {
    return {
      ok: false,
      eventId: knownId,
      reason: RejectionReason.REJECTION_REASON_TIMESTAMP_OUT_OF_RANGE,
      message:
        "timestamp must be milliseconds since the epoch (a number or a string of digits) or an RFC 3339 date-time",
    };
  }
  const source = fields.source ?? "";
  if (typeof source !== "string") return malformed(knownId, "source must be a string");
  const attributes = readAttributes(fields.attributes);
  if (typeof attributes === "string") return malformed(knownId, attributes);
  const schemaVersion = fields.schemaVersion ?? 0;
  if (
    typeof schemaVersion !== "number" ||
    !Number.isInteger(schemaVersion) ||
    schemaVersion < 0 ||
    schemaVersion > 0xffff_ffff
  ) {
    return malformed(knownId, "schemaVersion must be a non-negative integer");
  }
  const partitionKey = fields.partitionKey ?? "";
  if (typeof partitionKey !== "string") return malformed(knownId, "partitionKey must be a string");
  const assignedId = givenId === undefined || givenId === null;
  const eventId = assignedId ? uuidV7(nowMs) : givenId;
  const payload = fields.payload === undefined ? "" : JSON.stringify(fields.payload);
  const event = encodeJsonEvent({
    eventId,
    type,
    timestamp,
    payload,
    source,
    attributes,
    schemaVersion,
    partitionKey,
  });
  return { ok: true, event, assignedId };
}
