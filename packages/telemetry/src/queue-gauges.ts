// Queue state as gauges, read from Redis when Prometheus scrapes: one script call per queue
// (queue-state-4.lua), shared by the six gauges of one scrape, so a scrape costs a bounded,
// small amount of Redis work whatever the queue depth.
import { type QueueState, queueKeys, readQueueState } from "@eventpipe/queue";
import type { Redis } from "ioredis";
import { Gauge } from "prom-client";
import { METRICS, type MetricSpec } from "./metric-catalogue.js";
import type { MetricRegistry } from "./metric-registry.js";

/** Gauges of one scrape read the same snapshot. */
const SNAPSHOT_MS = 250;

const READINGS: Readonly<Record<string, (state: QueueState) => number>> = {
  eventpipe_queue_pending: (state) => state.pending,
  eventpipe_queue_in_flight: (state) => state.inFlight,
  eventpipe_queue_delayed: (state) => state.delayed,
  eventpipe_queue_dead_letters: (state) => state.deadLetters,
  eventpipe_queue_live_workers: (state) => state.liveWorkers,
  eventpipe_queue_oldest_pending_age_seconds: (state) => state.oldestPendingAgeMs / 1000,
};

export function addQueueGauges(
  metrics: MetricRegistry,
  redis: Redis,
  queues: readonly string[],
): void {
  const keys = [...new Set(queues)].map(queueKeys);
  let snapshot: { at: number; states: Promise<QueueState[]> } | undefined;
  const read = () => {
    const now = Date.now();
    if (snapshot === undefined || now - snapshot.at > SNAPSHOT_MS) {
      // A queue that cannot be read (Redis away) leaves its gauges out of this scrape.
      const states = Promise.allSettled(keys.map((key) => readQueueState(redis, key))).then(
        (results) =>
          results.flatMap((result) => (result.status === "fulfilled" ? [result.value] : [])),
      );
      snapshot = { at: now, states };
    }
    return snapshot.states;
  };
  for (const spec of METRICS as readonly MetricSpec[]) {
    if (spec.owner !== "queue") continue;
    const reading = READINGS[spec.name]!;
    new Gauge({
      name: spec.name,
      help: spec.help,
      labelNames: [...spec.labels],
      registers: [metrics.registry],
      async collect() {
        this.reset();
        for (const state of await read()) this.set({ queue: state.queue }, reading(state));
      },
    });
  }
}
