// POST /v1/events: a batch of events as JSON, NDJSON or a protobuf EventBatch, stored through
// the shared core. 200 with the summary once every accepted event is stored; the error handler
// answers the rest (400 body, 413, 415, 429 and 503 with Retry-After).
import type { FastifyInstance } from "fastify";
import { type DoorContext, requestSignal } from "./context.js";
import { badRequest } from "./errors.js";
import { addEventBodyParsers, type EventsBody } from "./event-bodies.js";
import { ingestEvents, prepareJsonEvents, prepareProtobufEvents } from "./ingest-request.js";

export function eventsRoute(context: DoorContext) {
  return async (app: FastifyInstance) => {
    // Parsers added here stay in this plugin: only this route takes NDJSON and protobuf.
    addEventBodyParsers(app);
    app.post("/v1/events", { config: { access: "ingest" } }, async (request, reply) => {
      const body = request.body as EventsBody | undefined;
      if (body === undefined) {
        throw badRequest(
          "send events in the body as application/json, application/x-ndjson or application/x-protobuf",
        );
      }
      const prepared =
        body.format === "protobuf"
          ? prepareProtobufEvents(body.events)
          : prepareJsonEvents(body.events, Date.now());
      return ingestEvents(context, prepared, requestSignal(reply, context.shutdown));
    });
  };
}
