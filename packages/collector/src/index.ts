export type { AuthOutcome, Authorization, Scope, TokenEntry } from "./auth.js";
export { authenticate, authorize, readTokens } from "./auth.js";
export type { Collector, CollectorDependencies } from "./collector.js";
export { createCollector } from "./collector.js";
export type { CollectorConfig, EventLimits } from "./config.js";
export { COLLECTOR_DEFAULTS, readCollectorConfig } from "./config.js";
export type { IngestCore } from "./core.js";
export {
  RETRY_AFTER_METADATA_KEY,
  RedisOutOfMemoryError,
  RedisUnavailableError,
  ShuttingDownError,
  StreamIdleError,
} from "./errors.js";
export type { EventView, IncomingBatch, IncomingEvent, IncomingPublish } from "./incoming.js";
export {
  decodeIncomingBatch,
  decodeIncomingEvent,
  decodeIncomingPublish,
  incomingFromEvent,
} from "./incoming.js";
export { createLogger } from "./logger.js";
export type { TlsFiles } from "./tls.js";
export { readTlsFiles, serverCredentials } from "./tls.js";
export type { EventProblem } from "./validate.js";
export { validateEvent } from "./validate.js";
