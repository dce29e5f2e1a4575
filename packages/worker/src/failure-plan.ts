// What happens to an event whose handler threw: another attempt after an exponential,
// jittered delay (or the delay a RetryLater asks for), or the dead-letter list once
// MAX_ATTEMPTS is reached or at once for a PermanentFailure. Pure: the worker carries the
// plan out against Redis.
import {
  type DeadLetterMeta,
  type DeadLetterReason,
  decodeEnvelope,
  encodeDeadLetter,
  encodeEnvelope,
} from "@eventpipe/queue";
import { PermanentFailure, RetryLater } from "./handler.js";

const MAX_ERROR_LENGTH = 2000;
/** The longest wait a RetryLater (an HTTP Retry-After, a processor's retry_after_ms) gets. */
const MAX_RETRY_LATER_MS = 3_600_000;

export function errorText(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH)}…` : text;
}

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
}

export type FailurePlan =
  | {
      readonly kind: "retry";
      readonly attempts: number;
      readonly delayMs: number;
      readonly envelope: Buffer;
    }
  | {
      readonly kind: "dead-letter";
      readonly reason: DeadLetterReason;
      readonly attempts: number;
      readonly entry: Buffer;
      /** What the dead-letter entry says, for a caller waiting on the event. */
      readonly message: string;
    };

/** Half the capped exponential delay, plus up to as much again at random: a burst spreads out. */
export function retryDelayMs(attempts: number, policy: RetryPolicy, random = Math.random): number {
  const capped = Math.min(policy.retryBaseDelayMs * 2 ** (attempts - 1), policy.retryMaxDelayMs);
  return capped / 2 + random() * (capped / 2);
}

export function planFailure(
  raw: Buffer,
  error: unknown,
  policy: RetryPolicy,
  where: { readonly workerId: string; readonly sequence: number; readonly nowMs: number },
): FailurePlan {
  const { stored, deliveries } = decodeEnvelope(raw);
  const attempts = stored.attempts + 1;
  const message = errorText(error);
  const now = BigInt(where.nowMs);
  const updated = {
    ...stored,
    attempts,
    firstError: stored.firstError || message,
    firstFailedAtMs: stored.firstFailedAtMs || now,
    lastError: message,
    lastFailedAtMs: now,
    // Unique per delivery, so the delayed set never merges two retries of equal content.
    retryToken: `${where.workerId}:${where.sequence}`,
  };
  const envelope = encodeEnvelope(updated, deliveries);
  const rejected = error instanceof PermanentFailure;
  if (attempts < policy.maxAttempts && !rejected) {
    const delayMs =
      error instanceof RetryLater && error.retryAfterMs > 0
        ? Math.min(error.retryAfterMs, MAX_RETRY_LATER_MS)
        : retryDelayMs(attempts, policy);
    return { kind: "retry", attempts, delayMs, envelope };
  }
  const meta: DeadLetterMeta = {
    reason: rejected ? "rejected" : "max_attempts",
    message: rejected
      ? error.message
      : `handler failed ${attempts} times (MAX_ATTEMPTS=${policy.maxAttempts})`,
    ...(rejected && error.status !== undefined ? { status: error.status } : {}),
    worker: where.workerId,
    deadLetteredAtMs: where.nowMs,
    attempts,
    deliveries,
    firstError: updated.firstError,
    lastError: message,
    firstFailedAtMs: Number(updated.firstFailedAtMs),
    lastFailedAtMs: where.nowMs,
  };
  return {
    kind: "dead-letter",
    reason: meta.reason,
    attempts,
    entry: encodeDeadLetter(meta, envelope),
    message: `${meta.reason}: ${meta.message}`,
  };
}

/** The dead-letter entry for a queue entry that is not an envelope at all. */
export function undecodableEntry(
  raw: Buffer,
  error: unknown,
  workerId: string,
  nowMs: number,
): Buffer {
  return encodeDeadLetter(
    { reason: "undecodable", message: errorText(error), worker: workerId, deadLetteredAtMs: nowMs },
    raw,
  );
}
