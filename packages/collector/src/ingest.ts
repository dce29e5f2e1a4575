// Turns chunks of events into atomic Redis writes and keeps an honest tally: an event counts
// as stored only after Redis acknowledged the script call that stored it.
import type { Rejection } from "@eventpipe/proto";
import {
  BacklogFullError,
  type EnqueueEntry,
  type EnqueueLimits,
  encodeReceivedEvent,
  type QueueStore,
} from "@eventpipe/queue";
import type { Redis } from "ioredis";
import type { CollectorConfig } from "./config.js";
import { RedisUnavailableError } from "./errors.js";
import type { IncomingEvent } from "./incoming.js";
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

/** Errors that mean "Redis did not take the write" (as opposed to a bug): retryable. */
function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "ReplyError") {
    // A loading, busy or read-only (failing over) server is a passing condition.
    return /^(LOADING|BUSY|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)/.test(error.message);
  }
  return true;
}

function isRedisOutOfMemory(error: unknown): boolean {
  return error instanceof Error && error.name === "ReplyError" && error.message.startsWith("OOM");
}

export interface ChunkWriter {
  /**
   * Validates and stores one chunk. `firstIndex` is the position of events[0] in the stream,
   * used in rejections. Throws BacklogFullError or RedisUnavailableError (nothing of the
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

export function createChunkWriter(
  redis: Redis,
  store: QueueStore,
  config: CollectorConfig,
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
      if (isRedisOutOfMemory(error)) throw new BacklogFullError(-1, config.maxBacklog);
      if (isRedisUnavailable(error)) throw new RedisUnavailableError(0, error);
      throw error;
    }
  }

  return {
    async write(events, firstIndex) {
      const nowMs = Date.now();
      const rejections: Rejection[] = [];
      const entries: EnqueueEntry[] = [];
      for (let i = 0; i < events.length; i++) {
        const event = events[i]!;
        const problem = validateEvent(event, config.limits, allowed, nowMs);
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
 * Keeps up to `limit` chunk writes in flight on one connection, so the next chunk is read and
 * validated while Redis stores the previous one. Results reach the tally in submission order,
 * so rejections stay in stream order. A failed write is rethrown by a later `add` or `drain`.
 */
export class WriteWindow {
  private readonly unsettled = new Set<Promise<unknown>>();
  private inOrder: Promise<void> = Promise.resolve();
  private failure: unknown;
  private failed = false;

  constructor(
    private readonly limit: number,
    private readonly tally: Tally,
  ) {}

  async add(write: Promise<ChunkResult>): Promise<void> {
    const settled = write.then(
      () => undefined,
      () => undefined,
    );
    this.unsettled.add(settled);
    void settled.then(() => this.unsettled.delete(settled));
    this.inOrder = this.inOrder.then(async () => {
      try {
        addToTally(this.tally, await write);
      } catch (error) {
        if (!this.failed) {
          this.failed = true;
          this.failure = error;
        } else if (error instanceof RedisUnavailableError) {
          this.tally.stored += error.stored;
        }
      }
    });
    while (this.unsettled.size >= this.limit) await Promise.race(this.unsettled);
    this.throwIfFailed();
  }

  /** Waits for every write; never leaves one unaccounted for. */
  async drain(): Promise<void> {
    await this.inOrder;
    this.throwIfFailed();
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
