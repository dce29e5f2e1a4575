// The collector's typed errors and the one place that turns any error into a gRPC status.
// Only these statuses reach clients; anything unexpected becomes INTERNAL with a generic
// message and is logged in full by the caller.

import { BacklogFullError } from "@eventpipe/queue";
import { Metadata, type ServiceError, status } from "@grpc/grpc-js";

export class RedisUnavailableError extends Error {
  override readonly name = "RedisUnavailableError";
  readonly code = "EP_REDIS_UNAVAILABLE";
  constructor(
    readonly stored: number,
    cause: unknown,
  ) {
    super(
      `Redis is unreachable; ${stored} events of this call were stored before the failure, the rest were not: retry them`,
      { cause },
    );
  }
}

/**
 * REDIS_WAIT_REPLICAS: the chunk is on the primary, but not enough replicas confirmed it in
 * time, so it is not acknowledged; a resend is absorbed by deduplication.
 */
export class NotReplicatedError extends RedisUnavailableError {
  constructor(
    stored: number,
    readonly replicas: number,
    readonly wanted: number,
    readonly timeoutMs: number,
  ) {
    super(stored, new Error(`${replicas} of ${wanted} replicas confirmed within ${timeoutMs} ms`));
    this.message = `Redis replicas did not confirm the write in time (${replicas} of ${wanted} within ${timeoutMs} ms, REDIS_WAIT_REPLICAS); ${stored} events of this call were confirmed, the rest were not: retry them`;
  }
}

export class RedisOutOfMemoryError extends Error {
  override readonly name = "RedisOutOfMemoryError";
  readonly code = "EP_REDIS_FULL";
  constructor(cause: unknown) {
    super(
      "Redis is at maxmemory and refused the write (nothing of it was stored): retry later, add workers, or give Redis more memory",
      { cause },
    );
  }
}

export class StreamIdleError extends Error {
  override readonly name = "StreamIdleError";
  readonly code = "EP_STREAM_IDLE";
  constructor(readonly idleMs: number) {
    super(`no message for ${idleMs} ms; the stream was ended (STREAM_IDLE_TIMEOUT_MS)`);
  }
}

export class ShuttingDownError extends Error {
  override readonly name = "ShuttingDownError";
  readonly code = "EP_SHUTTING_DOWN";
  constructor(readonly stored: number) {
    super(
      `the collector is shutting down; ${stored} events of this call were stored, the rest were not: retry them`,
    );
  }
}

export class StreamCancelledError extends Error {
  override readonly name = "StreamCancelledError";
  readonly code = "EP_STREAM_CANCELLED";
  constructor() {
    super("the client cancelled the stream");
  }
}

export const RETRY_AFTER_METADATA_KEY = "retry-after-ms";

export interface GrpcFailure {
  readonly error: Partial<ServiceError>;
  /** False for failures a client caused or expects; true when the server should log loudly. */
  readonly unexpected: boolean;
}

export function toGrpcStatus(error: unknown, retryAfterMs: number): GrpcFailure {
  const metadata = new Metadata();
  if (error instanceof BacklogFullError || error instanceof RedisOutOfMemoryError) {
    metadata.set(RETRY_AFTER_METADATA_KEY, String(retryAfterMs));
    return {
      error: { code: status.RESOURCE_EXHAUSTED, details: error.message, metadata },
      unexpected: false,
    };
  }
  if (error instanceof RedisUnavailableError || error instanceof ShuttingDownError) {
    metadata.set(RETRY_AFTER_METADATA_KEY, String(retryAfterMs));
    return {
      error: { code: status.UNAVAILABLE, details: error.message, metadata },
      unexpected: false,
    };
  }
  if (error instanceof StreamIdleError) {
    return { error: { code: status.DEADLINE_EXCEEDED, details: error.message }, unexpected: false };
  }
  if (error instanceof StreamCancelledError) {
    return { error: { code: status.CANCELLED, details: error.message }, unexpected: false };
  }
  return {
    error: { code: status.INTERNAL, details: "internal error; the collector logged the details" },
    unexpected: true,
  };
}
