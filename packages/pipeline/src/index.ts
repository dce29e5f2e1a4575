export { PipelineError } from "./errors.js";
export { defaultPipeline, loadPipelineFile, readPipeline } from "./load-pipeline.js";
export { parsePipeline } from "./parse-pipeline.js";
export { queuesOf, selectProcessors } from "./pipeline-queries.js";
export type { Router } from "./router.js";
export { createRouter } from "./router.js";
export type {
  GrpcProcessorOptions,
  HttpProcessorOptions,
  Pipeline,
  ProcessorSpec,
  ResultOutcome,
  ResultsTarget,
  Route,
} from "./types.js";
