// The original sample's routes, kept as the user contract and made thin over the same core:
// an event type is `${client}.${event}`.
//   POST /:client/:event/register_event  body: the JSON Schema       (scope schemas)
//   POST /:client/:event/send_event      body: the payload JSON      (scope ingest)
//   GET  /:client/:event/schema          the latest schema           (any valid token)
//   GET  /:client/list_events            the client's event names    (any valid token)
import type { FastifyInstance } from "fastify";
import { incomingFromEvent } from "../incoming.js";
import { type DoorContext, requestSignal } from "./context.js";
import { badRequest } from "./errors.js";
import { ingestEvents, prepareProtobufEvents } from "./ingest-request.js";
import { addRawJsonBodyParser } from "./json-body.js";
import { latestSchema, registerSchema } from "./schema-routes.js";
import { uuidV7 } from "./uuid-v7.js";

type EventParams = { client: string; event: string };

const typeOf = ({ client, event }: EventParams) => `${client}.${event}`;

export function sampleRoutes(context: DoorContext) {
  const { schemas } = context;
  return async (app: FastifyInstance) => {
    app.post<{ Params: EventParams }>(
      "/:client/:event/register_event",
      { config: { access: "schemas" } },
      async (request, reply) =>
        registerSchema(context, typeOf(request.params), request.body, reply),
    );

    app.get<{ Params: EventParams }>(
      "/:client/:event/schema",
      { config: { access: "read" } },
      async (request) => latestSchema(schemas, typeOf(request.params)),
    );

    app.get<{ Params: { client: string } }>(
      "/:client/list_events",
      { config: { access: "read" } },
      async (request) => {
        const { client } = request.params;
        const prefix = `${client}.`;
        const types = await schemas.listTypes(prefix);
        return { client, events: types.map(({ type }) => type.slice(prefix.length)) };
      },
    );

    // Its own plugin: send_event keeps the body's bytes as sent, the payload the worker gets.
    await app.register(async (raw) => {
      addRawJsonBodyParser(raw);
      raw.post<{ Params: EventParams }>(
        "/:client/:event/send_event",
        { config: { access: "ingest" } },
        async (request, reply) => {
          const payload = request.body as Buffer | undefined;
          if (payload === undefined)
            throw badRequest("send the payload as an application/json body");
          const nowMs = Date.now();
          const event = incomingFromEvent({
            eventId: uuidV7(nowMs),
            type: typeOf(request.params),
            timestamp: BigInt(nowMs),
            payload,
            source: request.params.client,
            attributes: {},
            schemaVersion: 0,
            partitionKey: "",
          });
          const summary = await ingestEvents(
            context,
            {
              ...prepareProtobufEvents([event]),
              assignedIds: [{ index: 0, eventId: event.eventId }],
            },
            requestSignal(reply, context.shutdown),
            "POST /:client/:event/send_event",
          );
          // The one event was refused (schema_violation, a limit): nothing was stored.
          return reply.code(summary.rejected > 0 ? 422 : 200).send(summary);
        },
      );
    });
  };
}
