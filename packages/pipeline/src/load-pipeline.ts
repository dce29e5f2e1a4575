// Where a service gets its Pipeline: the file EVENTPIPE_CONFIG names, or, without one, a single
// catch-all route that keeps today's one-queue behaviour.
import { readFileSync } from "node:fs";
import { PipelineError } from "./errors.js";
import { parsePipeline } from "./parse-pipeline.js";
import { NO_PROXY } from "./proxy-types.js";
import { PIPELINE_DEFAULTS, type Pipeline } from "./types.js";

const FALLBACK_QUEUE = "event_queue";

export function loadPipelineFile(path: string, env: NodeJS.ProcessEnv = process.env): Pipeline {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : String(error);
    throw new PipelineError([`${path}: cannot read the pipeline file: ${reason}`]);
  }
  return parsePipeline(text, path, env);
}

export function defaultPipeline(queueName: string): Pipeline {
  const name = PIPELINE_DEFAULTS.defaultRoute;
  return Object.freeze({
    source: undefined,
    routes: Object.freeze([
      Object.freeze({ name, types: Object.freeze(["*"]), queues: Object.freeze([queueName]) }),
    ]),
    processors: Object.freeze([
      Object.freeze({
        kind: "default" as const,
        route: name,
        queue: queueName,
        concurrency: undefined,
        results: undefined,
      }),
    ]),
    proxy: NO_PROXY,
  });
}

/** EVENTPIPE_CONFIG names the file; without it, one route to QUEUE_NAME (or defaultQueue). */
export function readPipeline(
  env: NodeJS.ProcessEnv = process.env,
  defaultQueue?: string,
): Pipeline {
  const path = env.EVENTPIPE_CONFIG?.trim();
  if (path) return loadPipelineFile(path, env);
  return defaultPipeline(env.QUEUE_NAME || defaultQueue || FALLBACK_QUEUE);
}
