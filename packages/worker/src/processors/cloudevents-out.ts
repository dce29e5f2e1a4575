// An event as a CloudEvent 1.0 over HTTP, for the HTTP processor's `format: cloudevents-binary`
// (attributes in ce- headers, the payload as the body) and `format: cloudevents-structured`
// (one application/cloudevents+json document). The mapping:
//   id ← the event id (stable across retries: receivers deduplicate on source + id)
//   type ← type;  time ← the timestamp (RFC 3339, omitted when 0)
//   source ← the event's source, or `/eventpipe/<queue>` for an event sent without one (ids
//     are unique per queue, which is what source + id must be)
//   datacontenttype ← the `datacontenttype` attribute (an event that came in as a CloudEvent),
//     else the `content-type` attribute, else application/json when the payload parses as
//     JSON, else application/octet-stream; nothing when the payload is empty
//   extensions ← every other attribute whose name is a valid CloudEvents attribute name
//     (lower-case a-z and 0-9 only: subject, dataschema, traceparent...). Others ("content-type",
//     "eventpipe.route", "userId") are skipped, not renamed: a renamed attribute could collide
//     with another, and a receiver could not tell where it came from.
// Structured mode puts JSON data in `data` as the payload's own text (not parsed and written
// again, so big numbers and key order survive), text data as a JSON string, anything else
// (and JSON that does not parse, or bytes that are not UTF-8) in `data_base64`.
import type { Event } from "@eventpipe/proto";

export type CloudEventsFormat = "cloudevents-binary" | "cloudevents-structured";

export interface CloudEventMessage {
  /** content-type (when there is data, and always in structured mode); ce- headers in binary. */
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
}

export type CloudEventEncoder = (event: Event) => CloudEventMessage;

export const SPEC_VERSION = "1.0";
/** Exactly the SDKs' default: their receivers pick a parser by the whole header value. */
export const STRUCTURED_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8";

/** lower-case ASCII letters and digits (CloudEvents 1.0, "Attribute Naming Convention"). */
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;
/** Filled from the event's own fields (or datacontenttype's rule), never from an attribute. */
const RESERVED = new Set([
  "specversion",
  "id",
  "source",
  "type",
  "time",
  "datacontenttype",
  "data",
]);
/** Printable ASCII except space, double-quote and percent stay as they are (binding 3.1.3.2). */
const NEEDS_ENCODING = /[^\x21\x23\x24\x26-\x7e]/;
const MAX_ABS_MS = 8.64e15;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The source of events without one: `/eventpipe/<queue>`, a valid URI-reference. */
export function defaultCloudEventSource(queue: string | undefined): string {
  return queue === undefined ? "/eventpipe" : `/eventpipe/${encodeURIComponent(queue)}`;
}

/** application/json, text/json and any +json type, parameters ignored. */
export function isJsonMediaType(contentType: string): boolean {
  const media = mediaTypeOf(contentType);
  return media === "application/json" || media === "text/json" || media.endsWith("+json");
}

function mediaTypeOf(contentType: string): string {
  const semicolon = contentType.indexOf(";");
  return (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

/** A header value percent-encoded as the HTTP binding requires (upper-case hex, UTF-8). */
export function encodeHeaderValue(value: string): string {
  if (!NEEDS_ENCODING.test(value)) return value;
  let encoded = "";
  // for...of walks code points: a surrogate pair is one character, as the binding says.
  for (const char of value) {
    if (!NEEDS_ENCODING.test(char)) {
      encoded += char;
      continue;
    }
    for (const byte of Buffer.from(char, "utf8")) {
      encoded += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    }
  }
  return encoded;
}

/** The payload as text, or undefined when it is not UTF-8. */
function textOf(payload: Uint8Array): string | undefined {
  try {
    return utf8.decode(payload);
  } catch {
    return undefined;
  }
}

function isJson(text: string | undefined): text is string {
  if (text === undefined) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function timeOf(event: Event): string | undefined {
  const ms = Number(event.timestamp);
  return ms === 0 || Math.abs(ms) > MAX_ABS_MS ? undefined : new Date(ms).toISOString();
}

/** Attributes that travel as extensions, in the event's order. */
function extensionsOf(attributes: Readonly<Record<string, string>>): [string, string][] {
  const extensions: [string, string][] = [];
  for (const name in attributes) {
    if (ATTRIBUTE_NAME.test(name) && !RESERVED.has(name)) {
      extensions.push([name, attributes[name]!]);
    }
  }
  return extensions;
}

interface Data {
  /** undefined: no datacontenttype (an empty payload without one). */
  readonly contentType: string | undefined;
  /** The payload as UTF-8 text when it is. */
  readonly text: string | undefined;
  /** Whether the text parses as JSON, when that was needed already. */
  readonly json: boolean | undefined;
}

function dataOf(event: Event): Data {
  const { payload, attributes } = event;
  const given = attributes.datacontenttype ?? attributes["content-type"];
  if (payload.length === 0) return { contentType: given, text: "", json: undefined };
  const text = textOf(payload);
  if (given !== undefined) return { contentType: given, text, json: undefined };
  const json = isJson(text);
  return { contentType: json ? "application/json" : "application/octet-stream", text, json };
}

function binary(event: Event, defaultSource: string): CloudEventMessage {
  const headers: Record<string, string> = {
    "ce-specversion": SPEC_VERSION,
    "ce-id": encodeHeaderValue(event.eventId),
    "ce-source": encodeHeaderValue(event.source || defaultSource),
    "ce-type": encodeHeaderValue(event.type),
  };
  const time = timeOf(event);
  if (time !== undefined) headers["ce-time"] = time;
  for (const [name, value] of extensionsOf(event.attributes)) {
    headers[`ce-${name}`] = encodeHeaderValue(value);
  }
  // Binary mode: content-type is datacontenttype (3.1.1), and says nothing without data.
  if (event.payload.length > 0) headers["content-type"] = dataOf(event).contentType!;
  return { headers, body: event.payload };
}

function structured(event: Event, defaultSource: string): CloudEventMessage {
  const { contentType, text, json: parses } = dataOf(event);
  let json = `{"specversion":"${SPEC_VERSION}","id":${JSON.stringify(event.eventId)}`;
  json += `,"source":${JSON.stringify(event.source || defaultSource)}`;
  json += `,"type":${JSON.stringify(event.type)}`;
  const time = timeOf(event);
  if (time !== undefined) json += `,"time":"${time}"`;
  if (contentType !== undefined) json += `,"datacontenttype":${JSON.stringify(contentType)}`;
  for (const [name, value] of extensionsOf(event.attributes)) {
    json += `,"${name}":${JSON.stringify(value)}`;
  }
  if (event.payload.length > 0) {
    const media = contentType === undefined ? "" : mediaTypeOf(contentType);
    if (isJsonMediaType(media) && (parses ?? isJson(text))) {
      // Valid JSON text, spliced as it is.
      json += `,"data":${text}`;
    } else if (media.startsWith("text/") && text !== undefined) {
      json += `,"data":${JSON.stringify(text)}`;
    } else {
      json += `,"data_base64":"${Buffer.from(event.payload).toString("base64")}"`;
    }
  }
  json += "}";
  return {
    headers: { "content-type": STRUCTURED_CONTENT_TYPE },
    body: Buffer.from(json, "utf8"),
  };
}

/** The encoder of a CloudEvents format; `defaultSource` for events sent without a source. */
export function cloudEventEncoder(
  format: CloudEventsFormat,
  defaultSource: string,
): CloudEventEncoder {
  return format === "cloudevents-binary"
    ? (event) => binary(event, defaultSource)
    : (event) => structured(event, defaultSource);
}
