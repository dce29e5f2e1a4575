// Turns chunks of events into atomic Redis writes and keeps an honest tally: an event counts
// as stored only after Redis acknowledged the script call that stored it.
import { type Rejection, RejectionReason } from "@eventpipe/proto";
import {
  BacklogFullError,
  type EnqueueEntry,
  type EnqueueLimits,
  encodeReceivedEvent,
  type QueueStore,
} from "@eventpipe/queue";
import type { SchemaValidators } from "@eventpipe/schemas";
import type { Redis } from "ioredis";
import type { CollectorConfig } from "./config.js";
import { RedisOutOfMemoryError, RedisUnavailableError } from "./errors.js";
import type { EventBudget } from "./event-budget.js";
import { type IncomingEvent, payloadOf } from "./incoming.js";
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

/** A loading, busy or read-only (failing over) server: a passing condition, not a bug. */
export function isTransientReplyError(error: Error): boolean {
  return (
    error.name === "ReplyError" &&
    /^(LOADING|BUSY|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)/.test(error.message)
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
  /**
   * Validates and stores one chunk. `firstIndex` is the position of events[0] in the stream,
   * used in rejections. Throws BacklogFullError, RedisOutOfMemoryError or RedisUnavailableError (nothing of the
   * chunk stored) or an unexpected error.
   */
  write(events: readonly IncomingEvent[], firstIndex: number): Promise<ChunkResult>;
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
  store: QueueStore,
  config: CollectorConfig,
  /** Registered JSON Schemas to enforce; none when omitted. */
  schemas?: SchemaValidators,
): ChunkWriter {
  const allowed =
    config.limits.allowedTypes.length > 0 ? new Set(config.limits.allowedTypes) : undefined;
  const limits: EnqueueLimits = {
    dedupWindowMs: config.dedupWindowMs,
    maxBacklog: config.maxBacklog,
  };

  async function enqueue(entries: EnqueueEntry[]) {
    try {
      // Ride out a reconnect in progress (a restart, a blip) for a moment, no longer: the
      // connection has no offline queue, so a Redis that stays away becomes UNAVAILABLE.
      if (redis.status !== "ready") await waitForReady(redis, READY_WAIT_MS);
      return await store.enqueue(entries, limits);
    } catch (error) {
      if (error instanceof BacklogFullError) throw error;
      if (isRedisOutOfMemory(error)) throw new RedisOutOfMemoryError(error);
      if (isRedisUnavailable(error)) throw new RedisUnavailableError(0, error);
      throw error;
    }
  }

  return {
    async write(events, firstIndex) {
      // Until the registry has been read once, nothing says which types have a schema, and
      // storing an event unchecked could let through one that breaks it.
      if (schemas !== undefined && !schemas.loaded) {
        throw new RedisUnavailableError(0, new Error("the registered schemas are not loaded yet"));
      }
      const nowMs = Date.now();
      const latestTimestamp = BigInt(nowMs + config.limits.maxFutureSkewMs);
      const rejections: Rejection[] = [];
      const entries: EnqueueEntry[] = [];
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
          entries.push({
            eventId: event.eventId,
            envelope: encodeReceivedEvent(event.bytes, nowMs),
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
      if (entries.length === 0) return { stored: 0, duplicates: 0, rejections };
      // Big batches go out as several script calls pipelined on the one connection; Redis
      // runs them in order.
      const pieces: Promise<{ stored: number; duplicates: number }>[] = [];
      for (let start = 0; start < entries.length; start += config.chunkSize) {
        pieces.push(enqueue(entries.slice(start, start + config.chunkSize)));
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
      if (failure !== undefined) {
        // Part of a split batch may be stored: say how much, so the reply stays true.
        if (failure instanceof RedisUnavailableError)
          throw new RedisUnavailableError(stored, failure.cause);
        throw failure;
      }
      return { stored, duplicates, rejections };
    },
  };
}

/**
 * Group commit for one stream. Events read while a Redis write is in flight gather and go out
 * together the moment it returns, so under load writes grow towards the chunk size by
 * themselves (a single-event stream is stored in chunks too) while a quiet stream's events go
 * out at once. A second write may start early once a full chunk waits, so Redis always has the
 * next write queued; writes on one connection run in order, and results are tallied in order.
 * A failed write is rethrown by a later `add` or `drain`.
 */
export class GroupWriter {
  private static readonly MAX_IN_FLIGHT = 2;
  private pending: IncomingEvent[] = [];
  private pendingFirstIndex = 0;
  private inFlight = 0;
  /** Settles when the latest write is tallied; each write's tally waits for the one before. */
  private tallied: Promise<void> = Promise.resolve();
  private changed: Promise<void> = Promise.resolve();
  private failure: unknown;
  private failed = false;
  /** Budget taken for events queued or in flight, given back as Redis answers. */
  private held = 0;

  constructor(
    private readonly writer: ChunkWriter,
    private readonly chunkSize: number,
    private readonly tally: Tally,
    private readonly budget: EventBudget,
  ) {}

  /**
   * Queues events that sit at stream positions firstIndex, firstIndex + 1, ...; waits while a
   * full chunk is already waiting or the collector-wide budget is spent (backpressure: the
   * caller stops reading the stream).
   */
  async add(events: readonly IncomingEvent[], firstIndex: number): Promise<void> {
    this.held += await this.budget.acquire(events.length);
    // A chunk's rejections are numbered from its first index, so it must be contiguous.
    while (
      this.pending.length > 0 &&
      this.pendingFirstIndex + this.pending.length !== firstIndex &&
      !this.failed
    ) {
      if (this.inFlight < GroupWriter.MAX_IN_FLIGHT) this.startWrite();
      else await this.changed;
    }
    this.throwIfFailed();
    if (this.pending.length === 0) this.pendingFirstIndex = firstIndex;
    for (const event of events) this.pending.push(event);
    this.maybeStartWrite();
    while (this.pending.length >= this.chunkSize && !this.failed) {
      await this.changed;
      this.maybeStartWrite();
    }
    this.throwIfFailed();
  }

  /** Waits for every write; never leaves one unaccounted for. Gives back the budget. */
  async drain(): Promise<void> {
    try {
      while ((this.inFlight > 0 || this.pending.length > 0) && !this.failed) {
        this.maybeStartWrite();
        await this.tallied;
      }
      await this.tallied;
    } finally {
      // Whatever is still held belongs to events that will never be written.
      if (this.inFlight === 0) {
        this.budget.release(this.held);
        this.held = 0;
      }
    }
    this.throwIfFailed();
  }

  private maybeStartWrite(): void {
    if (this.failed || this.pending.length === 0) return;
    if (this.inFlight === 0) this.startWrite();
    else if (this.inFlight < GroupWriter.MAX_IN_FLIGHT && this.pending.length >= this.chunkSize) {
      this.startWrite();
    }
  }

  private startWrite(): void {
    const batch = this.pending;
    const firstIndex = this.pendingFirstIndex;
    this.pending = [];
    this.inFlight++;
    const write = this.writer.write(batch, firstIndex);
    const previous = this.tallied;
    const done = (async () => {
      let result: ChunkResult | undefined;
      let error: unknown;
      try {
        result = await write;
      } catch (caught) {
        error = caught ?? new Error("write failed");
      }
      await previous;
      const taken = Math.min(this.held, batch.length);
      this.held -= taken;
      this.budget.release(taken);
      if (result !== undefined) addToTally(this.tally, result);
      else if (!this.failed) {
        this.failed = true;
        this.failure = error;
      } else if (error instanceof RedisUnavailableError) {
        this.tally.stored += error.stored;
      }
      this.inFlight--;
      this.maybeStartWrite();
    })();
    this.tallied = done;
    this.changed = done;
  }

  private throwIfFailed(): void {
    if (!this.failed) return;
    const failure = this.failure;
    if (failure instanceof RedisUnavailableError) {
      throw new RedisUnavailableError(this.tally.stored + failure.stored, failure.cause);
    }
    throw failure;
  }
}
