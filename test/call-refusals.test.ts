// The Call RPC and POST /v1/call refused or cut short: invalid, duplicate and excess calls,
// an HTTP processor's answer, collector shutdown and a module processor's malformed answer,
// through the pipeline of test-support/call-pipeline.ts (of this file's own).
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { status } from "@grpc/grpc-js";
import { describe, expect, it, vi } from "vitest";
import { Outcome } from "../packages/proto/src/index.js";
import { queueKeys, readQueueStats } from "../packages/queue/src/index.js";
import { startNodeProcess, waitForOutput } from "../packages/testkit/src/index.js";
import {
  eventOf,
  grpcCall,
  type HttpAnswer,
  httpCall,
  useCallPipeline,
  WAIT_MS,
  WEB_CONTENT_TYPE,
} from "../test-support/call-pipeline.js";
import { startTestCollector, type TestCollector } from "../test-support/collector.js";

const pipeline = useCallPipeline();

const WORKER_MAIN = fileURLToPath(new URL("../packages/worker/dist/main.js", import.meta.url));

describe("Call: refused events", () => {
  it("an invalid event: INVALID_ARGUMENT / 400, and nothing is stored", async () => {
    const { queues, recorder, clientOf, untilDrained, a, b } = pipeline();
    const client = clientOf(a);
    const noType = eventOf("");
    const grpc = await grpcCall(client, noType);
    expect(grpc.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(grpc.error?.details).toContain("type is empty");
    const noEvent = await grpcCall(client, undefined);
    expect(noEvent.error?.code).toBe(status.INVALID_ARGUMENT);
    const noId = await grpcCall(client, eventOf("recorded.invalid", { eventId: "" }));
    expect(noId.error?.code).toBe(status.INVALID_ARGUMENT);

    const id = `call-${randomUUID()}`;
    const missingType = await httpCall(b, { eventId: id, payload: 1 });
    expect(missingType.status).toBe(400);
    expect(JSON.parse(missingType.text)).toMatchObject({ code: "EP_HTTP_BAD_REQUEST" });
    expect((await httpCall(b, [{ type: "recorded.invalid" }])).status).toBe(400);
    expect((await httpCall(b, { type: "recorded.invalid", attributes: { n: 1 } })).status).toBe(
      400,
    );
    expect(
      (await httpCall(b, { type: "recorded.invalid" }, { "eventpipe-timeout-ms": "soon" })).status,
    ).toBe(400);

    // Neither id was stored: a valid event with each is taken (not a duplicate) and handled once.
    for (const eventId of [noType.eventId, id]) {
      const again = await grpcCall(client, eventOf("recorded.after_invalid", { eventId }));
      expect(again.reply?.outcome).toBe(Outcome.OUTCOME_SUCCESS);
    }
    await untilDrained(queues.recorded, "recorded.after_invalid", 2);
    expect(recorder.handled.filter((handled) => handled === "")).toEqual([]);
  });

  it("the same id again after its answer: ALREADY_EXISTS / 409, processed once", async () => {
    const { queues, timesHandled, clientOf, untilDrained, a, b } = pipeline();
    const type = "recorded.twice";
    const event = eventOf(type);
    const client = clientOf(a);
    const first = await grpcCall(client, event);
    expect(first.reply?.outcome).toBe(Outcome.OUTCOME_SUCCESS);
    const second = await grpcCall(client, event);
    expect(second.error?.code).toBe(status.ALREADY_EXISTS);
    const viaOther = await grpcCall(clientOf(b), event);
    expect(viaOther.error?.code).toBe(status.ALREADY_EXISTS);

    const id = `call-${randomUUID()}`;
    expect((await httpCall(b, { eventId: id, type })).status).toBe(202);
    const again = await httpCall(b, { eventId: id, type });
    expect(again.status).toBe(409);
    expect(JSON.parse(again.text)).toMatchObject({ code: "EP_CALL_DUPLICATE" });
    expect((await httpCall(a, { eventId: id, type })).status).toBe(409);

    await untilDrained(queues.recorded, type, 2);
    expect([timesHandled(event.eventId), timesHandled(id)]).toEqual([1, 1]);
  });

  it("the same id while the first call still waits, on the same and on another collector: ALREADY_EXISTS / 409", async () => {
    const { closeGate, openGate, timesHandled, untilHandled } = pipeline();
    const { queues, clientOf, untilDrained, a, b } = pipeline();
    const type = "recorded.concurrent_twice";
    const event = eventOf(type);
    closeGate(event.eventId);
    const first = grpcCall(clientOf(a), event);
    await untilHandled(event.eventId);

    const sameCollector = await grpcCall(clientOf(a), event);
    expect(sameCollector.error?.code).toBe(status.ALREADY_EXISTS);
    const otherCollector = await grpcCall(clientOf(b), event);
    expect(otherCollector.error?.code).toBe(status.ALREADY_EXISTS);
    const overHttp = await httpCall(a, { eventId: event.eventId, type });
    expect(overHttp.status).toBe(409);
    expect((await httpCall(b, { eventId: event.eventId, type })).status).toBe(409);

    openGate(event.eventId);
    const answered = await first;
    expect(answered.reply).toMatchObject({ eventId: event.eventId, status: 202 });
    await untilDrained(queues.recorded, type, 1);
    expect(timesHandled(event.eventId)).toBe(1);
  });

  it("past MAX_WAITING_CALLS: RESOURCE_EXHAUSTED / 503, nothing stored, the waiting call still answered", async () => {
    const { closeGate, openGate, timesHandled, untilHandled } = pipeline();
    const { queues, clientOf, untilDrained, narrow } = pipeline();
    const type = "recorded.busy";
    const waiting = eventOf(type);
    closeGate(waiting.eventId);
    const first = grpcCall(clientOf(narrow), waiting);
    await untilHandled(waiting.eventId);

    const refused = eventOf(type);
    const grpc = await grpcCall(clientOf(narrow), refused);
    expect(grpc.error?.code).toBe(status.RESOURCE_EXHAUSTED);
    const refusedId = `call-${randomUUID()}`;
    const http = await httpCall(narrow, { eventId: refusedId, type });
    expect(http.status).toBe(503);
    expect(JSON.parse(http.text)).toMatchObject({ code: "EP_CALL_BUSY" });

    openGate(waiting.eventId);
    expect((await first).reply).toMatchObject({ eventId: waiting.eventId, status: 202 });
    // The refused events were not stored: the same ids are taken now.
    expect((await grpcCall(clientOf(narrow), refused)).reply?.status).toBe(202);
    expect((await httpCall(narrow, { eventId: refusedId, type })).status).toBe(202);
    await untilDrained(queues.recorded, type, 3);
    expect([waiting.eventId, refused.eventId, refusedId].map(timesHandled)).toEqual([1, 1, 1]);
  });
});

describe("Call: an HTTP processor answers", () => {
  it("relays its status, body and content type over gRPC and HTTP", async () => {
    const { queues, webRequests, clientOf, eventsIn, untilDrained, a, b } = pipeline();
    const event = eventOf("web.create", {
      payload: Buffer.from('{"name":"ada"}'),
      attributes: { "content-type": "application/json" },
    });
    const grpc = await grpcCall(clientOf(a), event);
    expect(grpc.error).toBeUndefined();
    expect(grpc.reply).toMatchObject({
      eventId: event.eventId,
      outcome: Outcome.OUTCOME_SUCCESS,
      status: 201,
      headers: { "content-type": WEB_CONTENT_TYPE, "x-processor": "web" },
    });
    expect(JSON.parse(grpc.reply!.body.toString())).toEqual({
      seen: event.eventId,
      body: '{"name":"ada"}',
    });

    const id = `call-${randomUUID()}`;
    const http = await httpCall(b, { eventId: id, type: "web.create", payload: { name: "lin" } });
    expect(http.status).toBe(201);
    expect(http.headers.get("content-type")).toBe(WEB_CONTENT_TYPE);
    expect(http.headers.get("eventpipe-outcome")).toBe("success");
    expect(http.headers.get("eventpipe-event-id")).toBe(id);
    expect(JSON.parse(http.text)).toEqual({ seen: id, body: '{"name":"lin"}' });

    await untilDrained(queues.web, "web.create", 2);
    expect([webRequests.get(event.eventId), webRequests.get(id)]).toEqual([1, 1]);
    // The route keeps its results too: one per event, stored with its ack.
    const results = await eventsIn(queues.webResults);
    expect(results.map((result) => result.eventId).sort()).toEqual([event.eventId, id].sort());
    expect(results.map((result) => result.attributes["eventpipe.status"])).toEqual(["201", "201"]);
  });
});

describe("Call: collector shutdown", () => {
  /** A collector of the pipeline whose Calls could wait an hour: only close() ends them. */
  const startPatientCollector = (name: string) => {
    const { redisUrl, dir, queues, instanceId } = pipeline();
    return startTestCollector(redisUrl, queues.fallback, {
      EVENTPIPE_CONFIG: join(dir, "pipeline.yaml"),
      COLLECTOR_ID: instanceId(name),
      CALL_TIMEOUT_MS: "3600000",
    });
  };

  /** Closes `collector` with a short grace period; waits (bounded) until close() resolved. */
  async function closeWhileWaiting(collector: TestCollector, heldId: string): Promise<void> {
    let closed = false;
    const closing = collector.collector.close(200).then(() => {
      closed = true;
    });
    try {
      await vi.waitFor(
        () => expect(closed, "close() still waits for the waiting Call").toBe(true),
        { timeout: 10_000, interval: 20 },
      );
    } finally {
      // Lets the held event finish either way, so a stuck close() ends too.
      pipeline().openGate(heldId);
      await closing;
      collector.redis.disconnect();
    }
  }

  it("HTTP: close() answers a waiting /v1/call and ends within its grace period", async () => {
    const { queues, closeGate, timesHandled, untilHandled, untilDrained } = pipeline();
    const collector = await startPatientCollector("closing-http");
    const id = `call-${randomUUID()}`;
    closeGate(id);
    const call = httpCall(collector, { eventId: id, type: "recorded.shutdown_http" });
    await untilHandled(id);
    await closeWhileWaiting(collector, id);
    const answer = await call;
    expect(answer.status).toBeOneOf([503, 504]);
    expect(answer.headers.get("eventpipe-event-id")).toBe(id);
    await untilDrained(queues.recorded, "recorded.shutdown_http", 1);
    expect(timesHandled(id)).toBe(1);
  });

  it("gRPC: close() ends a waiting Call and ends within its grace period", async () => {
    const { queues, closeGate, timesHandled, clientOf, untilHandled, untilDrained } = pipeline();
    const collector = await startPatientCollector("closing-grpc");
    const event = eventOf("recorded.shutdown_grpc");
    closeGate(event.eventId);
    const call = grpcCall(clientOf(collector), event, 3_600_000);
    await untilHandled(event.eventId);
    await closeWhileWaiting(collector, event.eventId);
    const outcome = await call;
    expect(outcome.error?.code).toBeOneOf([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]);
    await untilDrained(queues.recorded, "recorded.shutdown_grpc", 1);
    expect(timesHandled(event.eventId)).toBe(1);
  });
});

describe("Call: a module processor's malformed answer", () => {
  it("an answer whose body is a string, not bytes, fails that event, not the worker process", async () => {
    const { redisUrl, redis, dir, queues, instanceId, a } = pipeline();
    const module = join(dir, "string-body.mjs");
    writeFileSync(
      module,
      'export default async () => ({ outcome: "success", body: "a string, not bytes" });\n',
    );
    const worker = startNodeProcess(WORKER_MAIN, [], {
      REDIS_URL: redisUrl,
      QUEUE_NAME: queues.loose,
      WORKER_HANDLER: module,
      WORKER_ID: instanceId("loose"),
      WORKER_BLOCK_TIMEOUT_MS: "200",
      MAX_ATTEMPTS: "2",
      RETRY_BASE_DELAY_MS: "20",
      LOG_LEVEL: "info",
      METRICS_LISTEN: "127.0.0.1:0",
    });
    try {
      await waitForOutput(worker, "worker running", WAIT_MS);
      const id = `call-${randomUUID()}`;
      const answered = await Promise.race([
        httpCall(a, { eventId: id, type: "loose.answer" }, { "eventpipe-timeout-ms": "20000" }),
        worker.exited.then((code) => ({ exitCode: code })),
      ]);
      expect(answered, `the worker process died:\n${worker.output().slice(-2500)}`).toHaveProperty(
        "status",
      );
      const answer = answered as HttpAnswer;
      expect(answer.status, answer.text).not.toBe(504);
      expect(answer.headers.get("eventpipe-event-id")).toBe(id);
      // The event left the queue (answered or dead-lettered), and the worker lives on.
      await vi.waitFor(
        async () => {
          const stats = await readQueueStats(redis, queueKeys(queues.loose));
          expect([stats.pending, stats.inFlight, stats.retriesWaiting]).toEqual([0, 0, 0]);
        },
        { timeout: WAIT_MS, interval: 25 },
      );
      expect(worker.child.exitCode, worker.output().slice(-2500)).toBeNull();
    } finally {
      await worker.stop(5000);
    }
  });
});
