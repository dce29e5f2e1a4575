// The HTTP door's one place that turns an error into a status, headers and a JSON body: the
// twin of toGrpcStatus (../errors.ts). Only these answers reach clients; anything unexpected
// becomes 500 with a generic message and is logged in full by the error handler.
import { BacklogFullError } from "@eventpipe/queue";
import {
  ConcurrentSchemaChangeError,
  IncompatibleSchemaError,
  InvalidSchemaError,
} from "@eventpipe/schemas";
import type { CollectorConfig } from "../config.js";
import { RedisOutOfMemoryError, RedisUnavailableError, ShuttingDownError } from "../errors.js";
import { isTransientReplyError } from "../ingest.js";
import { IngestFailedError } from "./ingest-request.js";

/** A client mistake the door found itself (bad body, bad parameter...): its status and words. */
export class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    /** More fields for the JSON body. */
    readonly extra: Readonly<Record<string, unknown>> = {},
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, extra?: Record<string, unknown>) =>
  new HttpError(400, "EP_HTTP_BAD_REQUEST", message, extra);

export const notFound = (message: string) => new HttpError(404, "EP_HTTP_NOT_FOUND", message);

export interface HttpFailure {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Readonly<Record<string, unknown>>;
  /** True when the server should log loudly (a bug, not a client's or Redis's condition). */
  readonly unexpected: boolean;
}

/** Retry-After in whole seconds, rounded up (RFC 9110 allows no fractions). */
export function retryAfterSeconds(retryAfterMs: number): string {
  return String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
}

const codeOf = (error: Error) => (error as { code?: unknown }).code;

/**
 * ioredis errors that mean Redis did not answer (closed connection, no offline queue, a
 * loading or failing-over server), for registry calls that reach Redis without the ingest
 * path's own mapping.
 */
export function isRedisConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "ReplyError") return isTransientReplyError(error);
  return (
    error.name === "MaxRetriesPerRequestError" ||
    /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE/.test(
      error.message,
    )
  );
}

export function toHttpFailure(
  error: unknown,
  config: Pick<CollectorConfig, "retryAfterMs" | "maxMessageBytes">,
): HttpFailure {
  const retry = { "retry-after": retryAfterSeconds(config.retryAfterMs) };
  if (error instanceof IngestFailedError) {
    // The status of the cause, with what the request stored all the same and the ids the
    // collector made, so a client can resend exactly those events (deduplicated by id).
    const inner = toHttpFailure(error.cause, config);
    const body: Record<string, unknown> = { ...inner.body, stored: error.stored };
    if (error.assignedIds.length > 0) body.assignedIds = error.assignedIds;
    return { ...inner, body };
  }
  if (error instanceof HttpError) {
    return {
      statusCode: error.statusCode,
      headers: error.headers,
      body: { error: error.message, code: error.code, ...error.extra },
      unexpected: false,
    };
  }
  if (error instanceof BacklogFullError || error instanceof RedisOutOfMemoryError) {
    return {
      statusCode: 429,
      headers: retry,
      body: { error: error.message, code: error.code, stored: 0 },
      unexpected: false,
    };
  }
  if (error instanceof RedisUnavailableError || error instanceof ShuttingDownError) {
    return {
      statusCode: 503,
      headers: retry,
      body: { error: error.message, code: error.code, stored: error.stored },
      unexpected: false,
    };
  }
  if (isRedisConnectionError(error)) {
    return {
      statusCode: 503,
      headers: retry,
      body: { error: "Redis is unreachable: retry later", code: "EP_REDIS_UNAVAILABLE" },
      unexpected: false,
    };
  }
  if (error instanceof InvalidSchemaError) {
    return {
      statusCode: 422,
      headers: {},
      body: { error: error.message, code: error.code, reason: error.reason },
      unexpected: false,
    };
  }
  if (error instanceof IncompatibleSchemaError) {
    const { mode, against, breaks } = error.report;
    return {
      statusCode: 409,
      headers: {},
      body: { error: error.message, code: error.code, mode, against, breaks },
      unexpected: false,
    };
  }
  if (error instanceof ConcurrentSchemaChangeError) {
    // Other registrations of the type kept winning the race: the client may simply retry.
    return {
      statusCode: 409,
      headers: retry,
      body: { error: error.message, code: error.code, breaks: [] },
      unexpected: false,
    };
  }
  if (error instanceof Error && codeOf(error) === "FST_ERR_CTP_BODY_TOO_LARGE") {
    return {
      statusCode: 413,
      headers: {},
      body: {
        error: `the body is larger than ${config.maxMessageBytes} bytes (MAX_MESSAGE_BYTES): send fewer events per request`,
        code: "EP_HTTP_BODY_TOO_LARGE",
      },
      unexpected: false,
    };
  }
  // Fastify's own client errors (415 for a content type no route takes, 400 for a content
  // length that lies...) carry a 4xx statusCode and an FST_ code; their messages are for clients.
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  const code = error instanceof Error ? codeOf(error) : undefined;
  if (
    typeof code === "string" &&
    code.startsWith("FST_") &&
    typeof status === "number" &&
    status >= 400 &&
    status < 500
  ) {
    return {
      statusCode: status,
      headers: {},
      body: { error: (error as Error).message, code },
      unexpected: false,
    };
  }
  return {
    statusCode: 500,
    headers: {},
    body: { error: "internal error; the collector logged the details", code: "EP_INTERNAL" },
    unexpected: true,
  };
}
