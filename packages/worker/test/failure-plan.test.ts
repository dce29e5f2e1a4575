import { describe, expect, it } from "vitest";
import { newEvent } from "../../producer/src/index.js";
import { decodeDeadLetter, decodeEnvelope, encodeNewEvent } from "../../queue/src/index.js";
import { planFailure, retryDelayMs } from "../src/failure-plan.js";
import { PermanentFailure, RetryLater } from "../src/handler.js";

const policy = { maxAttempts: 3, retryBaseDelayMs: 1000, retryMaxDelayMs: 10_000 };

describe("failure plan", () => {
  it("backs off exponentially with jitter, capped", () => {
    expect(retryDelayMs(1, policy, () => 0)).toBe(500);
    expect(retryDelayMs(1, policy, () => 1)).toBe(1000);
    expect(retryDelayMs(3, policy, () => 1)).toBe(4000);
    expect(retryDelayMs(20, policy, () => 1)).toBe(10_000);
  });

  it("retries with the errors recorded, then dead-letters at MAX_ATTEMPTS", () => {
    const event = newEvent("t");
    const where = { workerId: "w", sequence: 7, nowMs: 1_795_000_000_000 };
    const first = planFailure(encodeNewEvent(event, 1), new Error("boom 1"), policy, where);
    expect(first).toMatchObject({ kind: "retry", attempts: 1 });
    if (first.kind !== "retry") throw new Error("expected a retry");
    const stored = decodeEnvelope(first.envelope).stored;
    expect(stored).toMatchObject({
      attempts: 1,
      firstError: "Error: boom 1",
      lastError: "Error: boom 1",
      retryToken: "w:7",
    });

    const second = planFailure(first.envelope, new Error("boom 2"), policy, where);
    if (second.kind !== "retry") throw new Error("expected a retry");
    const third = planFailure(second.envelope, "boom 3", policy, where);
    expect(third.kind).toBe("dead-letter");
    if (third.kind !== "dead-letter") throw new Error("expected a dead letter");
    const entry = decodeDeadLetter(third.entry);
    expect(entry.meta).toMatchObject({
      reason: "max_attempts",
      attempts: 3,
      firstError: "Error: boom 1",
      lastError: "boom 3",
      worker: "w",
    });
    expect(entry.stored?.event).toEqual(event);
  });

  it("waits as long as a RetryLater asks, still counting the attempt", () => {
    const where = { workerId: "w", sequence: 1, nowMs: 1_795_000_000_000 };
    const plan = planFailure(
      encodeNewEvent(newEvent("t"), 1),
      new RetryLater("HTTP 503 from http://api/x: busy", 7000),
      policy,
      where,
    );
    expect(plan).toMatchObject({ kind: "retry", attempts: 1, delayMs: 7000 });
  });

  it("dead-letters a PermanentFailure at once, as rejected with its status", () => {
    const where = { workerId: "w", sequence: 1, nowMs: 1_795_000_000_000 };
    const plan = planFailure(
      encodeNewEvent(newEvent("t"), 1),
      new PermanentFailure("HTTP 404 from http://api/x: no such user", 404),
      policy,
      where,
    );
    if (plan.kind !== "dead-letter") throw new Error("expected a dead letter");
    expect(plan.attempts).toBe(1);
    expect(decodeDeadLetter(plan.entry).meta).toMatchObject({
      reason: "rejected",
      status: 404,
      message: "HTTP 404 from http://api/x: no such user",
      attempts: 1,
    });
  });
});
