// POST /v1/call: one event as JSON in, the processor's answer out, relayed as it came: its
// status (an HTTP processor's) or 200, its body and content type, with the event id and the
// outcome in `eventpipe-event-id` and `eventpipe-outcome`. The wait lasts up to the
// `eventpipe-timeout-ms` header or CALL_TIMEOUT_MS, whichever is shorter; past it, 504, and
// the event is still processed once.
import { Outcome } from "@eventpipe/proto";
import type { FastifyInstance } from "fastify";
import { CALL_MESSAGES, SHUT_DOWN_WHILE_WAITING } from "../call/caller.js";
import { reasonName } from "../rejection-names.js";
import { type DoorContext, requestSignal } from "./context.js";
import { badRequest, HttpError } from "./errors.js";
import { eventFromJson } from "./json-event.js";

const TIMEOUT_HEADER = "eventpipe-timeout-ms";

function timeoutOf(header: unknown, callTimeoutMs: number): number {
  if (header === undefined) return callTimeoutMs;
  const ms = Number(header);
  if (!Number.isInteger(ms) || ms < 1) {
    throw badRequest(`${TIMEOUT_HEADER} must be a positive whole number of milliseconds`);
  }
  return Math.min(ms, callTimeoutMs);
}

export function callRoute(context: DoorContext) {
  return async (app: FastifyInstance) => {
    app.post("/v1/call", { config: { access: "ingest" } }, async (request, reply) => {
      const timeoutMs = timeoutOf(request.headers[TIMEOUT_HEADER], context.config.callTimeoutMs);
      const parsed = eventFromJson(request.body, Date.now());
      if (!parsed.ok) {
        throw badRequest(parsed.message, { reason: reasonName(parsed.reason) });
      }
      const event = parsed.event;
      const signal = requestSignal(reply, context.shutdown).signal();
      const outcome = await context.core.caller.call(event, timeoutMs, signal);
      reply.header("eventpipe-event-id", event.eventId);
      switch (outcome.kind) {
        case "rejected":
          throw badRequest(outcome.rejection.message, {
            reason: reasonName(outcome.rejection.reason),
          });
        case "duplicate":
          throw new HttpError(409, "EP_CALL_DUPLICATE", CALL_MESSAGES.duplicate(event.eventId));
        case "busy":
          throw new HttpError(503, "EP_CALL_BUSY", CALL_MESSAGES.busy(outcome.limit));
        case "timeout":
          if (context.shutdown.aborted) {
            throw new HttpError(503, "EP_CALL_SHUT_DOWN", SHUT_DOWN_WHILE_WAITING);
          }
          throw new HttpError(504, "EP_CALL_TIMEOUT", CALL_MESSAGES.timeout);
      }
      const answer = outcome.reply;
      if (answer.outcome === Outcome.OUTCOME_DEAD_LETTERED) {
        throw new HttpError(502, "EP_CALL_DEAD_LETTERED", answer.message);
      }
      const failed = answer.outcome === Outcome.OUTCOME_ERROR;
      reply.header("eventpipe-outcome", failed ? "error" : "success");
      reply.header("content-type", answer.headers["content-type"] ?? "application/octet-stream");
      // A status no HTTP answer with a body can carry (a module's 999, a 204) becomes the
      // outcome's plain status.
      const relayable =
        answer.status >= 200 &&
        answer.status <= 599 &&
        answer.status !== 204 &&
        answer.status !== 205 &&
        answer.status !== 304;
      return reply.code(relayable ? answer.status : failed ? 502 : 200).send(answer.body);
    });
  };
}
