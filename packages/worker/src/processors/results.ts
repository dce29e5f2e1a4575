// What a finished event leaves behind besides its ack: a result in the processor's result
// queue (when `results.when` names the outcome) and a reply to the collector whose caller
// waits on a Call. Both go to Redis in the same atomic step as the ack (complete-5.lua).
import type { ResultsTarget } from "@eventpipe/pipeline";
import { CallReply, type Event, Outcome, type StoredEvent } from "@eventpipe/proto";
import { encodeNewEvent } from "@eventpipe/queue";
import type { HandlerResult } from "../handler.js";

/** Attributes of a result event that say where it came from and how the processing ended. */
const RESULT_ATTRIBUTES = Object.freeze({
  outcome: "eventpipe.outcome",
  status: "eventpipe.status",
  route: "eventpipe.route",
});

export interface Answer {
  readonly result?: Buffer;
  readonly replyTo?: string;
  readonly reply?: Buffer;
}

const EMPTY = Buffer.alloc(0);

/**
 * The generated protobuf types hold bytes as Buffers; this wraps without copying. A handler
 * written in plain JavaScript may answer with a string: that is taken as UTF-8.
 */
function asBuffer(bytes: unknown): Buffer {
  if (Buffer.isBuffer(bytes)) return bytes;
  if (bytes instanceof Uint8Array) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (typeof bytes === "string") return Buffer.from(bytes);
  throw new TypeError(
    `a handler's answer needs a body of bytes (Uint8Array) or a string, got ${bytes === null ? "null" : typeof bytes}`,
  );
}

function wanted(target: ResultsTarget | undefined, outcome: HandlerResult["outcome"]): boolean {
  if (target === undefined) return false;
  return target.when.includes(outcome === "success" ? "onSuccess" : "onError");
}

/**
 * The result event: the source event's id and type (so readers correlate and deduplicate),
 * the answer's body as payload, its headers and outcome as attributes.
 */
function resultEvent(source: Event, answer: HandlerResult, route: string, nowMs: number): Event {
  const attributes: Record<string, string> = { ...answer.headers };
  attributes[RESULT_ATTRIBUTES.outcome] = answer.outcome;
  attributes[RESULT_ATTRIBUTES.route] = route;
  if (answer.status !== undefined) attributes[RESULT_ATTRIBUTES.status] = String(answer.status);
  return {
    eventId: source.eventId,
    type: source.type,
    timestamp: BigInt(nowMs),
    payload: asBuffer(answer.body),
    source: `eventpipe/${route}`,
    attributes,
    schemaVersion: 0,
    // The result keeps the source's partition key: a key's results stay in order too.
    partitionKey: source.partitionKey,
  };
}

const NO_ANSWER: HandlerResult = { outcome: "success", body: EMPTY };

/**
 * What a handler resolved with, as an answer. Handlers written before answers existed may
 * resolve with anything (an insert's result, say): without an `outcome` it is a success with
 * no body. With one, it must be a well-formed answer.
 */
function answerIn(returned: unknown): HandlerResult {
  if (typeof returned !== "object" || returned === null || !("outcome" in returned)) {
    return NO_ANSWER;
  }
  const { outcome } = returned as { outcome: unknown };
  if (outcome !== "success" && outcome !== "error") {
    throw new TypeError(
      `a handler's answer has outcome "success" or "error", got ${String(outcome)}`,
    );
  }
  return returned as HandlerResult;
}

/** The answer to keep or relay for an event whose handler resolved; undefined: a plain ack. */
export function answerOf(
  stored: StoredEvent,
  returned: unknown,
  target: ResultsTarget | undefined,
  route: string,
): Answer | undefined {
  if (target === undefined && stored.replyTo === "") return undefined;
  const answer = answerIn(returned);
  const keep = wanted(target, answer.outcome);
  if (!keep && stored.replyTo === "") return undefined;
  const event = stored.event!;
  return {
    result: keep
      ? encodeNewEvent(resultEvent(event, answer, route, Date.now()), Date.now())
      : undefined,
    replyTo: stored.replyTo || undefined,
    reply:
      stored.replyTo === ""
        ? undefined
        : Buffer.from(
            CallReply.encode({
              eventId: event.eventId,
              outcome:
                answer.outcome === "success" ? Outcome.OUTCOME_SUCCESS : Outcome.OUTCOME_ERROR,
              status: answer.status ?? 0,
              body: asBuffer(answer.body),
              headers: { ...answer.headers },
              message: "",
            }).finish(),
          ),
  };
}

/** The reply for a caller whose event was dead-lettered. */
export function deadLetterReply(eventId: string, message: string): Buffer {
  return Buffer.from(
    CallReply.encode({
      eventId,
      outcome: Outcome.OUTCOME_DEAD_LETTERED,
      status: 0,
      body: EMPTY,
      headers: {},
      message,
    }).finish(),
  );
}
