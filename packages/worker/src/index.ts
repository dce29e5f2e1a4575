export type { WorkerConfig } from "./config.js";
export { defaultWorkerId, readWorkerConfig, WORKER_DEFAULTS } from "./config.js";
export { connectWorkerRedis } from "./connections.js";
export type { EventContext, EventHandler, HandlerResult } from "./handler.js";
export {
  createSimulatedWorkHandler,
  loadHandlerModule,
  PermanentFailure,
  RetryLater,
} from "./handler.js";
export { createLogger } from "./logger.js";
export type { PipelineWorkers } from "./pipeline-worker.js";
export { createPipelineWorkers } from "./pipeline-worker.js";
export { signWebhook, verifyWebhook } from "./processors/signing.js";
export type { Worker, WorkerCounters, WorkerDependencies } from "./worker.js";
export { createWorker } from "./worker.js";
