// Binary content mode of the CloudEvents HTTP binding: the context attributes in ce- headers,
// the data as the body, in its own content-type (which becomes datacontenttype).
//
// A request is taken as a binary-mode CloudEvent when it carries any of ce-specversion, ce-id,
// ce-type or ce-source (the spec's hint: "if the message has the mandatory CloudEvents
// attributes as HTTP headers, it is probably a CloudEvent"); one of them missing is then that
// event's rejection, with the header named, rather than a confusing "not an array of events".
//
// Status: an invalid binary-mode event (no ce-type, say) is answered 200 with the summary and
// its rejection, as an invalid event of any other body is. The HTTP binding (1.0.2, section 3)
// and the webhook spec define no status for an event that breaks the CloudEvents rules (the
// webhook spec reserves 415 for a format the receiver does not understand, and this one is
// understood), so the door's own rule applies: 400 is for a body that is not what its content
// type says, a bad event is a rejection with a reason, in all three modes alike.
import type { IncomingHttpHeaders } from "node:http";
import { RejectionReason } from "@eventpipe/proto";
import { type CloudEventParts, incomingFromCloudEvent } from "./cloudevents-event.js";
import type { JsonEventOutcome } from "./json-event.js";

const PREFIX = "ce-";
const headerName = (attribute: string) => `the ${PREFIX}${attribute} header`;
/** Read into fields of their own; every other ce- header is an attribute under its name. */
const CONTEXT = new Set(["specversion", "id", "source", "type", "time", "datacontenttype"]);
const PERCENT_RUN = /(?:%[0-9A-Fa-f]{2})+/g;
const QUOTED_PAIR = /\\(.)/g;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** True when the request is a binary-mode CloudEvent. Four lookups: cheap on the hot path. */
export function isBinaryCloudEvent(headers: IncomingHttpHeaders): boolean {
  return (
    headers["ce-specversion"] !== undefined ||
    headers["ce-id"] !== undefined ||
    headers["ce-type"] !== undefined ||
    headers["ce-source"] !== undefined
  );
}

/**
 * A header value as the binding says to read it: a double-quoted string unescaped first (older
 * senders), then one round of percent-decoding. Runs of %XX are decoded as UTF-8 and must be
 * valid UTF-8 (overlong forms included): undefined when not. A `%` not followed by two hex
 * digits is kept as it is, since senders that do not encode (the JavaScript SDK among them)
 * send a literal `%`.
 */
export function decodeHeaderValue(raw: string): string | undefined {
  let value = raw;
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    value = value.slice(1, -1).replace(QUOTED_PAIR, "$1");
  }
  if (!value.includes("%")) return value;
  try {
    return value.replace(PERCENT_RUN, (run) =>
      utf8.decode(Buffer.from(run.replaceAll("%", ""), "hex")),
    );
  } catch {
    return undefined;
  }
}

/** The binary-mode request's one event; `data` is the body's bytes exactly as sent. */
export function cloudEventFromBinary(
  headers: IncomingHttpHeaders,
  data: Buffer,
  nowMs: number,
): JsonEventOutcome {
  const context: Record<string, string | undefined> = {};
  const attributes: Record<string, string> = {};
  let undecodable: string | undefined;
  for (const key in headers) {
    if (!key.startsWith(PREFIX)) continue;
    const raw = headers[key];
    if (raw === undefined) continue;
    const name = key.slice(PREFIX.length);
    const value = decodeHeaderValue(Array.isArray(raw) ? raw.join(",") : raw);
    if (value === undefined) {
      undecodable ??= key;
      continue;
    }
    if (CONTEXT.has(name)) context[name] = value;
    else if (name !== "") attributes[name] = value;
  }
  if (undecodable !== undefined) {
    return {
      ok: false,
      eventId: context.id ?? "",
      reason: RejectionReason.REJECTION_REASON_MALFORMED,
      message: `the ${undecodable} header is not valid percent-encoded UTF-8`,
    };
  }
  // ce-datacontenttype must not be sent in binary mode (3.1.1); read it only without
  // content-type. Without data there is nothing for it to describe.
  const contentType = headers["content-type"] ?? context.datacontenttype;
  if (data.length > 0 && contentType) attributes.datacontenttype = contentType;
  const parts: CloudEventParts = {
    specversion: context.specversion,
    id: context.id,
    source: context.source,
    type: context.type,
    time: context.time,
    attributes,
    data,
  };
  return incomingFromCloudEvent(parts, nowMs, headerName);
}
