// Group commit for one gRPC stream: see GroupWriter.

import { RedisUnavailableError } from "./errors.js";
import type { EventBudget } from "./event-budget.js";
import type { IncomingEvent } from "./incoming.js";
import { addToTally, type ChunkResult, type ChunkWriter, type Tally } from "./ingest.js";

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
