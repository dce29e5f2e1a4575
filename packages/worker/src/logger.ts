import type { LogLevel } from "@eventpipe/queue";
import { type Logger, pino } from "pino";

export function createLogger(level: LogLevel, name: string): Logger {
  return pino({ name, level, redact: ["*.password", "*.token", "redis.url"] });
}
