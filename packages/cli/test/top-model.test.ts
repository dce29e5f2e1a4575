// `pnpm top`'s rates: deltas of the queue's and workers' counters over the time between two
// readings, collectors' over their own snapshot clock; "-" (undefined) where there is no
// honest figure.
import type { CollectorSnapshot, QueueStats, WorkerStats } from "@eventpipe/queue";
import { describe, expect, it } from "vitest";
import { advance, rate } from "../src/top-model.js";
import type { QueueReading, Reading } from "../src/top-read.js";

function worker(id: string, processed: number, inFlight = 0): WorkerStats {
  return { id, inFlight, processed, leaseExpiresAtMs: 0 };
}

function queue(
  name: string,
  counters: Partial<Omit<QueueStats, "queue">> = {},
  oldestPendingAgeMs = 0,
): QueueReading {
  const stats: QueueStats = {
    queue: name,
    pending: 0,
    inFlight: 0,
    enqueued: 0,
    processed: 0,
    deadLettered: 0,
    deadLetteredTotal: 0,
    retriesWaiting: 0,
    retried: 0,
    recovered: 0,
    byType: {},
    workers: [],
    expiredWorkers: [],
    ...counters,
  };
  return {
    stats,
    state: {
      queue: name,
      pending: stats.pending,
      inFlight: stats.inFlight,
      delayed: stats.retriesWaiting,
      deadLetters: stats.deadLettered,
      liveWorkers: stats.workers.length,
      oldestPendingAgeMs,
    },
  };
}

function collector(id: string, atMs: number, received: number, accepted = received) {
  return { id, streams: 2, buffered: 10, received, accepted, atMs } satisfies CollectorSnapshot;
}

function reading(
  atMs: number,
  queues: QueueReading[],
  collectors: CollectorSnapshot[] = [],
): Reading {
  return { atMs, queues, collectors };
}

describe("top model", () => {
  it("has no rates from a single reading, and shows the reading's figures", () => {
    const { view } = advance(
      undefined,
      reading(1000, [
        queue(
          "orders",
          {
            pending: 40,
            inFlight: 8,
            enqueued: 500,
            processed: 452,
            retriesWaiting: 3,
            retried: 7,
            deadLettered: 2,
            workers: [worker("w1", 452, 8)],
          },
          2500,
        ),
      ]),
    );
    expect(view.queues).toEqual([
      {
        queue: "orders",
        pending: 40,
        inFlight: 8,
        oldestPendingAgeMs: 2500,
        inRate: undefined,
        outRate: undefined,
        processed: 452,
        retriesWaiting: 3,
        retried: 7,
        deadLetters: 2,
        liveWorkers: 1,
      },
    ]);
    expect(view.workers).toEqual([
      { id: "w1", queue: "orders", inFlight: 8, processed: 452, rate: undefined, expired: false },
    ]);
    expect(view.collectors).toEqual([]);
  });

  it("gives in, out and per-worker rates from counter deltas over the elapsed time", () => {
    const first = advance(
      undefined,
      reading(10_000, [
        queue("orders", { enqueued: 1000, processed: 900, workers: [worker("w1", 900)] }),
      ]),
    );
    const { view } = advance(
      first.state,
      reading(12_000, [
        queue("orders", {
          enqueued: 3000,
          processed: 2900,
          workers: [worker("w1", 2100), worker("w2", 800)],
        }),
      ]),
    );
    expect(view.queues[0]).toMatchObject({ inRate: 1000, outRate: 1000 });
    // w2 was not there a reading ago: no baseline, no rate.
    expect(view.workers.map((row) => [row.id, row.rate])).toEqual([
      ["w1", 600],
      ["w2", undefined],
    ]);
  });

  it("shows no rate when a counter went down (the queue's keys were deleted)", () => {
    const first = advance(undefined, reading(0, [queue("q", { enqueued: 50, processed: 50 })]));
    const { view } = advance(first.state, reading(1000, [queue("q", { enqueued: 5 })]));
    expect(view.queues[0]).toMatchObject({ inRate: undefined, outRate: undefined });
  });

  it("lists expired workers after live ones of their queue, without a rate", () => {
    const { view } = advance(
      undefined,
      reading(0, [
        queue("b", { workers: [worker("b-live", 1)] }),
        queue("a", { workers: [worker("a-2", 1)], expiredWorkers: [worker("a-1", 5, 3)] }),
      ]),
    );
    expect(view.workers.map((row) => [row.queue, row.id, row.expired])).toEqual([
      ["a", "a-1", true],
      ["a", "a-2", false],
      ["b", "b-live", false],
    ]);
  });

  it("rates collectors on their own clock, keeping the baseline when read twice between writes", () => {
    let step = advance(undefined, reading(0, [], [collector("c1", 50_000, 100, 90)]));
    expect(step.view.collectors[0]).toMatchObject({
      id: "c1",
      streams: 2,
      buffered: 10,
      receivedRate: undefined,
      acceptedRate: undefined,
    });
    step = advance(step.state, reading(1000, [], [collector("c1", 52_000, 4100, 2090)]));
    expect(step.view.collectors[0]).toMatchObject({ receivedRate: 2000, acceptedRate: 1000 });
    // The same snapshot again: the rate stays what it was, not "-" and not 0.
    step = advance(step.state, reading(2000, [], [collector("c1", 52_000, 4100, 2090)]));
    expect(step.view.collectors[0]).toMatchObject({ receivedRate: 2000, acceptedRate: 1000 });
    // A collector that stopped reporting is gone from the view.
    step = advance(step.state, reading(3000, [], []));
    expect(step.view.collectors).toEqual([]);
  });

  it("rate() wants a baseline, time passing and a counter that did not go down", () => {
    expect(rate(undefined, 10, 1000)).toBeUndefined();
    expect(rate(10, 20, 0)).toBeUndefined();
    expect(rate(20, 10, 1000)).toBeUndefined();
    expect(rate(10, 10, 1000)).toBe(0);
    expect(rate(0, 5, 500)).toBe(10);
  });
});
