export type {
  FaultDirection,
  FaultMode,
  FaultProxy,
  FaultProxyOptions,
  FaultProxyStats,
  FaultProxyTarget,
} from "./fault-proxy.js";
export { startFaultProxy } from "./fault-proxy.js";
export type {
  LedgerCounts,
  LedgerProblem,
  LedgerVerdict,
  ProblemKind,
} from "./ledger.js";
export { formatVerdict, Ledger } from "./ledger.js";
export type { OutcomeSources, QueueLayout } from "./outcome.js";
export { recordingAcks, recordOutcome, waitUntilDrained } from "./outcome.js";
export type { HandledRecord } from "./records.js";
export { RECORDING_HANDLER, readRecords } from "./records.js";
export type { CrashMoment, RedisCrashOptions, RedisCrashResult } from "./redis-crash.js";
export { runRedisCrashRound } from "./redis-crash.js";
export type { ServiceName, ServiceProcess } from "./services.js";
export { spawnService, startCollectorProcess } from "./services.js";
