export { decodeEnvelope, encodeEnvelope, encodeNewEvent } from "./codec.js";
export type { DecodedEnvelope } from "./codec.js";
export { createQueueStore } from "./commands.js";
export type {
  EnqueueEntry,
  EnqueueLimits,
  EnqueueResult,
  QueueStore,
  RecoverOptions,
  RecoverResult,
} from "./commands.js";
export { decodeDeadLetter, encodeDeadLetter } from "./dead-letter.js";
export type { DeadLetter, DeadLetterMeta, DeadLetterReason } from "./dead-letter.js";
export {
  ConfigError,
  readBoolean,
  readEnum,
  readHostPort,
  readInteger,
  readList,
  readOptionalString,
  readString,
} from "./env.js";
export type { Env } from "./env.js";
export { BacklogFullError, EnvelopeDecodeError } from "./errors.js";
export { queueKeys } from "./keys.js";
export type { QueueKeys } from "./keys.js";
export { REDIS_DEFAULTS, connectRedis, describeRedis, readRedisConnection } from "./redis-connection.js";
export type { RedisConnection, RedisRole } from "./redis-connection.js";
export { DEFAULT_QUEUE_NAME, readQueueStats } from "./stats.js";
export type { QueueStats, WorkerStats } from "./stats.js";
