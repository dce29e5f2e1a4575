// The atomic operations of one queue, over its Lua scripts (script-commands.ts).
import type { Redis } from "ioredis";
import {
  createEnqueuer,
  type EnqueueEntry,
  type EnqueueLimits,
  type EnqueueResult,
} from "./enqueue.js";
import { ScriptStatus } from "./errors.js";
import type { QueueKeys } from "./keys.js";
import { type ScriptArg, scripts } from "./script-commands.js";

export interface ClaimRequest {
  readonly workerId: string;
  readonly max: number;
  readonly firstSequence: number;
  /** Registers the worker with this lease if it has none (see claim-4.lua). */
  readonly leaseMs: number;
}

export interface Heartbeat {
  /** Redis time in ms. */
  readonly nowMs: number;
  /** The worker was not registered: its lease had expired and its events were taken back. */
  readonly reRegistered: boolean;
}

export interface RecoverOptions {
  readonly maxDeliveries: number;
  /** Recover even though the lease is valid: a worker handing its own events back. */
  readonly force: boolean;
  /** Count the recovery as a failed delivery (crash recovery does, a clean shutdown does not). */
  readonly countDelivery: boolean;
}

export interface RecoverResult {
  readonly requeued: number;
  readonly deadLettered: number;
}

/** An event acknowledged together with the answer its processing produced. */
export interface Completion {
  readonly sequence: number;
  readonly type: string;
  /** The envelope to store in the result queue. */
  readonly result?: Buffer;
  /** The channel of the collector whose caller waits, and the message to publish there. */
  readonly replyTo?: string;
  readonly reply?: Buffer;
}

/** The queue's atomic operations, bound to one connection and one queue. */
export interface QueueStore {
  readonly keys: QueueKeys;
  /** Stores the entries atomically; throws BacklogFullError (storing nothing) past the limit. */
  enqueue(entries: readonly EnqueueEntry[], limits: EnqueueLimits): Promise<EnqueueResult>;
  /**
   * Claims up to `max` events under the sequences firstSequence, firstSequence + 1, ...
   * Sequences must never be reused by the worker: then a call repeated with the same
   * arguments (a resend after a lost reply) returns the first run's events again.
   */
  claim(claim: ClaimRequest): Promise<Buffer[]>;
  /** Acknowledges delivery sequences, grouped by event type (for the per-type counts). */
  ack(workerId: string, sequencesByType: ReadonlyMap<string, readonly number[]>): Promise<number>;
  /**
   * Acknowledges events and, in the same atomic step, stores their results in the queue whose
   * is `results` and publishes their replies (see complete-7.lua).
   */
  complete(
    workerId: string,
    completions: readonly Completion[],
    results: QueueKeys | undefined,
  ): Promise<number>;
  heartbeat(workerId: string, leaseMs: number): Promise<Heartbeat>;
  recover(workerId: string, options: RecoverOptions): Promise<RecoverResult | undefined>;
  /** The worker's in-flight entries under these sequences go back to the queue's head. */
  returnEntries(workerId: string, sequences: readonly number[]): Promise<number>;
  /** The delivery sequences in the worker's in-flight hash. */
  heldSequences(workerId: string): Promise<number[]>;
  retry(workerId: string, sequence: number, delayMs: number, envelope: Buffer): Promise<boolean>;
  deadLetter(workerId: string, sequence: number, entry: Buffer): Promise<boolean>;
  promoteDue(limit: number): Promise<number>;
  /** `pairs` alternates a dead-letter entry and the envelope to enqueue instead. */
  replay(pairs: readonly Buffer[]): Promise<number>;
}

export function createQueueStore(redis: Redis, keys: QueueKeys): QueueStore {
  const run = scripts(redis);
  return {
    keys,
    enqueue: createEnqueuer(redis, [keys]).enqueue,
    async claim({ workerId, max, firstSequence, leaseMs }) {
      return (await run.epClaimBuffer(
        keys.pending,
        keys.inflight(workerId),
        keys.workers,
        keys.claimMarks,
        max,
        firstSequence,
        workerId,
        leaseMs,
      )) as Buffer[];
    },
    async ack(workerId, sequencesByType) {
      const args: ScriptArg[] = [
        keys.inflight(workerId),
        keys.stats,
        keys.processedByType,
        keys.processedByWorker,
        workerId,
      ];
      // One argument per type: far cheaper to send and parse than one per event.
      for (const [type, sequences] of sequencesByType) args.push(type, sequences.join(","));
      return (await run.epAck(...args)) as number;
    },
    async complete(workerId, completions, results) {
      if (completions.length === 0) return 0;
      const args: ScriptArg[] = [
        keys.inflight(workerId),
        keys.stats,
        keys.processedByType,
        keys.processedByWorker,
        results?.pending ?? keys.pending,
        results?.listeners ?? keys.listeners,
        results?.stats ?? keys.stats,
        workerId,
      ];
      for (const done of completions) {
        args.push(
          done.sequence,
          done.type,
          done.result ?? "",
          done.replyTo ?? "",
          done.reply ?? "",
        );
      }
      return (await run.epComplete(...args)) as number;
    },
    async heartbeat(workerId, leaseMs) {
      const [nowMs, added] = (await run.epHeartbeat(keys.workers, workerId, leaseMs)) as number[];
      return { nowMs: nowMs!, reRegistered: added === 1 };
    },
    async recover(workerId, options) {
      const reply = (await run.epRecover(
        keys.workers,
        keys.pending,
        keys.claim(workerId),
        keys.inflight(workerId),
        keys.deadLetter,
        keys.stats,
        keys.claimMarks,
        workerId,
        options.maxDeliveries,
        options.force ? 1 : 0,
        options.countDelivery ? 1 : 0,
      )) as number[];
      if (reply[0] === ScriptStatus.leaseStillValid) return undefined;
      return { requeued: reply[1] ?? 0, deadLettered: reply[2] ?? 0 };
    },
    async returnEntries(workerId, sequences) {
      if (sequences.length === 0) return 0;
      return (await run.epReturn(
        keys.inflight(workerId),
        keys.pending,
        keys.stats,
        ...sequences,
      )) as number;
    },
    async heldSequences(workerId) {
      return (await redis.hkeys(keys.inflight(workerId))).map(Number);
    },
    async retry(workerId, sequence, delayMs, envelope) {
      const reply = await run.epRetry(
        keys.inflight(workerId),
        keys.delayed,
        keys.stats,
        sequence,
        Math.max(0, Math.round(delayMs)),
        envelope,
      );
      return reply === 1;
    },
    async deadLetter(workerId, sequence, entry) {
      const reply = await run.epDeadLetter(
        keys.inflight(workerId),
        keys.deadLetter,
        keys.stats,
        sequence,
        entry,
      );
      return reply === 1;
    },
    async promoteDue(limit) {
      return (await run.epPromote(keys.delayed, keys.pending, keys.listeners, limit)) as number;
    },
    async replay(pairs) {
      if (pairs.length === 0) return 0;
      return (await run.epReplay(
        keys.deadLetter,
        keys.pending,
        keys.listeners,
        keys.stats,
        ...pairs,
      )) as number;
    },
  };
}
