// The Call RPC and POST /v1/call answered: each caller gets its own answer, error answers,
// answers past the deadline and dead-lettered events, through the pipeline of
// test-support/call-pipeline.ts (collectors, workers and processors of this file's own).
import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { Outcome } from "../packages/proto/src/index.js";
import { listDeadLetters, queueKeys } from "../packages/queue/src/index.js";
import {
  CALL_DEADLINE_MS,
  eventOf,
  grpcCall,
  httpCall,
  PROBLEM_CONTENT_TYPE,
  useCallPipeline,
} from "../test-support/call-pipeline.js";

const pipeline = useCallPipeline();

describe("Call: every caller gets its own answer", () => {
  it("200 concurrent calls over gRPC and HTTP through two collectors each get their own reply", async () => {
    const { queues, echo, clientOf, untilDrained, a, b } = pipeline();
    const run = randomUUID().slice(0, 8);
    const type = `echo.roundtrip_${run}`;
    const grpcA = clientOf(a);
    const grpcB = clientOf(b);
    const plans = Array.from({ length: 200 }, (_, i) => ({
      id: `rt-${run}-${i}`,
      collector: i % 2 === 0 ? a : b,
      door: i % 4 < 2 ? ("grpc" as const) : ("http" as const),
      // Answers come back in another order than the calls went out.
      delayMs: String((i * 7) % 40),
      nonce: randomUUID(),
      i,
    }));

    const received = await Promise.all(
      plans.map(async (plan) => {
        const attributes = { "echo.delay-ms": plan.delayMs, "content-type": "text/plain" };
        if (plan.door === "grpc") {
          const client = plan.collector === a ? grpcA : grpcB;
          const payload = Buffer.from(`${plan.i} ${plan.nonce}`);
          const outcome = await grpcCall(
            client,
            eventOf(type, { eventId: plan.id, payload, attributes }),
          );
          return {
            id: plan.id,
            expected: { id: plan.id, body: payload.toString(), outcome: "success" },
            got: {
              id:
                outcome.reply?.eventId ?? `error ${outcome.error?.code}: ${outcome.error?.details}`,
              body: outcome.reply?.body.toString() ?? "",
              outcome: outcome.reply?.outcome === Outcome.OUTCOME_SUCCESS ? "success" : "other",
            },
          };
        }
        const payload = { i: plan.i, nonce: plan.nonce };
        const answer = await httpCall(plan.collector, {
          eventId: plan.id,
          type,
          payload,
          attributes,
        });
        return {
          id: plan.id,
          expected: { id: plan.id, body: JSON.stringify(payload), outcome: "success 200" },
          got: {
            id: answer.headers.get("eventpipe-event-id") ?? `no id, status ${answer.status}`,
            body: answer.text,
            outcome: `${answer.headers.get("eventpipe-outcome")} ${answer.status}`,
          },
        };
      }),
    );

    const wrong = received.filter(
      (call) => JSON.stringify(call.got) !== JSON.stringify(call.expected),
    );
    expect(wrong).toEqual([]);
    // Each event was processed once: 200 ids, 200 processed, nothing left behind.
    await untilDrained(queues.echo, type, 200);
    expect(echo.received).toBeGreaterThanOrEqual(200);
  });

  it("relays the echo processor's content type over HTTP", async () => {
    const { a } = pipeline();
    const answer = await httpCall(a, {
      type: "echo.content_type",
      payload: { hello: "world" },
      attributes: { "content-type": "application/json" },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toBe("application/json");
    expect(answer.headers.get("eventpipe-outcome")).toBe("success");
    // No id given: the collector made one and says which.
    expect(answer.headers.get("eventpipe-event-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(answer.text)).toEqual({ hello: "world" });
  });

  it("relays a module processor's answer: its status, body and content type", async () => {
    const { clientOf, a, b } = pipeline();
    const event = eventOf("recorded.answer");
    const grpc = await grpcCall(clientOf(b), event);
    expect(grpc.error).toBeUndefined();
    expect(grpc.reply).toMatchObject({
      eventId: event.eventId,
      outcome: Outcome.OUTCOME_SUCCESS,
      status: 202,
      headers: { "content-type": "text/plain; charset=utf-8" },
      message: "",
    });
    expect(grpc.reply?.body.toString()).toBe(`handled ${event.eventId}`);

    const id = `call-${randomUUID()}`;
    const http = await httpCall(a, { eventId: id, type: "recorded.answer" });
    expect(http.status).toBe(202);
    expect(http.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(http.headers.get("eventpipe-event-id")).toBe(id);
    expect(http.headers.get("eventpipe-outcome")).toBe("success");
    expect(http.text).toBe(`handled ${id}`);
  });
});

describe("Call: error answers", () => {
  it("echo.action=error: gRPC OUTCOME_ERROR with the body, HTTP 502 with the body and eventpipe-outcome error", async () => {
    const { redis, queues, clientOf, untilDrained, a, b } = pipeline();
    const type = `echo.error_${randomUUID().slice(0, 8)}`;
    const event = eventOf(type, {
      payload: Buffer.from("it went wrong"),
      attributes: { "echo.action": "error", "content-type": "text/plain" },
    });
    const grpc = await grpcCall(clientOf(a), event);
    expect(grpc.error).toBeUndefined();
    expect(grpc.reply).toMatchObject({ eventId: event.eventId, outcome: Outcome.OUTCOME_ERROR });
    expect(grpc.reply?.body.toString()).toBe("it went wrong");

    const id = `call-${randomUUID()}`;
    const http = await httpCall(b, {
      eventId: id,
      type,
      payload: "it went wrong too",
      attributes: { "echo.action": "error", "content-type": "text/plain" },
    });
    expect(http.status).toBe(502);
    expect(http.headers.get("eventpipe-outcome")).toBe("error");
    expect(http.headers.get("eventpipe-event-id")).toBe(id);
    expect(http.headers.get("content-type")).toBe("text/plain");
    expect(http.text).toBe('"it went wrong too"');
    // An error answer is an answer: processed, not retried nor dead-lettered.
    await untilDrained(queues.echo, type, 2);
    expect(await listDeadLetters(redis, queueKeys(queues.echo), { type })).toEqual([]);
  });

  it("an HTTP processor's 422 kept as an error result: relayed with its status, body and content type", async () => {
    const { queues, clientOf, eventsIn, untilDrained, a, b } = pipeline();
    const event = eventOf("form.invalid", { payload: Buffer.from("{}") });
    const grpc = await grpcCall(clientOf(b), event);
    expect(grpc.error).toBeUndefined();
    expect(grpc.reply).toMatchObject({
      eventId: event.eventId,
      outcome: Outcome.OUTCOME_ERROR,
      status: 422,
      headers: { "content-type": PROBLEM_CONTENT_TYPE },
    });
    expect(JSON.parse(grpc.reply!.body.toString())).toEqual({
      title: "invalid form",
      seen: event.eventId,
    });

    const id = `call-${randomUUID()}`;
    const http = await httpCall(a, { eventId: id, type: "form.invalid", payload: {} });
    expect(http.status).toBe(422);
    expect(http.headers.get("eventpipe-outcome")).toBe("error");
    expect(http.headers.get("content-type")).toBe(PROBLEM_CONTENT_TYPE);
    expect(JSON.parse(http.text)).toEqual({ title: "invalid form", seen: id });

    // Each answer stored once as an error result, in the same step as its ack.
    await untilDrained(queues.form, "form.invalid", 2);
    const results = await eventsIn(queues.formResults);
    expect(results.map((result) => result.eventId).sort()).toEqual([event.eventId, id].sort());
    for (const result of results) {
      expect(result.attributes).toMatchObject({
        "eventpipe.outcome": "error",
        "eventpipe.status": "422",
        "content-type": PROBLEM_CONTENT_TYPE,
      });
    }
  });
});

describe("Call: past the deadline", () => {
  it("a gRPC deadline shorter than the echo processor's delay: DEADLINE_EXCEEDED, processed once", async () => {
    const { queues, clientOf, untilDrained, a } = pipeline();
    const type = `echo.slow_${randomUUID().slice(0, 8)}`;
    const event = eventOf(type, { attributes: { "echo.delay-ms": "2000" } });
    // Long enough for the call to reach the collector on a busy machine (a deadline that ran
    // out on the way would leave nothing stored); far shorter than the processor's delay.
    const outcome = await grpcCall(clientOf(a), event, 500);
    expect(outcome.error?.code).toBe(status.DEADLINE_EXCEEDED);
    await untilDrained(queues.echo, type, 1);
  });

  it("HTTP past eventpipe-timeout-ms: 504 naming the event, which the echo processor still handles once", async () => {
    const { queues, untilDrained, b } = pipeline();
    const type = `echo.slow_http_${randomUUID().slice(0, 8)}`;
    const id = `call-${randomUUID()}`;
    const answer = await httpCall(
      b,
      { eventId: id, type, payload: "slow", attributes: { "echo.delay-ms": "1500" } },
      { "eventpipe-timeout-ms": "200" },
    );
    expect(answer.status).toBe(504);
    expect(answer.headers.get("eventpipe-event-id")).toBe(id);
    expect(JSON.parse(answer.text)).toMatchObject({ code: "EP_CALL_TIMEOUT" });
    await untilDrained(queues.echo, type, 1);
  });

  it("a held module processor: 504 and DEADLINE_EXCEEDED; once let go, each event is handled once", async () => {
    const { closeGate, openGate, timesHandled, untilHandled } = pipeline();
    const { queues, clientOf, untilDrained, a, b } = pipeline();
    const type = "recorded.held";
    const httpId = `call-${randomUUID()}`;
    const grpcEvent = eventOf(type);
    closeGate(httpId);
    closeGate(grpcEvent.eventId);

    const http = await httpCall(a, { eventId: httpId, type }, { "eventpipe-timeout-ms": "100" });
    expect(http.status).toBe(504);
    const grpc = await grpcCall(clientOf(b), grpcEvent, 500);
    expect(grpc.error?.code).toBe(status.DEADLINE_EXCEEDED);

    // The processor has them (the callers gave up, the events did not go away)...
    await untilHandled(httpId);
    await untilHandled(grpcEvent.eventId);
    openGate(httpId);
    openGate(grpcEvent.eventId);
    // ...and finishes each once.
    await untilDrained(queues.recorded, type, 2);
    expect([timesHandled(httpId), timesHandled(grpcEvent.eventId)]).toEqual([1, 1]);
  });

  it("CALL_TIMEOUT_MS bounds the wait when the caller's deadline is longer (the collector's own DEADLINE_EXCEEDED)", async () => {
    const { closeGate, openGate, timesHandled, untilHandled } = pipeline();
    const { queues, clientOf, untilDrained, short } = pipeline();
    const type = "recorded.collector_timeout";
    const event = eventOf(type);
    closeGate(event.eventId);
    const outcome = await grpcCall(clientOf(short), event, CALL_DEADLINE_MS);
    expect(outcome.error?.code).toBe(status.DEADLINE_EXCEEDED);
    // The collector's words, not grpc-js's "Deadline exceeded" for a client-side deadline.
    expect(outcome.error?.details).toContain("will be processed once");

    const id = `call-${randomUUID()}`;
    closeGate(id);
    const http = await httpCall(short, { eventId: id, type });
    expect(http.status).toBe(504);

    await untilHandled(event.eventId);
    await untilHandled(id);
    openGate(event.eventId);
    openGate(id);
    await untilDrained(queues.recorded, type, 2);
    expect([timesHandled(event.eventId), timesHandled(id)]).toEqual([1, 1]);
  });
});

describe("Call: dead-lettered", () => {
  it("echo.action=dead-letter: gRPC OUTCOME_DEAD_LETTERED with the message, HTTP 502", async () => {
    const { redis, queues, clientOf, a, b } = pipeline();
    const type = `echo.dead_${randomUUID().slice(0, 8)}`;
    const event = eventOf(type, { attributes: { "echo.action": "dead-letter" } });
    const grpc = await grpcCall(clientOf(a), event);
    expect(grpc.error).toBeUndefined();
    expect(grpc.reply).toMatchObject({
      eventId: event.eventId,
      outcome: Outcome.OUTCOME_DEAD_LETTERED,
    });
    expect(grpc.reply?.message).toContain("asked to dead-letter");

    const id = `call-${randomUUID()}`;
    const http = await httpCall(b, {
      eventId: id,
      type,
      attributes: { "echo.action": "dead-letter" },
    });
    expect(http.status).toBe(502);
    expect(http.headers.get("eventpipe-event-id")).toBe(id);
    const body = JSON.parse(http.text) as { code: string; error: string };
    expect(body.code).toBe("EP_CALL_DEAD_LETTERED");
    expect(body.error).toContain("asked to dead-letter");

    // Both are in the echo queue's dead letters, once each, with reason "rejected".
    const dead = await listDeadLetters(redis, queueKeys(queues.echo), { type });
    expect(dead.map((entry) => entry.stored?.event?.eventId).sort()).toEqual(
      [event.eventId, id].sort(),
    );
    expect(dead.map((entry) => entry.meta.reason)).toEqual(["rejected", "rejected"]);
  });

  it("retries exhausted (echo.action=retry): DEAD_LETTERED with reason max_attempts, HTTP 502", async () => {
    const { redis, queues, clientOf, a, b } = pipeline();
    const type = `echo.retry_${randomUUID().slice(0, 8)}`;
    const attributes = { "echo.action": "retry", "echo.retry-after-ms": "20" };
    const event = eventOf(type, { attributes });
    const grpc = await grpcCall(clientOf(b), event);
    expect(grpc.error).toBeUndefined();
    expect(grpc.reply?.outcome).toBe(Outcome.OUTCOME_DEAD_LETTERED);
    expect(grpc.reply?.message).toContain("max_attempts");

    const id = `call-${randomUUID()}`;
    const http = await httpCall(a, { eventId: id, type, attributes });
    expect(http.status).toBe(502);
    expect((JSON.parse(http.text) as { error: string }).error).toContain("max_attempts");
    const dead = await listDeadLetters(redis, queueKeys(queues.echo), { type });
    expect(dead.map((entry) => [entry.meta.reason, entry.meta.attempts])).toEqual([
      ["max_attempts", 3],
      ["max_attempts", 3],
    ]);
  });

  it("an HTTP processor's 404 dead-letters the event: DEAD_LETTERED naming the status, HTTP 502", async () => {
    const { webRequests, clientOf, a, b } = pipeline();
    const event = eventOf("web.missing");
    const grpc = await grpcCall(clientOf(b), event);
    expect(grpc.reply?.outcome).toBe(Outcome.OUTCOME_DEAD_LETTERED);
    expect(grpc.reply?.message).toContain("HTTP 404");
    const http = await httpCall(a, { type: "web.missing" });
    expect(http.status).toBe(502);
    expect((JSON.parse(http.text) as { error: string }).error).toContain("HTTP 404");
    expect(webRequests.get(event.eventId)).toBe(1);
  });
});
