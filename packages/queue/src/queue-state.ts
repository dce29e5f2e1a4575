// A queue's state in one script call (queue-state-4.lua), cheap enough for every metrics
// scrape: depth, retries waiting, dead letters, live workers, what they hold, and the age of
// the oldest pending event. readQueueStateOf adds up a partitioned queue: one call per
// partition, all at once.
import type { Redis } from "ioredis";
import { decodeEnvelope } from "./codec.js";
import type { QueueKeys } from "./keys.js";
import { recordedPartitions } from "./partitions.js";
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

/**
 * The whole queue `name` over its recorded partitions: counts summed, the oldest pending age
 * the largest. liveWorkers is the most any partition has: a worker process registers in every
 * partition it consumes, so summing would count it once per partition; processes that consume
 * different partitions (WORKER_PARTITIONS) make it a lower bound.
 */
export async function readQueueStateOf(redis: Redis, name: string): Promise<QueueState> {
  const layout = await recordedPartitions(redis, name);
  const parts = await Promise.all(layout.map((keys) => readQueueState(redis, keys)));
  if (parts.length === 1) return parts[0]!;
  const sum = (figure: (state: QueueState) => number) =>
    parts.reduce((total, state) => total + figure(state), 0);
  return {
    queue: name,
    pending: sum((s) => s.pending),
    inFlight: sum((s) => s.inFlight),
    delayed: sum((s) => s.delayed),
    deadLetters: sum((s) => s.deadLetters),
    liveWorkers: Math.max(...parts.map((s) => s.liveWorkers)),
    oldestPendingAgeMs: Math.max(...parts.map((s) => s.oldestPendingAgeMs)),
  };
}
