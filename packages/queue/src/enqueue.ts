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
  /** Replicas that confirmed the write when `limits.waitReplicas` asked for them. */
  readonly replicas?: number;
}

export interface EnqueueLimits {
  /** 0 disables deduplication. */
  readonly dedupWindowMs: number;
  /** 0 disables the backlog limit (it applies to each queue). */
  readonly maxBacklog: number;
  /**
   * Replicas that must confirm the write (Redis WAIT), and how long to wait for them; the
   * result says how many did (see waitForReplicas).
   */
  readonly waitReplicas?: { readonly count: number; readonly timeoutMs: number };
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
      const reply = (await run.epEnqueue(...args)) as [number, number, number?];
      const wait = limits.waitReplicas;
      const replicas =
        wait === undefined || wait.count === 0
          ? undefined
          : await waitForReplicas(redis, queues[0]!.pending, wait.count, wait.timeoutMs);
      const [status, a, b] = reply;
      if (status === ScriptStatus.backlogFull) throw new BacklogFullError(a, limits.maxBacklog);
      return { stored: a, duplicates: b ?? 0, replicas };
    },
  };
}

/**
 * WAIT, once the script answered, on the connection to the node that owns `key`'s slot: WAIT
 * counts the replicas that have every earlier write of its connection, so on a cluster it must
 * reach the primary that ran the script. A keyless WAIT would go to any node, and a WAIT in one
 * pipeline with the script would run before the script's retry after NOSCRIPT, so it rides
 * with a read of the key instead: a pipeline goes to its keys' node. If that node no longer
 * owns the slot (MOVED after a failover or resharding) the read fails and the write counts as
 * unconfirmed: the caller refuses it and the producer's resend is deduplicated.
 */
async function waitForReplicas(
  redis: Redis,
  key: string,
  count: number,
  timeoutMs: number,
): Promise<number> {
  const replies = (await redis.pipeline().exists(key).wait(count, timeoutMs).exec()) ?? [];
  for (const [error] of replies) if (error) throw error;
  return Number(replies[1]?.[1] ?? 0);
}
