// Storing events: one script call stores a chunk in one queue, or a copy in each queue of a
// fan-out route, atomically (enqueue-6n.lua).
import type { Cluster, Redis } from "ioredis";
import { BacklogFullError, ScriptStatus } from "./errors.js";
import type { QueueKeys } from "./keys.js";
import { isClusterClient } from "./redis-connection.js";
import { type ScriptArg, scripts, scriptText } from "./script-commands.js";

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
const ENQUEUE_LUA = scriptText("epEnqueue");

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
      const wait = limits.waitReplicas;
      let reply: EnqueueReply;
      let replicas: number | undefined;
      if (wait === undefined || wait.count === 0) {
        reply = (await run.epEnqueue(...args)) as EnqueueReply;
      } else {
        [reply, replicas] = await enqueueAndWait(redis, args, wait.count, wait.timeoutMs);
      }
      const [status, a, b] = reply;
      if (status === ScriptStatus.backlogFull) throw new BacklogFullError(a, limits.maxBacklog);
      return { stored: a, duplicates: b ?? 0, replicas };
    },
  };
}

type EnqueueReply = [number, number, number?];

/**
 * The enqueue script and WAIT in one pipeline: one connection, so WAIT counts the replicas
 * that have this very write, and on a cluster the pipeline goes to the node owning the keys'
 * slot, WAIT with it. The script goes as EVAL, its whole text: by hash (EVALSHA), a node
 * whose script cache was flushed would answer NOSCRIPT and ioredis would load and run it again
 * outside the pipeline, after the WAIT. If the slot moved (MOVED), the write did not run and
 * the call fails like any passing refusal; the producer resends.
 */
async function enqueueAndWait(
  redis: Redis,
  args: readonly ScriptArg[],
  count: number,
  timeoutMs: number,
): Promise<[EnqueueReply, number]> {
  const [numberOfKeys, ...rest] = args;
  const replies =
    (await redis
      .pipeline()
      .eval(ENQUEUE_LUA, numberOfKeys as number, ...rest)
      .wait(count, timeoutMs)
      .exec()) ?? [];
  const [stored, waited] = replies;
  if (stored?.[0]) {
    // ioredis does not act on a MOVED inside this pipeline (WAIT ran, so it is not retried):
    // read the topology now, so that the producer's resend goes to the slot's new primary.
    if (/^(MOVED|ASK) /.test(stored[0].message) && isClusterClient(redis)) {
      (redis as unknown as Cluster).refreshSlotsCache();
    }
    throw stored[0];
  }
  if (waited?.[0]) throw waited[0];
  return [stored?.[1] as EnqueueReply, Number(waited?.[1] ?? 0)];
}
