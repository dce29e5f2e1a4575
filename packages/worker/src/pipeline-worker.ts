// The worker process's consumers: one per processor of the pipeline file that WORKER_ROUTES
// selects, each on its route's queue with its own concurrency, so a slow processor never
// takes another's slots. Without a pipeline file there is one, today's worker.
import type { Pipeline } from "@eventpipe/pipeline";
import { selectProcessors } from "@eventpipe/pipeline";
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
  for (const spec of selectProcessors(pipeline, config.routes)) {
    const processor = await createProcessor(spec, { config, logger });
    processors.push(processor);
    workers.push(
      createWorker({
        redis,
        config: {
          ...config,
          queueName: spec.queue,
          concurrency: spec.concurrency ?? config.concurrency,
        },
        logger,
        handler: processor.handler,
        route: spec.route,
        results: spec.results,
        observer: observerFor?.(spec.queue),
      }),
    );
    queues.push(spec.queue);
  }
  return {
    workers,
    get inFlight() {
      return workers.reduce((sum, worker) => sum + worker.inFlight, 0);
    },
    inFlightByQueue: () => new Map(workers.map((worker, i) => [queues[i]!, worker.inFlight])),
    async start() {
      await Promise.all(workers.map((worker) => worker.start()));
    },
    async close(graceMs) {
      await Promise.all(workers.map((worker) => worker.close(graceMs)));
      await Promise.allSettled(processors.map((processor) => processor.close()));
    },
  };
}
