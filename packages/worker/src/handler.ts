// The handler API and the default handler.
import { resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import type { Event } from "@eventpipe/proto";

export interface EventContext {
  readonly eventId: string;
  /** 1 on the first try; grows by one after each failure of the handler. */
  readonly attempt: number;
  /** Times the event was taken back from a worker that died holding it. */
  readonly redeliveries: number;
  /** Collector clock when Redis stored the event. */
  readonly enqueuedAtMs: number;
  readonly workerId: string;
  /** Aborted when the worker's shutdown grace period runs out. */
  readonly signal: AbortSignal;
}

/**
 * What a handler may resolve with: the answer of the processing, stored in the processor's
 * result queue (when its `results.when` names the outcome) and relayed to a waiting `Call`.
 */
export interface HandlerResult {
  /** "error": processed, but the answer is an error (an HTTP processor's status >= 400). */
  readonly outcome: "success" | "error";
  /** The HTTP status of an HTTP processor's answer. */
  readonly status?: number;
  readonly body: Uint8Array;
  /** Headers of the answer that matter to its reader, lower-case names (content-type...). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Processes one event. Resolve when done: only then is the event acknowledged (together with
 * storing the result, if one is returned and configured). Throw to have it retried with
 * backoff, and dead-lettered after MAX_ATTEMPTS; throw RetryLater to set the delay, or
 * PermanentFailure to dead-letter it at once. Delivery is at-least-once, so make handlers
 * idempotent (ctx.eventId is stable across retries and redeliveries).
 */
// biome-ignore lint/suspicious/noConfusingVoidType: most handlers return nothing, and say so.
export type EventHandler = (event: Event, ctx: EventContext) => Promise<void | HandlerResult>;

/** Thrown by a handler: retry, but not before `retryAfterMs` (e.g. an HTTP Retry-After). */
export class RetryLater extends Error {
  override readonly name = "RetryLater";
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/**
 * Thrown by a handler: the event can never succeed (an HTTP 404, a processor's verdict), so it
 * goes to the dead-letter list now, with reason "rejected", this message and the HTTP status
 * if there was one.
 */
export class PermanentFailure extends Error {
  override readonly name = "PermanentFailure";
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The default: a simulated unit of I/O of `workMs` per event. */
export function createSimulatedWorkHandler(workMs: number): EventHandler {
  if (workMs <= 0) return async () => {};
  return async (_event, ctx) => {
    await delay(workMs, undefined, { signal: ctx.signal });
  };
}

/**
 * Loads a user handler: an ES module whose default export (or `handle` export) is an
 * EventHandler. This is how the stock worker process runs your code.
 */
export async function loadHandlerModule(path: string): Promise<EventHandler> {
  const module = (await import(pathToFileURL(resolve(path)).href)) as {
    default?: unknown;
    handle?: unknown;
  };
  const handler = module.default ?? module.handle;
  if (typeof handler !== "function") {
    throw new TypeError(
      `WORKER_HANDLER=${path} must export an async function (event, ctx) as default or as "handle"`,
    );
  }
  return handler as EventHandler;
}
