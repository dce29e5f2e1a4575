// One CloudEvent 1.0 to the collector's IncomingEvent, or the reason it cannot be one: a
// per-event rejection, like an invalid JSON event (json-event.ts). Both content modes meet here:
// the JSON format (structured and batched bodies) reads its object into CloudEventParts below,
// binary mode reads its ce- headers (cloudevents-binary.ts). Mapping:
//   id → eventId, type → type, source → source, time (RFC 3339) → timestamp (arrival when absent),
//   data / data_base64 / the binary body → payload, and every other attribute (datacontenttype,
//   subject, dataschema, extensions) → attributes under its own name.
// No new RejectionReason: a missing id or type has its reason already (missing_id,
// missing_type); a missing source or specversion, or a specversion other than "1.0", is
// `malformed` with a message that names the attribute. Limits and schemas are the core's job.
import { RejectionReason } from "@eventpipe/proto";
import { incomingFromEvent } from "../incoming.js";
import { type PreparedEvents, prepareOutcomes } from "./ingest-request.js";
import { type JsonEventOutcome, parseRfc3339 } from "./json-event.js";

/** The one version this collector reads. */
export const CLOUDEVENTS_SPEC_VERSION = "1.0";

/** What either content mode hands over: context attributes as strings, the data as bytes. */
export interface CloudEventParts {
  readonly specversion: string | undefined;
  readonly id: string | undefined;
  readonly source: string | undefined;
  readonly type: string | undefined;
  readonly time: string | undefined;
  /** datacontenttype, subject, dataschema and extensions, by attribute name. */
  readonly attributes: Record<string, string>;
  readonly data: Buffer;
}

/** How messages name an attribute: `id` in a JSON event, `the ce-id header` in binary mode. */
export type AttributeNamer = (attribute: string) => string;

const jsonName: AttributeNamer = (attribute) => attribute;

/** Attributes with a field of their own, and the JSON format's data members. */
const MAPPED = new Set(["specversion", "id", "source", "type", "time", "data", "data_base64"]);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const EMPTY = Buffer.alloc(0);

function rejected(eventId: string, reason: RejectionReason, message: string): JsonEventOutcome {
  return { ok: false, eventId, reason, message };
}

function malformed(eventId: string, message: string): JsonEventOutcome {
  return rejected(eventId, RejectionReason.REJECTION_REASON_MALFORMED, message);
}

/** application/json, text/json and any +json type, parameters ignored. */
export function isJsonMediaType(contentType: string): boolean {
  const semicolon = contentType.indexOf(";");
  const media = (semicolon < 0 ? contentType : contentType.slice(0, semicolon))
    .trim()
    .toLowerCase();
  return media === "application/json" || media === "text/json" || media.endsWith("+json");
}

/** The checks every CloudEvent passes, in both modes, then the event as the core takes it. */
export function incomingFromCloudEvent(
  parts: CloudEventParts,
  nowMs: number,
  name: AttributeNamer,
): JsonEventOutcome {
  const { specversion, id, source, type, time } = parts;
  const eventId = id ?? "";
  if (specversion === undefined) {
    return malformed(
      eventId,
      `${name("specversion")} is missing: a CloudEvent names its version, "${CLOUDEVENTS_SPEC_VERSION}"`,
    );
  }
  if (specversion !== CLOUDEVENTS_SPEC_VERSION) {
    return malformed(
      eventId,
      `specversion "${specversion.slice(0, 16)}" is not supported: this collector reads CloudEvents ${CLOUDEVENTS_SPEC_VERSION} only`,
    );
  }
  if (id === undefined || id === "") {
    return rejected(
      "",
      RejectionReason.REJECTION_REASON_MISSING_ID,
      `${name("id")} is missing: a CloudEvent needs a non-empty id (the collector makes none for CloudEvents)`,
    );
  }
  if (source === undefined || source === "") {
    return malformed(
      eventId,
      `${name("source")} is missing: a CloudEvent needs a non-empty URI-reference source, e.g. /shop/checkout`,
    );
  }
  if (type === undefined || type === "") {
    return rejected(
      eventId,
      RejectionReason.REJECTION_REASON_MISSING_TYPE,
      `${name("type")} is missing: a CloudEvent needs a non-empty type`,
    );
  }
  const timestamp = time === undefined ? nowMs : parseRfc3339(time);
  if (timestamp === undefined) {
    return rejected(
      eventId,
      RejectionReason.REJECTION_REASON_TIMESTAMP_OUT_OF_RANGE,
      `${name("time")} "${time?.slice(0, 40)}" is not an RFC 3339 timestamp, e.g. 2026-11-22T10:00:00Z`,
    );
  }
  // Generic encoding (not event-encoding.ts): CloudEvents are not this door's hot path, and
  // the payload may be any bytes, not only JSON text.
  const event = incomingFromEvent({
    eventId: id,
    type,
    timestamp: BigInt(timestamp),
    payload: parts.data,
    source,
    attributes: parts.attributes,
    schemaVersion: 0,
    // The Partitioning extension's attribute picks the queue partition, as it does on brokers.
    partitionKey: parts.attributes.partitionkey ?? "",
  });
  return { ok: true, event, assignedId: false };
}

type Read<T> = { readonly value: T } | { readonly problem: string };

/** A context attribute of the JSON format: a string, or absent (null counts as absent). */
function stringMember(fields: Record<string, unknown>, key: string): Read<string | undefined> {
  const value = fields[key];
  if (value === undefined || value === null) return { value: undefined };
  if (typeof value === "string") return { value };
  return {
    problem: `${key} must be a string, not ${Array.isArray(value) ? "an array" : typeof value}`,
  };
}

/**
 * The payload of a JSON-format event: data_base64's bytes; a string `data` of a non-JSON
 * datacontenttype (text/plain...) as that string's UTF-8 bytes; any other `data` as the UTF-8
 * bytes of its JSON text, as the JSON door stores payloads.
 */
function dataOf(fields: Record<string, unknown>, contentType: string | undefined): Read<Buffer> {
  const data = fields.data;
  const base64 = fields.data_base64;
  const hasData = data !== undefined;
  const hasBase64 = base64 !== undefined && base64 !== null;
  if (hasData && hasBase64) {
    return { problem: "data and data_base64 are both set: a CloudEvent carries one of them" };
  }
  if (hasBase64) {
    if (typeof base64 !== "string" || !BASE64.test(base64)) {
      return { problem: "data_base64 must be a base64 string (RFC 4648, with padding)" };
    }
    return { value: Buffer.from(base64, "base64") };
  }
  if (!hasData) return { value: EMPTY };
  if (typeof data === "string" && contentType !== undefined && !isJsonMediaType(contentType)) {
    return { value: Buffer.from(data, "utf8") };
  }
  return { value: Buffer.from(JSON.stringify(data), "utf8") };
}

/** Every member but the mapped ones, as attribute strings (the JSON format's value types). */
function attributesOf(fields: Record<string, unknown>): Read<Record<string, string>> {
  const attributes: Record<string, string> = {};
  for (const key in fields) {
    if (MAPPED.has(key)) continue;
    const value = fields[key];
    if (value === undefined || value === null) continue;
    if (typeof value === "string") attributes[key] = value;
    else if (typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value))) {
      // The canonical string forms of the Boolean and Integer types.
      attributes[key] = String(value);
    } else {
      const kind = Array.isArray(value) ? "an array" : typeof value;
      return {
        problem: `attribute "${key.slice(0, 64)}" must be a string, number or boolean, not ${kind}`,
      };
    }
  }
  return { value: attributes };
}

/** One event of a structured or batched body (the JSON event format). */
export function cloudEventFromJson(value: unknown, nowMs: number): JsonEventOutcome {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return malformed("", "a CloudEvent must be a JSON object");
  }
  const fields = value as Record<string, unknown>;
  const strings: Partial<Record<"specversion" | "id" | "source" | "type" | "time", string>> = {};
  for (const key of ["id", "specversion", "source", "type", "time"] as const) {
    const read = stringMember(fields, key);
    if ("problem" in read) return malformed(strings.id ?? "", read.problem);
    if (read.value !== undefined) strings[key] = read.value;
  }
  const attributes = attributesOf(fields);
  if ("problem" in attributes) return malformed(strings.id ?? "", attributes.problem);
  const data = dataOf(fields, attributes.value.datacontenttype);
  if ("problem" in data) return malformed(strings.id ?? "", data.problem);
  return incomingFromCloudEvent(
    {
      specversion: strings.specversion,
      id: strings.id,
      source: strings.source,
      type: strings.type,
      time: strings.time,
      attributes: attributes.value,
      data: data.value,
    },
    nowMs,
    jsonName,
  );
}

/** The events of a structured (one) or batched (a list) body. */
export function prepareCloudEvents(values: readonly unknown[], nowMs: number): PreparedEvents {
  return prepareOutcomes(values.map((value) => cloudEventFromJson(value, nowMs)));
}
