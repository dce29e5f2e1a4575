// Questions services ask of a loaded Pipeline.
import { PipelineError } from "./errors.js";
import type { Pipeline, ProcessorSpec } from "./types.js";

/** Every distinct queue: route queues, then result queues, in file order. */
export function queuesOf(pipeline: Pipeline): string[] {
  const queues = new Set(pipeline.routes.flatMap((route) => route.queues));
  for (const processor of pipeline.processors) {
    if (processor.results !== undefined) queues.add(processor.results.queue);
  }
  return [...queues];
}

/**
 * The processors one worker runs. `workerRoutes` is WORKER_ROUTES as a list of route names or
 * queue names (a queue picks one consumer of a fan-out route): undefined or empty means all.
 * A name no processor serves is an error rather than an idle worker.
 */
export function selectProcessors(
  pipeline: Pipeline,
  workerRoutes: readonly string[] | undefined,
): ProcessorSpec[] {
  if (workerRoutes === undefined || workerRoutes.length === 0) return [...pipeline.processors];
  const served = [
    ...new Set(pipeline.processors.flatMap((processor) => [processor.route, processor.queue])),
  ];
  const unknown = [...new Set(workerRoutes)].filter((name) => !served.includes(name));
  if (unknown.length > 0) {
    const serving = served.length > 0 ? served.join(", ") : "none (the file has no processors)";
    throw new PipelineError(
      unknown.map(
        (name) =>
          `WORKER_ROUTES names "${name}", which no processor serves; processors serve: ${serving}`,
      ),
    );
  }
  return pipeline.processors.filter(
    (processor) => workerRoutes.includes(processor.route) || workerRoutes.includes(processor.queue),
  );
}
