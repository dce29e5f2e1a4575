// Turns chunks of events into atomic Redis writes and keeps an honest tally: an event counts
// as stored only after Redis acknowledged the script call that stored it.
import { type Rejection, RejectionReason, type StreamSummary } from "@eventpipe/proto";
import {
  BacklogFullError,
  type EnqueueEntry,
  type EnqueueLimits,
  type Enqueuer,
  encodeReceivedEvent,
} from "@eventpipe/queue";
import type { SchemaValidators } from "@eventpipe/schemas";
import type { Redis } from "ioredis";
import type { CollectorConfig } from "./config.js";
import { NotReplicatedError, RedisOutOfMemoryError, RedisUnavailableError } from "./errors.js";
import { type IncomingEvent, payloadOf } from "./incoming.js";
import type { RoutedStores } from "./routing.js";
import { validateEvent } from "./validate.js";

/** Rejections listed in one reply; the count covers them all. */
export const MAX_REPORTED_REJECTIONS = 100;

export interface ChunkResult {
  readonly stored: number;
  readonly duplicates: number;
  readonly rejections: readonly Rejection[];
}

export interface Tally {
  stored: number;
  duplicates: number;
  rejected: number;
  readonly rejections: Rejection[];
}

/** The gRPC reply of a client stream: `success` only when nothing was rejected. */
export function summaryOf(tally: Tally): StreamSummary {
  return {
    success: tally.rejected === 0,
    eventsReceived: tally.stored,
    accepted: tally.stored,
    rejected: tally.rejected,
    duplicates: tally.duplicates,
    rejections: tally.rejections,
  };
}

export function emptyTally(): Tally {
  return { stored: 0, duplicates: 0, rejected: 0, rejections: [] };
}

export function addToTally(tally: Tally, result: ChunkResult): void {
  tally.stored += result.stored;
  tally.duplicates += result.duplicates;
  tally.rejected += result.rejections.length;
  for (const rejection of result.rejections) {
    if (tally.rejections.length >= MAX_REPORTED_REJECTIONS) break;
    tally.rejections.push(rejection);
  }
}

/**
 * A loading, busy or read-only (failing over) server, or a cluster slot that moved: a passing
 * condition, not a bug.
 */
export function isTransientReplyError(error: Error): boolean {
  return (
    error.name === "ReplyError" &&
    /^(LOADING|BUSY|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|MOVED|ASK)/.test(error.message)
  );
}

/** Errors that mean "Redis did not take the write" (as opposed to a bug): retryable. */
function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === "ReplyError" ? isTransientReplyError(error) : true;
}

function isRedisOutOfMemory(error: unknown): boolean {
  return error instanceof Error && error.name === "ReplyError" && error.message.startsWith("OOM");
}

export interface ChunkWriter {
  /** Events written to this writer and stored by it since it was made (`pnpm top`). */
  readonly totals: { readonly received: number; readonly accepted: number };
  /**
   * Validates and stores one chunk. `firstIndex` is the position of events[0] in the stream,
   * used in rejections. Throws BacklogFullError, RedisOutOfMemoryError or RedisUnavailableError
   * (nothing of the chunk stored, or as much as the error says) or an unexpected error.
   * `replyTo` marks the events as a Call's: the worker publishes their result there.
   */
  write(
    events: readonly IncomingEvent[],
    firstIndex: number,
    replyTo?: string,
  ): Promise<ChunkResult>;
}

const READY_WAIT_MS = 1000;

function waitForReady(redis: Redis, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off("ready", done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    redis.once("ready", done);
  });
}

/** The payload against the type's registered schema, if any (compiled validators, no I/O). */
function schemaProblem(schemas: SchemaValidators, event: IncomingEvent): string | undefined {
  const check = schemas.check(event.type, event.schemaVersion || undefined, payloadOf(event));
  if (check.ok) return undefined;
  const version = check.version === undefined ? "" : ` v${check.version}`;
  return `payload${check.instancePath} ${check.message} (schema of "${event.type.slice(0, 64)}"${version})`;
}

export function createChunkWriter(
  redis: Redis,
  stores: RoutedStores,
  config: CollectorConfig,
  /** Registered JSON Schemas to enforce; none when omitted. */
  schemas?: SchemaValidators,
  /** The queues' partition counts; writes wait for them to be adopted (queue-layout.ts). */
  layout?: { readonly refusal: string | undefined },
): ChunkWriter {
  const allowed =
    config.limits.allowedTypes.length > 0 ? new Set(config.limits.allowedTypes) : undefined;
  const limits: EnqueueLimits = {
    dedupWindowMs: config.dedupWindowMs,
    maxBacklog: config.maxBacklog,
    waitReplicas:
      config.waitReplicas > 0
        ? { count: config.waitReplicas, timeoutMs: config.waitReplicasTimeoutMs }
        : undefined,
  };

  async function enqueue(store: Enqueuer, entries: EnqueueEntry[]) {
    try {
      // Ride out a reconnect in progress (a restart, a blip) for a moment, no longer: the
      // connection has no offline queue, so a Redis that stays away becomes UNAVAILABLE.
      if (redis.status !== "ready") await waitForReady(redis, READY_WAIT_MS);
      const result = await store.enqueue(entries, limits);
      // WAIT covered every earlier write of the connection to that node, this chunk's included
      // (and, for a resend that stored nothing, the first run's): acknowledged means replicated.
      if (result.replicas !== undefined && result.replicas < config.waitReplicas) {
        throw new NotReplicatedError(
          0,
          result.replicas,
          config.waitReplicas,
          config.waitReplicasTimeoutMs,
        );
      }
      return result;
    } catch (error) {
      if (error instanceof BacklogFullError || error instanceof NotReplicatedError) throw error;
      if (isRedisOutOfMemory(error)) throw new RedisOutOfMemoryError(error);
      if (isRedisUnavailable(error)) throw new RedisUnavailableError(0, error);
      throw error;
    }
  }

  const totals = { received: 0, accepted: 0 };
  return {
    totals,
    async write(events, firstIndex, replyTo) {
      totals.received += events.length;
      // Until the registry has been read once, nothing says which types have a schema, and
      // storing an event unchecked could let through one that breaks it.
      if (schemas !== undefined && !schemas.loaded) {
        throw new RedisUnavailableError(0, new Error("the registered schemas are not loaded yet"));
      }
      if (layout?.refusal !== undefined) {
        throw new RedisUnavailableError(0, new Error(layout.refusal));
      }
      const nowMs = Date.now();
      const latestTimestamp = BigInt(nowMs + config.limits.maxFutureSkewMs);
      const rejections: Rejection[] = [];
      // One group of entries per destination (a queue, or the queues of a fan-out route), in
      // stream order within each.
      const groups = new Map<Enqueuer, EnqueueEntry[]>();
      for (let i = 0; i < events.length; i++) {
        const event = events[i]!;
        let problem = validateEvent(event, config.limits, allowed, latestTimestamp);
        if (problem === undefined && schemas?.active) {
          const message = schemaProblem(schemas, event);
          if (message !== undefined) {
            problem = { reason: RejectionReason.REJECTION_REASON_SCHEMA_VIOLATION, message };
          }
        }
        if (problem === undefined) {
          const store = stores.enqueuerFor(event.type, event.partitionKey || event.eventId);
          let entries = groups.get(store);
          if (entries === undefined) {
            entries = [];
            groups.set(store, entries);
          }
          entries.push({
            eventId: event.eventId,
            envelope: encodeReceivedEvent(event.bytes, nowMs, replyTo),
          });
        } else {
          rejections.push({
            index: firstIndex + i,
            eventId: event.eventId.slice(0, 128),
            reason: problem.reason,
            message: problem.message,
          });
        }
      }
      if (groups.size === 0) return { stored: 0, duplicates: 0, rejections };
      // One script call per destination, and big batches as several calls, all pipelined on
      // the one connection; Redis runs them in order.
      const pieces: Promise<{ stored: number; duplicates: number }>[] = [];
      for (const [store, entries] of groups) {
        for (let start = 0; start < entries.length; start += config.chunkSize) {
          pieces.push(enqueue(store, entries.slice(start, start + config.chunkSize)));
        }
      }
      const settled = await Promise.allSettled(pieces);
      let stored = 0;
      let duplicates = 0;
      let failure: unknown;
      for (const piece of settled) {
        if (piece.status === "fulfilled") {
          stored += piece.value.stored;
          duplicates += piece.value.duplicates;
        } else {
          failure ??= piece.reason;
        }
      }
      totals.accepted += stored;
      if (failure !== undefined) {
        // Part of a split or routed batch may be stored: say how much, so the reply stays true.
        if (failure instanceof NotReplicatedError) {
          throw new NotReplicatedError(stored, failure.replicas, failure.wanted, failure.timeoutMs);
        }
        if (failure instanceof RedisUnavailableError)
          throw new RedisUnavailableError(stored, failure.cause);
        throw failure;
      }
      return { stored, duplicates, rejections };
    },
  };
}
