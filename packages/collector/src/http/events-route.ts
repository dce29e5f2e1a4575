// POST /v1/events: a batch of events as JSON, NDJSON or a protobuf EventBatch, or CloudEvents in
// any of the three content modes, stored through the shared core. 200 with the summary once
// every accepted event is stored; the error handler answers the rest (400 body, 413, 415, 429
// and 503 with Retry-After).
import type { FastifyInstance } from "fastify";
import { cloudEventFromBinary, isBinaryCloudEvent } from "./cloudevents-binary.js";
import { prepareCloudEvents } from "./cloudevents-event.js";
import { type DoorContext, requestSignal } from "./context.js";
import { badRequest } from "./errors.js";
import { addEventBodyParsers, type EventsBody } from "./event-bodies.js";
import {
  ingestEvents,
  type PreparedEvents,
  prepareJsonEvents,
  prepareOutcomes,
  prepareProtobufEvents,
} from "./ingest-request.js";

const NO_DATA = Buffer.alloc(0);

export function eventsRoute(context: DoorContext) {
  return async (app: FastifyInstance) => {
    // Parsers added here stay in this plugin: only this route takes NDJSON, protobuf and
    // CloudEvents.
    addEventBodyParsers(app, context.config.maxMessageBytes);
    app.post("/v1/events", { config: { access: "ingest" } }, async (request, reply) => {
      let body = request.body as EventsBody | undefined;
      if (body === undefined) {
        // A binary-mode CloudEvent without data has no body at all.
        if (!isBinaryCloudEvent(request.headers)) {
          throw badRequest(
            "send events in the body as application/json, application/x-ndjson, application/x-protobuf or CloudEvents",
          );
        }
        body = { format: "cloudevents-binary", data: NO_DATA };
      }
      let prepared: PreparedEvents;
      if (body.format === "json") prepared = prepareJsonEvents(body.events, Date.now());
      else if (body.format === "protobuf") prepared = prepareProtobufEvents(body.events);
      else if (body.format === "cloudevents") {
        prepared = prepareCloudEvents(body.events, Date.now());
      } else {
        prepared = prepareOutcomes([cloudEventFromBinary(request.headers, body.data, Date.now())]);
      }
      return ingestEvents(
        context,
        prepared,
        requestSignal(reply, context.shutdown),
        "POST /v1/events",
      );
    });
  };
}
