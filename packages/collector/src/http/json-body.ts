// JSON bodies for the routes that are not POST /v1/events: schemas and the sample flow's
// payloads. Fastify's built-in parsers are replaced so that a bad body is a 400 in this door's
// words and no other content type (text/plain, forms) is taken: those are a 415.
import type { FastifyInstance } from "fastify";
import { badRequest } from "./errors.js";

/** JSON Schema documents may say so in their content type. */
const JSON_TYPES = ["application/json", "application/schema+json"] as const;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`the body is not valid JSON: ${(error as Error).message}`);
  }
}

/** Reads bodies of `contentType` as text and hands them to `parse`; what it throws is the answer. */
export function addTextBodyParser(
  app: FastifyInstance,
  contentType: string,
  parse: (text: string) => unknown,
): void {
  app.addContentTypeParser(contentType, { parseAs: "string" }, (_request, body, done) => {
    let value: unknown;
    try {
      value = parse(body as string);
    } catch (error) {
      done(error as Error, undefined);
      return;
    }
    done(null, value);
  });
}

/** `request.body` is the parsed JSON value. */
export function addJsonBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  for (const contentType of JSON_TYPES) addTextBodyParser(app, contentType, parseJson);
}

/**
 * `request.body` is the body's bytes exactly as sent, checked to be JSON: a payload is stored
 * as the producer wrote it, not as JSON.stringify would write it again.
 */
export function addRawJsonBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_request, body, done) => {
    try {
      parseJson((body as Buffer).toString("utf8"));
    } catch (error) {
      done(error as Error, undefined);
      return;
    }
    done(null, body);
  });
}
