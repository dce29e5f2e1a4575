// The bodies POST /v1/events accepts, as fastify content-type parsers local to that route's
// plugin: a JSON array of events or {"events": [...]}, NDJSON (one event per line), or a
// protobuf EventBatch read with the gRPC door's decoder (no JSON on the way); and CloudEvents
// (cloudevents-bodies.ts): structured, batched, or binary mode, whose body is the data in any
// content type. A body that is not what its content type says is a 400 naming the problem (and
// the line, for NDJSON); an event of the wrong shape inside a good body is a per-event
// rejection (json-event.ts, cloudevents-event.ts).
import type { FastifyInstance } from "fastify";
import { decodeIncomingBatch, type IncomingEvent } from "../incoming.js";
import { isBinaryCloudEvent } from "./cloudevents-binary.js";
import {
  addBinaryCatchAllParser,
  BATCH_TYPE,
  type CloudEventsBody,
  fromBatch,
  fromBinary,
  fromStructured,
  STRUCTURED_TYPE,
} from "./cloudevents-bodies.js";
import { badRequest } from "./errors.js";
import { addTextBodyParser } from "./json-body.js";

export type EventsBody =
  | { readonly format: "json"; readonly events: readonly unknown[] }
  | { readonly format: "protobuf"; readonly events: readonly IncomingEvent[] }
  | CloudEventsBody;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function fromJson(text: string): EventsBody {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw badRequest(`the body is not valid JSON: ${describe(error)}`);
  }
  if (Array.isArray(value)) return { format: "json", events: value };
  if (typeof value === "object" && value !== null) {
    const events = (value as { events?: unknown }).events;
    if (Array.isArray(events)) return { format: "json", events };
  }
  throw badRequest('a JSON body must be an array of events or an object {"events": [...]}');
}

function fromNdjson(text: string): EventsBody {
  const events: unknown[] = [];
  let start = 0;
  let line = 0;
  while (start <= text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    line++;
    const content = text.slice(start, end).trim();
    start = end + 1;
    if (content === "") continue;
    try {
      events.push(JSON.parse(content));
    } catch (error) {
      const message = `line ${line} of the NDJSON body is not valid JSON: ${describe(error)}`;
      throw badRequest(message, { line });
    }
  }
  return { format: "json", events };
}

function fromProtobuf(bytes: Buffer): EventsBody {
  try {
    return { format: "protobuf", events: decodeIncomingBatch(bytes).events };
  } catch (error) {
    throw badRequest(
      `the body of ${bytes.length} bytes is not a protobuf EventBatch: ${describe(error)}`,
    );
  }
}

/**
 * Installs the parsers in `app` (the events plugin's own context) and no others. `limit`: the
 * door's body limit, for the catch-all parser of binary-mode CloudEvents, which reads the body
 * itself.
 */
export function addEventBodyParsers(app: FastifyInstance, limit: number): void {
  app.removeAllContentTypeParsers();
  const parsers = [
    ["application/json", "string", (body: string | Buffer) => fromJson(body as string)],
    ["application/x-ndjson", "string", (body: string | Buffer) => fromNdjson(body as string)],
    ["application/x-protobuf", "buffer", (body: string | Buffer) => fromProtobuf(body as Buffer)],
  ] as const;
  for (const [contentType, parseAs, parse] of parsers) {
    app.addContentTypeParser(contentType, { parseAs }, (request, body, done) => {
      let parsed: EventsBody;
      try {
        // ce- headers make the body a binary-mode CloudEvent's data, whatever its type.
        parsed = isBinaryCloudEvent(request.headers)
          ? fromBinary(body, request.headers["content-type"])
          : parse(body);
      } catch (error) {
        done(error as Error, undefined);
        return;
      }
      done(null, parsed);
    });
  }
  // Structured and batched modes: the content type decides; ce- headers are not read (3.2.3).
  const cloudEvents = [
    [STRUCTURED_TYPE, fromStructured],
    [BATCH_TYPE, fromBatch],
  ] as const;
  for (const [contentType, parse] of cloudEvents) addTextBodyParser(app, contentType, parse);
  addBinaryCatchAllParser(app, limit);
}
