// Storing events: one script call stores a chunk in one queue, or a copy in each queue of a
// fan-out route, atomically (enqueue-6n.lua).
import type { Redis } from "ioredis";
import { BacklogFullError, ScriptStatus } from "./errors.js";
import type { QueueKeys } from "./keys.js";
import { type ScriptArg, scripts } from "./script-commands.js";

export interface EnqueueEntry {
  readonly eventId: string;
  readonly envelope: Buffer;
}

export interface EnqueueResult {
  /** Events stored (in every queue, or, for ids some queue had seen, in the others). */
  readonly stored: number;
  /** Events no queue stored: their ids were seen within the dedup window. */
  readonly duplicates: number;
}

export interface EnqueueLimits {
  /** 0 disables deduplication. */
  readonly dedupWindowMs: number;
  /** 0 disables the backlog limit (it applies to each queue). */
  readonly maxBacklog: number;
}

/** Stores events in one or several queues, all copies or none. */
export interface Enqueuer {
  /** The queues each call stores into, in order. */
  readonly queues: readonly string[];
  /** Throws BacklogFullError (storing nothing) when a queue is past the limit. */
  enqueue(entries: readonly EnqueueEntry[], limits: EnqueueLimits): Promise<EnqueueResult>;
}

const KEYS_PER_QUEUE = 6;

export function createEnqueuer(redis: Redis, queues: readonly QueueKeys[]): Enqueuer {
  if (queues.length === 0) throw new TypeError("an enqueuer needs at least one queue");
  const run = scripts(redis);
  const keyCount = queues.length * KEYS_PER_QUEUE;
  const keys = queues.flatMap((queue) => [
    queue.pending,
    queue.seenEven,
    queue.seenOdd,
    queue.seenPeriods,
    queue.listeners,
    queue.stats,
  ]);
  return {
    queues: queues.map((queue) => queue.name),
    async enqueue(entries, limits) {
      const n = entries.length;
      const head = 1 + keyCount + 2;
      const args: ScriptArg[] = new Array(head + n * 2);
      args[0] = keyCount;
      for (let k = 0; k < keyCount; k++) args[1 + k] = keys[k]!;
      args[1 + keyCount] = limits.dedupWindowMs;
      args[2 + keyCount] = limits.maxBacklog;
      for (let i = 0; i < n; i++) {
        const entry = entries[i]!;
        args[head + i] = entry.eventId;
        args[head + n + i] = entry.envelope;
      }
      const [status, a, b] = (await run.epEnqueue(...args)) as [number, number, number?];
      if (status === ScriptStatus.backlogFull) throw new BacklogFullError(a, limits.maxBacklog);
      return { stored: a, duplicates: b ?? 0 };
    },
  };
}
