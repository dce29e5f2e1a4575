import type { LogLevel } from "@eventpipe/queue";
import { type Logger, pino } from "pino";

export function createLogger(level: LogLevel, name: string): Logger {
  return pino({
    name,
    level,
    // Secrets never reach the log, whatever object a caller passes.
    redact: ["*.password", "*.token", "*.authorization", "redis.url"],
  });
}
