// What a caller of the HTTP proxy hears when the master API does not answer: 504 when it took
// longer than the route's timeoutMs (or to connect), 502 for every other way of not answering
// (refused, reset, name not found, an answer that is not HTTP). Both in the door's JSON error
// shape; the cause's own message stays in the collector's log.
import { HttpError } from "../http/errors.js";

const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  // reply-from's names for undici's headers timeout, its own request timeouts, and connect.
  "FST_REPLY_FROM_GATEWAY_TIMEOUT",
  "FST_REPLY_FROM_TIMEOUT",
  "FST_REPLY_FROM_HTTP_REQUEST_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "ETIMEDOUT",
]);

/** reply-from wraps undici's error; the code that says what happened is on either one. */
export function upstreamErrorCode(error: Error): string {
  const cause = (error as { cause?: unknown }).cause;
  const causeCode = cause instanceof Error ? (cause as { code?: unknown }).code : undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && TIMEOUT_CODES.has(code)) return code;
  if (typeof causeCode === "string") return causeCode;
  return typeof code === "string" ? code : "unknown";
}

export function isUpstreamTimeout(code: string): boolean {
  return TIMEOUT_CODES.has(code);
}

export function upstreamFailure(code: string, timeoutMs: number): HttpError {
  if (isUpstreamTimeout(code)) {
    return new HttpError(
      504,
      "EP_PROXY_UPSTREAM_TIMEOUT",
      `the upstream did not answer within ${timeoutMs} ms (the proxy route's timeoutMs)`,
    );
  }
  return new HttpError(
    502,
    "EP_PROXY_UPSTREAM_UNAVAILABLE",
    `the upstream could not be reached or did not answer (${code}); retry later`,
  );
}
