// Environment parsing shared by the services: each reader names the variable and the value
// it refused, so a bad setting stops a service at start with a message that says what to fix.

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly code = "EP_CONFIG";
  constructor(
    readonly variable: string,
    readonly value: string,
    expected: string,
  ) {
    super(`${variable}=${JSON.stringify(value)} is invalid: expected ${expected}`);
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

export function readString(env: Env, name: string, fallback: string): string {
  return raw(env, name) ?? fallback;
}

export function readOptionalString(env: Env, name: string): string | undefined {
  return raw(env, name);
}

export function readInteger(
  env: Env,
  name: string,
  fallback: number,
  { min = 0, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {},
): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new ConfigError(name, value, `an integer from ${min} to ${max}`);
  }
  return parsed;
}

export function readEnum<T extends string>(
  env: Env,
  name: string,
  fallback: T,
  allowed: readonly T[],
): T {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(name, value, `one of ${allowed.join(", ")}`);
  }
  return value as T;
}

export function readList(env: Env, name: string): readonly string[] {
  const value = raw(env, name);
  if (value === undefined) return [];
  return value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** "host:port" with a port from 0 to 65535; IPv6 hosts in brackets. */
export function readHostPort(env: Env, name: string, fallback: string): string {
  const value = raw(env, name) ?? fallback;
  const match = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(value);
  if (match === null || Number(match[2]) > 65535) {
    throw new ConfigError(name, value, "host:port, for example 0.0.0.0:50051");
  }
  return value;
}

/** host:port, or undefined when the variable is set but empty (that listener is off). */
export function readOptionalHostPort(env: Env, name: string, fallback: string): string | undefined {
  return env[name]?.trim() === "" ? undefined : readHostPort(env, name, fallback);
}

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
const LOG_LEVELS: readonly LogLevel[] = [
  "fatal",
  "error",
  "warn",
  "info",
  "debug",
  "trace",
  "silent",
];

/** LOG_LEVEL, a pino level. */
export function readLogLevel(env: Env, fallback: LogLevel = "info"): LogLevel {
  return readEnum(env, "LOG_LEVEL", fallback, LOG_LEVELS);
}
