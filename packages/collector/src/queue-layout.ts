// The partition count (QUEUE_PARTITIONS) of every queue the collector stores into, adopted
// before its first write: a count that would strand events stored under another one stops the
// collector with PartitionCountError, and until Redis answered the check, writes are refused
// with UNAVAILABLE like any other moment without Redis.
import { setTimeout as delay } from "node:timers/promises";
import { queuesOf } from "@eventpipe/pipeline";
import { adoptPartitionCount, PartitionCountError } from "@eventpipe/queue";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { CollectorConfig } from "./config.js";

export interface QueueLayout {
  /** True once every queue's partition count was checked and recorded. */
  readonly adopted: boolean;
  /**
   * Checks the counts; rejects with PartitionCountError when one is refused. When Redis does
   * not answer it resolves and goes on trying in the background (a refusal then logs).
   */
  start(): Promise<void>;
  stop(): void;
}

const RETRY_MS = 500;

export function createQueueLayout(
  redis: Redis,
  config: CollectorConfig,
  logger: Logger,
): QueueLayout {
  const queues = queuesOf(config.pipeline);
  let adopted = false;
  let stopped = false;
  const adoptAll = async () => {
    for (const queue of queues) await adoptPartitionCount(redis, queue, config.queuePartitions);
    adopted = true;
  };
  const keepTrying = async () => {
    while (!stopped && !adopted) {
      await delay(RETRY_MS, undefined, { ref: false });
      try {
        await adoptAll();
      } catch (error) {
        if (error instanceof PartitionCountError) {
          logger.error({ err: error.message }, "queue partitions refused; events stay refused");
          return;
        }
      }
    }
  };
  return {
    get adopted() {
      return adopted;
    },
    async start() {
      try {
        await adoptAll();
      } catch (error) {
        if (error instanceof PartitionCountError) throw error;
        logger.warn(
          { err: (error as Error).message },
          "checking queue partitions failed; retrying",
        );
        void keepTrying();
      }
    },
    stop() {
      stopped = true;
    },
  };
}
