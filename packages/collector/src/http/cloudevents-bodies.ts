// The CloudEvents bodies of POST /v1/events (event-bodies.ts installs them): structured mode
// (application/cloudevents+json, one event), batched mode (application/cloudevents-batch+json,
// a JSON array), and binary mode, whose body is the event's data in any content type. As for
// the other bodies, one that is not what its content type says is a 400; an event of the wrong
// shape inside a good body is a per-event rejection (cloudevents-event.ts).
import type { IncomingMessage } from "node:http";
import { errorCodes, type FastifyInstance } from "fastify";
import { isBinaryCloudEvent } from "./cloudevents-binary.js";
import { isJsonMediaType } from "./cloudevents-event.js";
import { badRequest } from "./errors.js";

export const STRUCTURED_TYPE = "application/cloudevents+json";
export const BATCH_TYPE = "application/cloudevents-batch+json";

export type CloudEventsBody =
  /** Structured (one event) or batched. */
  | { readonly format: "cloudevents"; readonly events: readonly unknown[] }
  /** Binary mode: the data; the attributes are the request's ce- headers. */
  | { readonly format: "cloudevents-binary"; readonly data: Buffer };

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`the ${what} is not valid JSON: ${describe(error)}`);
  }
}

export function fromStructured(text: string): CloudEventsBody {
  const value = parseJson(text, "body");
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw badRequest(
      `an ${STRUCTURED_TYPE} body is one event, a JSON object; send several as ${BATCH_TYPE} (a JSON array)`,
    );
  }
  return { format: "cloudevents", events: [value] };
}

export function fromBatch(text: string): CloudEventsBody {
  const value = parseJson(text, "body");
  if (!Array.isArray(value)) {
    throw badRequest(`an ${BATCH_TYPE} body must be a JSON array of events`);
  }
  return { format: "cloudevents", events: value };
}

/**
 * A binary-mode body: the bytes as sent. Data that says it is JSON must be JSON (a 400
 * otherwise, as for any JSON body): schemas and receivers rely on what the type says.
 */
export function fromBinary(
  body: string | Buffer,
  contentType: string | undefined,
): CloudEventsBody {
  const data = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  if (data.length > 0 && contentType !== undefined && isJsonMediaType(contentType)) {
    parseJson(typeof body === "string" ? body : body.toString("utf8"), "CloudEvent's data");
  }
  return { format: "cloudevents-binary", data };
}

/** The body's bytes, refused past `limit` (413) as fastify's own parsers refuse it. */
function readBody(stream: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (Number(stream.headers["content-length"]) > limit) {
      reject(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      return;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) {
        stream.off("data", onData);
        reject(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
        return;
      }
      chunks.push(chunk);
    };
    stream.on("data", onData);
    stream.once("end", () => resolve(Buffer.concat(chunks, length)));
    stream.once("error", reject);
  });
}

/**
 * Any other content type (or none): a binary-mode CloudEvent's data, or a 415 as before, sent
 * without reading the body. `limit`: the door's body limit (MAX_MESSAGE_BYTES).
 */
export function addBinaryCatchAllParser(app: FastifyInstance, limit: number): void {
  app.addContentTypeParser("*", (request, payload, done) => {
    if (!isBinaryCloudEvent(request.headers)) {
      done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(), undefined);
      return;
    }
    readBody(payload, limit).then(
      (body) => {
        let parsed: CloudEventsBody;
        try {
          parsed = fromBinary(body, request.headers["content-type"]);
        } catch (error) {
          done(error as Error, undefined);
          return;
        }
        done(null, parsed);
      },
      (error: Error) => done(error, undefined),
    );
  });
}
