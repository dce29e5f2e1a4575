// Queue state as gauges, read from Redis when Prometheus scrapes: one script call per queue
// partition (queue-state-4.lua), shared by the six gauges of one scrape, so a scrape costs a
// bounded, small amount of Redis work whatever the queue depth. A queue split into partitions
// is one series per gauge, its partitions added up (readQueueStateOf says how). A reading that takes longer than
// READ_LIMIT_MS (Redis away: a worker's connection holds commands until it is back) is left out
// of that scrape, so the service's own metrics are still served during an outage.

import { setTimeout as delay } from "node:timers/promises";
import { type QueueState, queueKeys, readQueueStateOf } from "@eventpipe/queue";
import type { Redis } from "ioredis";
import { Gauge } from "prom-client";
import { METRICS, type MetricSpec } from "./metric-catalogue.js";
import type { MetricRegistry } from "./metric-registry.js";

const READINGS: Readonly<Record<string, (state: QueueState) => number>> = {
  eventpipe_queue_pending: (state) => state.pending,
  eventpipe_queue_in_flight: (state) => state.inFlight,
  eventpipe_queue_delayed: (state) => state.delayed,
  eventpipe_queue_dead_letters: (state) => state.deadLetters,
  eventpipe_queue_live_workers: (state) => state.liveWorkers,
  eventpipe_queue_oldest_pending_age_seconds: (state) => state.oldestPendingAgeMs / 1000,
};

/** Longest wait for the queue state; Prometheus's own scrape timeout is 10 s by default. */
const READ_LIMIT_MS = 2000;

export function addQueueGauges(
  metrics: MetricRegistry,
  redis: Redis,
  queues: readonly string[],
): void {
  const names = [...new Set(queues)];
  // A bad name fails here, at start, rather than leaving its gauges out of every scrape.
  for (const name of names) queueKeys(name);
  // prom-client collects every metric of a scrape at once: the six gauges share the reading
  // in progress, and the next scrape reads anew.
  let reading: Promise<QueueState[]> | undefined;
  const readOne = (name: string) =>
    Promise.race([
      readQueueStateOf(redis, name),
      delay(READ_LIMIT_MS, undefined, { ref: false }).then(() => {
        throw new Error(`reading ${name} took over ${READ_LIMIT_MS} ms`);
      }),
    ]);
  const read = () => {
    reading ??= Promise.allSettled(names.map(readOne))
      .then((results) =>
        // A queue that cannot be read (Redis away) leaves its gauges out of this scrape.
        results.flatMap((result) => (result.status === "fulfilled" ? [result.value] : [])),
      )
      .finally(() => {
        reading = undefined;
      });
    return reading;
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
