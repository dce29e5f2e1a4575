// A worker's background duties, on timers: renew its lease, take back the events of workers
// whose lease ran out, move retries that came due back to the queue, and return entries of
// its in-flight hash it does not hold (orphans.ts). Each duty runs one
// at a time; a failed turn is logged and the next turn tries again.
import type { QueueStore } from "@eventpipe/queue";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { WorkerConfig } from "./config.js";
import { errorText } from "./failure-plan.js";
import { type HeldByWorker, returnStrangers } from "./orphans.js";

export interface Upkeep {
  stop(): void;
}

/**
 * The first duty of a starting worker: a previous process with this WORKER_ID may have died
 * holding events, so they go back before our claims reuse its delivery sequences; then the
 * lease. Resolves the Redis clock in ms, where the worker's sequences start.
 */
export async function takeOverWorkerId(
  store: QueueStore,
  config: WorkerConfig,
  log: Logger,
): Promise<number> {
  const leftover = await store.recover(config.workerId, {
    maxDeliveries: config.maxDeliveries,
    force: true,
    countDelivery: true,
  });
  if (leftover !== undefined && leftover.requeued + leftover.deadLettered > 0) {
    log.warn({ ...leftover }, "took back the events a previous worker with this id held");
  }
  return (await store.heartbeat(config.workerId, config.leaseMs)).nowMs;
}

/** Runs `turn` on every tick, never two at once. */
function everyInterval(ms: number, turn: () => Promise<void>): NodeJS.Timeout {
  let running = false;
  const tick = () => {
    if (running) return;
    running = true;
    void turn().finally(() => {
      running = false;
    });
  };
  tick();
  return setInterval(tick, ms);
}

export function startUpkeep(
  store: QueueStore,
  redis: Redis,
  config: WorkerConfig,
  log: Logger,
  events: {
    /** Events of dead workers this one put back in the queue. */
    readonly onRecovered: (requeued: number) => void;
    /** What this worker holds, for the in-flight hash check (orphans.ts). */
    readonly held: () => HeldByWorker;
    /** Entries of its own in-flight hash it did not hold and put back. */
    readonly onReturned: (returned: number) => void;
  },
): Upkeep {
  const id = config.workerId;

  async function renewLeaseAndRecover(): Promise<void> {
    try {
      const { nowMs, reRegistered } = await store.heartbeat(id, config.leaseMs);
      if (reRegistered) {
        log.warn(
          { leaseMs: config.leaseMs },
          "this worker's lease had expired (paused, or cut off from Redis): other workers took back the events it held; it finishes their handlers but no longer acknowledges them",
        );
      }
      const expired = await redis.zrangebyscore(store.keys.workers, "-inf", nowMs);
      for (const other of expired) {
        if (other === id) continue;
        const result = await store.recover(other, {
          maxDeliveries: config.maxDeliveries,
          force: false,
          countDelivery: true,
        });
        if (result !== undefined) {
          events.onRecovered(result.requeued);
          log.warn({ deadWorker: other, ...result }, "took back the events of a dead worker");
        }
      }
    } catch (error) {
      log.warn({ err: errorText(error) }, "heartbeat failed");
    }
  }

  async function promoteDueRetries(): Promise<void> {
    try {
      while ((await store.promoteDue(1000)) === 1000) {}
    } catch (error) {
      log.debug({ err: errorText(error) }, "promoting retries failed");
    }
  }

  const timers = [
    everyInterval(Math.max(100, Math.floor(config.leaseMs / 3)), renewLeaseAndRecover),
    everyInterval(250, promoteDueRetries),
    everyInterval(Math.max(1000, Math.floor(config.leaseMs / 3)), () =>
      returnStrangers(store, id, log, events.held, events.onReturned),
    ),
  ];
  return {
    stop() {
      for (const timer of timers) clearInterval(timer);
    },
  };
}
