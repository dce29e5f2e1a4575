// What a caller of the HTTP proxy hears when the master API does not answer: 504 when it took
// longer than the route's timeoutMs (to connect, or between two signs of life), 502 for every
// other way of not answering (refused, reset, name not found, an answer that is not HTTP).
// Both in the door's JSON error shape; the cause's own message stays in the collector's log.
import { HttpError } from "../http/errors.js";

/** node's code for a socket idle past its timeout (the forwarder uses it for timeoutMs too). */
const TIMEOUT_CODES: ReadonlySet<string> = new Set(["ETIMEDOUT"]);

/** The error's code (ECONNREFUSED, ECONNRESET, ENOTFOUND, HPE_..., ETIMEDOUT), or "unknown". */
export function upstreamErrorCode(error: Error): string {
  const code = (error as { code?: unknown }).code;
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
