import { type Logger, pino } from "pino";
import type { LogLevel } from "./config.js";

export function createLogger(level: LogLevel, name: string): Logger {
  return pino({ name, level, redact: ["*.password", "*.token", "redis.url"] });
}
