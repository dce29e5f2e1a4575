// The partition count (QUEUE_PARTITIONS) of every queue the collector stores into, adopted
// before its first write: a count that would strand events stored under another one stops the
// collector with PartitionCountError, and until Redis answered the check, writes are refused
// with UNAVAILABLE like any other moment without Redis. Afterwards the recorded counts are read
// again now and then: a collector left running with an old count while the others moved on
// (a rolling change) stops storing into a layout no worker serves.
import { setTimeout as delay } from "node:timers/promises";
import { queuesOf } from "@eventpipe/pipeline";
import { adoptPartitionCount, PartitionCountError, readRecordedCount } from "@eventpipe/queue";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { CollectorConfig } from "./config.js";

export interface QueueLayout {
  /** Undefined while every queue's count is adopted; else why writes are refused. */
  readonly refusal: string | undefined;
  /**
   * Checks the counts; rejects with PartitionCountError when one is refused. When Redis does
   * not answer it resolves and goes on trying in the background.
   */
  start(): Promise<void>;
  stop(): void;
}

const START_WAIT_MS = 2000;
const START_RETRY_MS = 100;
const RETRY_MS = 500;
const RECHECK_MS = 5000;
const NOT_CHECKED = "the queues' partition counts are not checked yet";

export function createQueueLayout(
  redis: Redis,
  config: CollectorConfig,
  logger: Logger,
): QueueLayout {
  const queues = queuesOf(config.pipeline);
  const wanted = config.queuePartitions;
  let refusal: string | undefined = NOT_CHECKED;
  let stopped = false;

  /** Adopts our count, recording it in place of another one if that layout is unused. */
  const adoptAll = async () => {
    for (const queue of queues) await adoptPartitionCount(redis, queue, wanted);
    refusal = undefined;
  };
  const refuse = (reason: string) => {
    if (refusal !== reason) {
      logger.error({ err: reason }, "queue partitions refused; events are refused");
    }
    refusal = reason;
  };
  /**
   * Compares our count with the recorded ones, and never overwrites another: a collector
   * left with an old count during a rolling change must not flip the record back. A record
   * that vanished (Redis lost it) is written again, by the same checks as at start.
   */
  const recheck = async () => {
    for (const queue of queues) {
      const recorded = await readRecordedCount(redis, queue);
      if (recorded === undefined) {
        await adoptPartitionCount(redis, queue, wanted);
        continue;
      }
      if (recorded !== wanted) {
        refuse(
          `queue "${queue}" is now recorded with ${recorded} partition(s), this collector has QUEUE_PARTITIONS=${wanted}: restart it with the new count`,
        );
        return;
      }
    }
    refusal = undefined;
  };
  // Bounded by stop(); each turn waits, so it never spins.
  const watch = async () => {
    while (!stopped) {
      await delay(refusal === undefined ? RECHECK_MS : RETRY_MS, undefined, { ref: false });
      if (stopped) return;
      try {
        if (refusal === NOT_CHECKED) await adoptAll();
        else await recheck();
      } catch (error) {
        if (error instanceof PartitionCountError) refuse(error.message);
      }
    }
  };
  return {
    get refusal() {
      return refusal;
    },
    async start() {
      // Quick tries first, for a moment: the writer has no offline queue, and a cluster client
      // reports ready while its links to the nodes are still opening, so a first write can
      // fail as "Connection is closed". Without them a producer's first batch would be refused.
      const deadline = Date.now() + START_WAIT_MS;
      while (refusal === NOT_CHECKED && !stopped) {
        try {
          await adoptAll();
        } catch (error) {
          if (error instanceof PartitionCountError) throw error;
          if (Date.now() >= deadline) {
            logger.warn({ err: (error as Error).message }, "checking partitions failed; retrying");
            break;
          }
          await delay(START_RETRY_MS);
        }
      }
      void watch();
    },
    stop() {
      stopped = true;
    },
  };
}
