// Reads an HTTP Retry-After header (RFC 9110 §10.2.3) into the delay a RetryLater carries.

/** A server may not park an event for longer than this; past it the worker's own backoff rules. */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

const DELTA_SECONDS = /^\d+$/;
// An HTTP-date names its month and weekday; without letters, Date.parse would take "1.5" as a date.
const HAS_WORDS = /[a-z]{3}/i;

/**
 * The delay a Retry-After header asks for: delta seconds or an HTTP-date, capped at one hour;
 * 0 when the header is absent, invalid or already past.
 */
export function retryAfterMs(
  header: string | readonly string[] | undefined,
  nowMs: number = Date.now(),
): number {
  const value = (typeof header === "string" ? header : header?.[0])?.trim();
  if (!value) return 0;
  let delayMs: number;
  if (DELTA_SECONDS.test(value)) {
    delayMs = Number(value) * 1000;
  } else if (HAS_WORDS.test(value)) {
    const at = Date.parse(value);
    if (Number.isNaN(at)) return 0;
    delayMs = at - nowMs;
  } else {
    return 0;
  }
  return Math.min(Math.max(delayMs, 0), MAX_RETRY_AFTER_MS);
}
