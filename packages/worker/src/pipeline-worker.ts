// The worker process's consumers: one per processor of the pipeline file that WORKER_ROUTES
// selects, each on its route's queue with its own concurrency, so a slow processor never
// takes another's slots. Without a pipeline file there is one, today's worker. With queue
// partitions, a processor has one consumer per partition in WORKER_PARTITIONS, each with an
// equal share of its concurrency (rounded down) and its own blocking connection: every
// partition is served at the same pace, however deep the others are.
import type { Pipeline } from "@eventpipe/pipeline";
import { selectProcessors } from "@eventpipe/pipeline";
import { adoptPartitionCount, isClusterClient, partitionKeys } from "@eventpipe/queue";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { WorkerConfig } from "./config.js";
import type { WorkerObserver } from "./observer.js";
import { createProcessor, type Processor } from "./processors/index.js";
import { createWorker, type Worker } from "./worker.js";

export interface PipelineWorkers {
  readonly workers: readonly Worker[];
  /** Events held by all consumers. */
  readonly inFlight: number;
  /** Events held per queue. */
  inFlightByQueue(): ReadonlyMap<string, number>;
  start(): Promise<void>;
  /** Closes every consumer (each with the grace period), then the processors' connections. */
  close(graceMs?: number): Promise<void>;
}

export async function createPipelineWorkers({
  redis,
  config,
  logger,
  pipeline = config.pipeline,
  observerFor,
}: {
  readonly redis: Redis;
  readonly config: WorkerConfig;
  readonly logger: Logger;
  readonly pipeline?: Pipeline;
  /** Metrics: the observer of the consumer of a queue. */
  readonly observerFor?: (queue: string) => WorkerObserver;
}): Promise<PipelineWorkers> {
  const processors: Processor[] = [];
  const workers: Worker[] = [];
  const queues: string[] = [];
  const specs = selectProcessors(pipeline, config.routes);
  // Before any consumer claims: a count that would strand stored events stops the process.
  const adopted = new Set<string>();
  for (const spec of specs) {
    if (spec.results !== undefined && isClusterClient(redis)) {
      throw new Error(
        `route "${spec.route}" stores results in queue "${spec.results.queue}" with each ack, in one script call; on Redis Cluster the two queues are in different slots: results queues need a single Redis node`,
      );
    }
    for (const queue of [spec.queue, spec.results?.queue]) {
      if (queue === undefined || adopted.has(queue)) continue;
      await adoptPartitionCount(redis, queue, config.queuePartitions);
      adopted.add(queue);
    }
  }
  for (const spec of specs) {
    const processor = await createProcessor(spec, { config, logger });
    processors.push(processor);
    const concurrency = spec.concurrency ?? config.concurrency;
    const layout = partitionKeys(spec.queue, config.queuePartitions);
    const results =
      spec.results === undefined
        ? undefined
        : partitionKeys(spec.results.queue, config.queuePartitions);
    // The shares add up to at most the processor's concurrency, which may cap a downstream
    // service: a concurrency below the partition count cannot be shared, so it is refused.
    const served = config.partitions.length;
    if (concurrency < served) {
      throw new Error(
        `route "${spec.route}": concurrency ${concurrency} is below the ${served} partitions this worker consumes; raise WORKER_CONCURRENCY (or the processor's concurrency) or narrow WORKER_PARTITIONS`,
      );
    }
    const share = Math.floor(concurrency / served);
    for (const p of config.partitions) {
      workers.push(
        createWorker({
          redis,
          config: { ...config, queueName: spec.queue, concurrency: share },
          logger,
          handler: processor.handler,
          route: spec.route,
          results: spec.results,
          observer: observerFor?.(spec.queue),
          partition: { keys: layout[p]!, results: results?.[p] },
        }),
      );
      queues.push(spec.queue);
    }
  }
  return {
    workers,
    get inFlight() {
      return workers.reduce((sum, worker) => sum + worker.inFlight, 0);
    },
    inFlightByQueue() {
      const byQueue = new Map<string, number>();
      workers.forEach((worker, i) => {
        byQueue.set(queues[i]!, (byQueue.get(queues[i]!) ?? 0) + worker.inFlight);
      });
      return byQueue;
    },
    async start() {
      await Promise.all(workers.map((worker) => worker.start()));
    },
    async close(graceMs) {
      await Promise.all(workers.map((worker) => worker.close(graceMs)));
      await Promise.allSettled(processors.map((processor) => processor.close()));
    },
  };
}
