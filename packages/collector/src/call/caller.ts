// Request and reply through the pipeline: store one event marked with this collector's reply
// channel, then wait for the processor's answer, which the worker publishes there. The event
// is stored like any other (validation, schemas, routing, dedup), so past the deadline it is
// still processed, once; only the answer goes unheard.
import type { CallReply, Rejection } from "@eventpipe/proto";
import type { IngestCore } from "../core.js";
import { RedisUnavailableError } from "../errors.js";
import type { IncomingEvent } from "../incoming.js";
import type { ReplyListener } from "./replies.js";

/** What each door says for each outcome that is not an answer, in the same words. */
export const CALL_MESSAGES = Object.freeze({
  duplicate: (eventId: string) =>
    `event ${eventId.slice(0, 128)} was stored before; it is processed once, and this call gets no second answer`,
  busy: (limit: number) =>
    `${limit} calls are waiting for answers already (MAX_WAITING_CALLS); retry later`,
  timeout: "no answer within the deadline; the event is stored and will be processed once",
});

/** Not a refusal: a resend would be a duplicate, so the caller must not simply retry. */
export const SHUT_DOWN_WHILE_WAITING =
  "the collector shut down while the call waited; the event is stored and will be processed once, but its answer is lost";

export type CallOutcome =
  | { readonly kind: "reply"; readonly reply: CallReply }
  /** The event is invalid; nothing was stored. */
  | { readonly kind: "rejected"; readonly rejection: Rejection }
  /** The event id was stored before (or a call with it is waiting): it is not processed again. */
  | { readonly kind: "duplicate" }
  /** No answer within the deadline (or the caller went away); the event will be processed. */
  | { readonly kind: "timeout" }
  /** Too many calls wait already. */
  | { readonly kind: "busy"; readonly limit: number };

export interface Caller {
  call(event: IncomingEvent, timeoutMs: number, signal?: AbortSignal): Promise<CallOutcome>;
}

export function createCaller(
  core: Pick<IngestCore, "writer">,
  replies: ReplyListener,
  maxWaitingCalls: number,
): Caller {
  return {
    async call(event, timeoutMs, signal) {
      // Without the reply channel the answer could not arrive: refuse before storing.
      if (!replies.listening) {
        throw new RedisUnavailableError(
          0,
          new Error("the channel for call answers is not subscribed"),
        );
      }
      if (replies.isWaiting(event.eventId)) return { kind: "duplicate" };
      if (replies.waiting >= maxWaitingCalls) return { kind: "busy", limit: maxWaitingCalls };
      const waiting = replies.expect(event.eventId, timeoutMs, signal);
      let stored: number;
      try {
        const result = await core.writer.write([event], 0, replies.channel);
        const rejection = result.rejections[0];
        if (rejection !== undefined) {
          waiting.cancel();
          return { kind: "rejected", rejection };
        }
        stored = result.stored;
      } catch (error) {
        waiting.cancel();
        throw error;
      }
      if (stored === 0) {
        waiting.cancel();
        return { kind: "duplicate" };
      }
      const reply = await waiting.reply;
      return reply === undefined ? { kind: "timeout" } : { kind: "reply", reply };
    },
  };
}
