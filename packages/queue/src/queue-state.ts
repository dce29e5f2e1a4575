// A queue's state in one script call (queue-state-4.lua), cheap enough for every metrics
// scrape: depth, retries waiting, dead letters, live workers, what they hold, and the age of
// the oldest pending event.
import type { Redis } from "ioredis";
import { decodeEnvelope } from "./codec.js";
import type { QueueKeys } from "./keys.js";
import { scripts } from "./script-commands.js";

export interface QueueState {
  readonly queue: string;
  readonly pending: number;
  readonly inFlight: number;
  readonly delayed: number;
  readonly deadLetters: number;
  readonly liveWorkers: number;
  /** Since the oldest pending event was first stored (Redis clock); 0 when none is pending. */
  readonly oldestPendingAgeMs: number;
}

export async function readQueueState(redis: Redis, keys: QueueKeys): Promise<QueueState> {
  const [nowMs, pending, delayed, deadLetters, liveWorkers, inFlight, oldest] = (await scripts(
    redis,
  ).epQueueStateBuffer(
    keys.pending,
    keys.workers,
    keys.delayed,
    keys.deadLetter,
    keys.inflight(""),
  )) as [number, number, number, number, number, number, Buffer | null];
  let oldestPendingAgeMs = 0;
  if (oldest !== null) {
    try {
      const enqueuedAtMs = Number(decodeEnvelope(oldest).stored.enqueuedAtMs);
      oldestPendingAgeMs = Math.max(0, nowMs - enqueuedAtMs);
    } catch {
      // An entry that is not an envelope is dead-lettered by the first worker that claims it.
    }
  }
  return {
    queue: keys.name,
    pending,
    inFlight,
    delayed,
    deadLetters,
    liveWorkers,
    oldestPendingAgeMs,
  };
}
