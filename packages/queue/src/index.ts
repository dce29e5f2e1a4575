export type { QueueAudit } from "./audit.js";
export { auditQueue } from "./audit.js";
export type { DecodedEnvelope } from "./codec.js";
export { decodeEnvelope, encodeEnvelope, encodeNewEvent, encodeReceivedEvent } from "./codec.js";
export type { CollectorSnapshot } from "./collectors.js";
export {
  COLLECTOR_STALE_MS,
  COLLECTORS_KEY,
  forgetCollector,
  readCollectors,
  reportCollector,
} from "./collectors.js";
export type {
  ClaimRequest,
  Completion,
  Heartbeat,
  QueueStore,
  RecoverOptions,
  RecoverResult,
} from "./commands.js";
export { createQueueStore } from "./commands.js";
export type { DeadLetter, DeadLetterMeta, DeadLetterReason } from "./dead-letter.js";
export { decodeDeadLetter, encodeDeadLetter } from "./dead-letter.js";
export type { DeadLetterFilter, QueueDeadLetter } from "./dead-letter-admin.js";
export {
  countQueueDeadLetters,
  listDeadLetters,
  listQueueDeadLetters,
  purgeDeadLetterEntries,
  purgeDeadLetters,
  purgeQueueDeadLetterEntries,
  purgeQueueDeadLetters,
  replayDeadLetterEntries,
  replayDeadLetters,
  replayQueueDeadLetterEntries,
  replayQueueDeadLetters,
} from "./dead-letter-admin.js";
export type { EnqueueEntry, EnqueueLimits, EnqueueResult, Enqueuer } from "./enqueue.js";
export { createEnqueuer } from "./enqueue.js";
export type { Env, LogLevel } from "./env.js";
export {
  ConfigError,
  readEnum,
  readHostPort,
  readInteger,
  readList,
  readLogLevel,
  readOptionalHostPort,
  readOptionalString,
  readString,
} from "./env.js";
export { BacklogFullError, EnvelopeDecodeError } from "./errors.js";
export type { QueueKeys } from "./keys.js";
export { queueKeys } from "./keys.js";
export { stopOnSignals } from "./lifecycle.js";
export type { ListenedEvent, ListenerOptions, QueueListener, Renewal } from "./listener.js";
export { createListener, LISTENER_BUFFER } from "./listener.js";
export type { ScriptFile } from "./lua-scripts.js";
export { defineScripts } from "./lua-scripts.js";
export type { LayoutUse } from "./partitions.js";
export {
  adoptPartitionCount,
  MAX_QUEUE_PARTITIONS,
  PartitionCountError,
  partitionCountKey,
  partitionKeys,
  partitionOf,
  readPartitionCount,
  readQueuePartitions,
  readRecordedCount,
  recordedPartitions,
} from "./partitions.js";
export type { QueueState } from "./queue-state.js";
export { readQueueState, readQueueStateOf } from "./queue-state.js";
export type { RedisConnection, RedisRole } from "./redis-connection.js";
export {
  connectRedis,
  describeRedis,
  duplicateConnection,
  isClusterClient,
  REDIS_DEFAULTS,
  readRedisConnection,
} from "./redis-connection.js";
export type { PartitionStats, QueueStats, WorkerStats } from "./stats.js";
export { DEFAULT_QUEUE_NAME, readQueueStats, readQueueStatsOf } from "./stats.js";
