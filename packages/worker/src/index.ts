export { WORKER_DEFAULTS, defaultWorkerId, readWorkerConfig } from "./config.js";
export type { LogLevel, WorkerConfig } from "./config.js";
export { createSimulatedWorkHandler, loadHandlerModule } from "./handler.js";
export type { EventContext, EventHandler } from "./handler.js";
export { createLogger } from "./logger.js";
export { createWorker } from "./worker.js";
export type { Worker, WorkerCounters, WorkerDependencies } from "./worker.js";
