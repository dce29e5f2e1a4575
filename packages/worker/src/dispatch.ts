// Running one claimed event: decode its envelope, start the handler at once (so events start
// in claim order), then hand the outcome on: an ack (with the answer to store or relay, see
// processors/results.ts), or the failure handling.
import type { ResultsTarget } from "@eventpipe/pipeline";
import type { Event, StoredEvent } from "@eventpipe/proto";
import { decodeEnvelope } from "@eventpipe/queue";
import type { AckBatcher } from "./ack-batcher.js";
import type { FailureHandling } from "./failure-handling.js";
import type { EventContext, EventHandler, HandlerResult } from "./handler.js";
import type { WorkerObserver } from "./observer.js";
import { answerOf } from "./processors/results.js";

export type Dispatch = (sequence: number, raw: Buffer) => void;

export function createDispatch(deps: {
  readonly handler: EventHandler;
  readonly workerId: string;
  /** Aborted when the worker's shutdown grace period runs out (ctx.signal). */
  readonly signal: AbortSignal;
  readonly acks: AckBatcher;
  readonly failures: FailureHandling;
  readonly route: string;
  readonly results: ResultsTarget | undefined;
  readonly observer: WorkerObserver;
}): Dispatch {
  const { handler, workerId, signal, acks, failures, route, results, observer } = deps;

  function onHandlerDone(sequence: number, stored: StoredEvent, returned: unknown) {
    const answer = answerOf(stored, returned, results, route);
    if (answer === undefined) acks.add(sequence, stored.event!.type);
    else acks.addCompletion({ sequence, type: stored.event!.type, ...answer });
  }

  return (sequence, raw) => {
    let event: Event;
    let stored: StoredEvent;
    let ctx: EventContext;
    try {
      const decoded = decodeEnvelope(raw);
      stored = decoded.stored;
      event = stored.event!;
      ctx = {
        eventId: event.eventId,
        attempt: stored.attempts + 1,
        redeliveries: decoded.deliveries,
        enqueuedAtMs: Number(stored.enqueuedAtMs),
        workerId,
        signal,
      };
    } catch (error) {
      void failures.onUndecodable(sequence, raw, error);
      return;
    }
    // The handler starts now, synchronously, so events start in claim (queue) order.
    const started = performance.now();
    const took = () => (performance.now() - started) / 1000;
    let running: Promise<HandlerResult | undefined>;
    try {
      running = handler(event, ctx) as Promise<HandlerResult | undefined>;
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(
      (returned) => {
        try {
          onHandlerDone(sequence, stored, returned);
          observer.handled(event.type, took(), false);
        } catch (error) {
          // An answer that cannot be stored (a malformed one) fails the event like a throw.
          observer.handled(event.type, took(), true);
          void failures.onHandlerFailure(sequence, raw, stored, error);
        }
      },
      (error: unknown) => {
        observer.handled(event.type, took(), true);
        void failures.onHandlerFailure(sequence, raw, stored, error);
      },
    );
  };
}
