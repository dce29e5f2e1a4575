// The worker process's consumers: one per processor of the pipeline file that WORKER_ROUTES
// selects, each on its route's queue with its own concurrency, so a slow processor never
// takes another's slots. Without a pipeline file there is one, today's worker.
import type { Pipeline } from "@eventpipe/pipeline";
import { selectProcessors } from "@eventpipe/pipeline";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { WorkerConfig } from "./config.js";
import { createProcessor, type Processor } from "./processors/index.js";
import { createWorker, type Worker } from "./worker.js";

export interface PipelineWorkers {
  readonly workers: readonly Worker[];
  /** Events held by all consumers. */
  readonly inFlight: number;
  start(): Promise<void>;
  /** Closes every consumer (each with the grace period), then the processors' connections. */
  close(graceMs?: number): Promise<void>;
}

export async function createPipelineWorkers({
  redis,
  config,
  logger,
  pipeline = config.pipeline,
}: {
  readonly redis: Redis;
  readonly config: WorkerConfig;
  readonly logger: Logger;
  readonly pipeline?: Pipeline;
}): Promise<PipelineWorkers> {
  const processors: Processor[] = [];
  const workers: Worker[] = [];
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
      }),
    );
  }
  return {
    workers,
    get inFlight() {
      return workers.reduce((sum, worker) => sum + worker.inFlight, 0);
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
