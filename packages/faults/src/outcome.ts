// Fills a ledger from what a run left behind: the producer's acknowledgements as they come,
// then, once the queue has drained, the handlers' record file and the queue's audit. A queue
// split into partitions (QUEUE_PARTITIONS) is given as the keys of every partition.
import type { ProducerOptions } from "@eventpipe/producer";
import { auditQueue, type QueueKeys, type QueueStats, readQueueStats } from "@eventpipe/queue";
import type { Redis } from "ioredis";
import type { Ledger } from "./ledger.js";
import { readRecords } from "./records.js";

/** Producer options that record every acknowledged event id (rejected ones excluded). */
export function recordingAcks(ledger: Ledger, options: ProducerOptions = {}): ProducerOptions {
  return {
    ...options,
    onAck(events, rejections) {
      const rejected = new Set(rejections.map((rejection) => rejection.index));
      ledger.recordAcknowledged(
        events.flatMap((event, i) => (rejected.has(i) ? [] : [event.eventId])),
      );
      options.onAck?.(events, rejections);
    },
  };
}

/** One queue's keys, or every partition's. */
export type QueueLayout = QueueKeys | readonly QueueKeys[];

export interface OutcomeSources {
  readonly redis: Redis;
  readonly keys: QueueLayout;
  /** The file recording-handler.js wrote. */
  readonly recordFile: string;
  /** The dedup sets name the stored ids; false when the run turned deduplication off. */
  readonly storedIdsKnown?: boolean;
}

/** Records handled, stored, dead-lettered and still-queued ids. Call once the run drained. */
export async function recordOutcome(ledger: Ledger, sources: OutcomeSources): Promise<void> {
  for (const keys of [sources.keys].flat()) {
    const audit = await auditQueue(sources.redis, keys);
    if (sources.storedIdsKnown ?? true) ledger.recordStored(audit.stored);
    ledger.recordDeadLettered(audit.deadLettered);
    ledger.recordStillQueued([...audit.pending, ...audit.inFlight, ...audit.delayed]);
  }
  ledger.recordHandled(readRecords(sources.recordFile).map((record) => record.eventId));
}

/**
 * Waits until nothing is pending, in flight, waiting for a retry or held by an expired worker
 * (their events come back once another worker notices); throws after `timeoutMs`.
 */
export async function waitUntilDrained(
  redis: Redis,
  keys: QueueLayout,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const drained = (stats: QueueStats) =>
    stats.pending === 0 &&
    stats.inFlight === 0 &&
    stats.retriesWaiting === 0 &&
    stats.expiredWorkers.length === 0;
  for (;;) {
    const stats = await Promise.all([keys].flat().map((part) => readQueueStats(redis, part))).catch(
      () => undefined,
    );
    if (stats?.every(drained)) return;
    if (Date.now() > deadline) {
      throw new Error(`the queue did not drain in ${timeoutMs} ms: ${JSON.stringify(stats)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
