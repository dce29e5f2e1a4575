// Carrying out what failure-plan.ts decides for an event whose handler threw (or whose entry
// cannot be read): the retry or dead-letter step against Redis, retried until Redis takes it,
// and the dead-letter answer to a waiting Call.
import type { StoredEvent } from "@eventpipe/proto";
import type { QueueStore } from "@eventpipe/queue";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { Backoff } from "./backoff.js";
import type { WorkerConfig } from "./config.js";
import { errorText, planFailure, undecodableEntry } from "./failure-plan.js";
import type { WorkerObserver } from "./observer.js";
import { deadLetterReply } from "./processors/results.js";

export interface FailureCounters {
  failed: number;
  retried: number;
  deadLettered: number;
}

export interface FailureHandling {
  onHandlerFailure(
    sequence: number,
    raw: Buffer,
    stored: StoredEvent,
    error: unknown,
  ): Promise<void>;
  onUndecodable(sequence: number, raw: Buffer, error: unknown): Promise<void>;
}

export function createFailureHandling(deps: {
  readonly store: QueueStore;
  readonly redis: Redis;
  readonly config: WorkerConfig;
  readonly log: Logger;
  readonly counters: FailureCounters;
  readonly observer: WorkerObserver;
  /** Called once the event is no longer held (retried or dead-lettered). */
  /** The events under these sequences left the worker's in-flight hash (or never will). */
  readonly release: (sequences: readonly number[]) => void;
  /** Aborted when shutdown gave up waiting: its recovery puts the event back instead. */
  readonly givenUp: AbortSignal;
}): FailureHandling {
  const { store, redis, config, log, counters, observer, release, givenUp } = deps;
  const id = config.workerId;

  /**
   * Runs a Redis step for one failed event until it succeeds or shutdown gives up; resolves
   * whether the step took effect (false: shutdown's recovery puts the event back instead, or
   * another worker already took it back).
   */
  async function persist(step: () => Promise<boolean>, what: string): Promise<boolean> {
    const backoff = new Backoff(50, 2000);
    for (;;) {
      try {
        return await step();
      } catch (error) {
        log.warn({ err: errorText(error) }, `${what} failed; retrying`);
        if (givenUp.aborted) return false;
        await backoff.wait();
      }
    }
  }

  return {
    async onHandlerFailure(sequence, raw, stored, error) {
      // The grace period ran out and the handler was cut off (its processor aborts what is in
      // flight): not a failure of the event. Shutdown's recovery puts it back as it was,
      // without spending one of its attempts.
      if (givenUp.aborted) {
        release([sequence]);
        return;
      }
      counters.failed++;
      const event = stored.event!;
      const plan = planFailure(raw, error, config, { workerId: id, sequence, nowMs: Date.now() });
      if (plan.kind === "dead-letter") {
        const written = await persist(
          () => store.deadLetter(id, sequence, plan.entry),
          "dead-letter",
        );
        counters.deadLettered++;
        observer.deadLettered(plan.reason);
        // A waiting caller learns at once (best effort: it may have gone), but only of a dead
        // letter that was written; an event put back instead will still be processed.
        if (written && stored.replyTo !== "") {
          redis
            .publish(stored.replyTo, deadLetterReply(event.eventId, plan.message))
            .catch(() => undefined);
        }
        log.warn(
          {
            eventId: event.eventId,
            type: event.type,
            attempts: plan.attempts,
            err: errorText(error),
          },
          "event dead-lettered",
        );
      } else {
        await persist(() => store.retry(id, sequence, plan.delayMs, plan.envelope), "retry");
        counters.retried++;
        observer.retried();
        log.debug(
          { eventId: event.eventId, attempts: plan.attempts, delayMs: plan.delayMs },
          "retry scheduled",
        );
      }
      release([sequence]);
    },
    async onUndecodable(sequence, raw, error) {
      const entry = undecodableEntry(raw, error, id, Date.now());
      await persist(() => store.deadLetter(id, sequence, entry), "dead-letter");
      counters.deadLettered++;
      observer.deadLettered("undecodable");
      log.warn(
        { err: errorText(error), bytes: raw.length },
        "undecodable queue entry dead-lettered",
      );
      release([sequence]);
    },
  };
}
