export { PipelineError } from "./errors.js";
export { defaultPipeline, loadPipelineFile, readPipeline } from "./load-pipeline.js";
export { parsePipeline } from "./parse-pipeline.js";
export { prefixesOverlap, RESERVED_HTTP_PREFIXES } from "./parse-proxy.js";
export { capturesService, RESERVED_GRPC_SERVICES } from "./parse-proxy-grpc.js";
export { queuesOf, selectProcessors } from "./pipeline-queries.js";
export type {
  GrpcProxyRoute,
  HttpProxyRoute,
  ProxySettings,
} from "./proxy-types.js";
export { NO_PROXY, PROXY_DEFAULTS } from "./proxy-types.js";
export type { Router } from "./router.js";
export { compilePatterns as typeMatcher, createRouter } from "./router.js";
export type {
  GrpcProcessorOptions,
  HttpProcessorOptions,
  Pipeline,
  ProcessorSpec,
  ResultOutcome,
  ResultsTarget,
  Route,
} from "./types.js";
