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
 * Processes one event. Resolve when done: only then is the event acknowledged. Throw to have
 * it retried with backoff, and dead-lettered after MAX_ATTEMPTS. Delivery is at-least-once,
 * so make handlers idempotent (ctx.eventId is stable across retries and redeliveries).
 */
export type EventHandler = (event: Event, ctx: EventContext) => Promise<void>;

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
