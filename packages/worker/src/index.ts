export type { WorkerConfig } from "./config.js";
export { defaultWorkerId, readWorkerConfig, WORKER_DEFAULTS } from "./config.js";
export { connectWorkerRedis } from "./connections.js";
export type { EventContext, EventHandler } from "./handler.js";
export { createSimulatedWorkHandler, loadHandlerModule } from "./handler.js";
export { createLogger } from "./logger.js";
export type { Worker, WorkerCounters, WorkerDependencies } from "./worker.js";
export { createWorker } from "./worker.js";
