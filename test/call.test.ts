// Request and reply through the whole pipeline: the Call RPC and POST /v1/call on in-process
// collectors that share one Redis and one set of pipeline workers (createPipelineWorkers on a
// real pipeline file). Processors: the echo gRPC processor, an HTTP endpoint on 127.0.0.1, and
// a handler module that records every event it is handed and can hold an event until the test
// lets it go (a gate), so "still waiting" and "processed once" are conditions, not timings.
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type EchoProcessor, startEchoProcessor } from "../packages/echo-processor/src/index.js";
import {
  type CallReply,
  type Event,
  EventServiceClient,
  Outcome,
} from "../packages/proto/src/index.js";
import {
  decodeEnvelope,
  listDeadLetters,
  queueKeys,
  readQueueStats,
} from "../packages/queue/src/index.js";
import { startNodeProcess, waitForOutput } from "../packages/testkit/src/index.js";
import {
  connectWorkerRedis,
  createLogger,
  createPipelineWorkers,
  type PipelineWorkers,
  readWorkerConfig,
} from "../packages/worker/src/index.js";
import {
  startTestCollector,
  type TestCollector,
  uniqueQueueName,
} from "../test-support/collector.js";
import { useSharedRedis } from "../test-support/shared-redis.js";

const { redisUrl, redis } = useSharedRedis();

const WORKER_MAIN = fileURLToPath(new URL("../packages/worker/dist/main.js", import.meta.url));

/** Bound of every wait on a condition; far above what any of them needs. */
const WAIT_MS = 20_000;
/** Deadline of calls that are expected to be answered. */
const CALL_DEADLINE_MS = 30_000;

// ---------------------------------------------------------------------------------------------
// The recording module processor. The worker loads it with a dynamic import in this process,
// so it shares globalThis with the test: the test reads what it handled and opens its gates.

interface RecorderState {
  /** Event ids, one entry per handler run. */
  readonly handled: string[];
  /** Event id -> a promise the handler waits for before it answers. */
  readonly gates: Map<string, Promise<void>>;
}

const STATE_KEY = Symbol.for("eventpipe.call-test.recorder");
const recorder: RecorderState = { handled: [], gates: new Map() };
(globalThis as Record<symbol, unknown>)[STATE_KEY] = recorder;
const gateOpeners = new Map<string, () => void>();

const RECORDER_MODULE = `// Written by test/call.test.ts.
const state = globalThis[Symbol.for("eventpipe.call-test.recorder")];
export default async function handle(event) {
  state.handled.push(event.eventId);
  const gate = state.gates.get(event.eventId);
  if (gate !== undefined) await gate;
  return {
    outcome: "success",
    status: 202,
    body: Buffer.from("handled " + event.eventId),
    headers: { "content-type": "text/plain; charset=utf-8" },
  };
}
`;

/** The recorder holds `eventId` until openGate(eventId). */
function closeGate(eventId: string): void {
  recorder.gates.set(
    eventId,
    new Promise<void>((resolve) => {
      gateOpeners.set(eventId, resolve);
    }),
  );
}

function openGate(eventId: string): void {
  gateOpeners.get(eventId)?.();
  gateOpeners.delete(eventId);
}

const timesHandled = (eventId: string) => recorder.handled.filter((id) => id === eventId).length;

// ---------------------------------------------------------------------------------------------
// The HTTP processors' endpoint: 201 with a JSON body naming what it received; 404 for
// web.missing events; 422 for form.invalid ones. It counts requests per webhook-id (the event id).

const WEB_CONTENT_TYPE = "application/vnd.eventpipe-test+json";
const PROBLEM_CONTENT_TYPE = "application/problem+json";
const webRequests = new Map<string, number>();

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function startWebProcessor(): Promise<Server> {
  const server = createServer((request, response) => {
    void readBody(request).then((body) => {
      const id = String(request.headers["webhook-id"]);
      webRequests.set(id, (webRequests.get(id) ?? 0) + 1);
      const type = request.headers["eventpipe-event-type"];
      if (type === "web.missing") {
        response.writeHead(404, { "content-type": "text/plain" }).end("no such thing");
        return;
      }
      if (type === "form.invalid") {
        response
          .writeHead(422, { "content-type": PROBLEM_CONTENT_TYPE })
          .end(JSON.stringify({ title: "invalid form", seen: id }));
        return;
      }
      response
        .writeHead(201, { "content-type": WEB_CONTENT_TYPE, "x-processor": "web" })
        .end(JSON.stringify({ seen: id, body }));
    });
  });
  server.listen(0, "127.0.0.1");
  return once(server, "listening").then(() => server);
}

// ---------------------------------------------------------------------------------------------
// The pipeline: its file, its workers, its collectors.

let dir: string;
let echo: EchoProcessor;
let web: Server;
let workerRedis: Redis;
let workers: PipelineWorkers;
const queues = {
  echo: uniqueQueueName("call_echo"),
  web: uniqueQueueName("call_web"),
  webResults: uniqueQueueName("call_web_results"),
  form: uniqueQueueName("call_form"),
  formResults: uniqueQueueName("call_form_results"),
  recorded: uniqueQueueName("call_recorded"),
  /** A route without a processor in the pipeline: a worker process of its own serves it. */
  loose: uniqueQueueName("call_loose"),
  fallback: uniqueQueueName("call_default"),
};
/** Two collectors of one deployment: the round trips go through both. */
let a: TestCollector;
let b: TestCollector;
/** A collector whose CALL_TIMEOUT_MS is short: its own DEADLINE_EXCEEDED, not the client's. */
let short: TestCollector;
/** A collector that lets one call wait at a time. */
let narrow: TestCollector;
const clients: InstanceType<typeof EventServiceClient>[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "eventpipe-call-"));
  echo = await startEchoProcessor({ port: 0 });
  web = await startWebProcessor();
  const webPort = (web.address() as AddressInfo).port;
  writeFileSync(join(dir, "recorder.mjs"), RECORDER_MODULE);
  const pipelineFile = join(dir, "pipeline.yaml");
  writeFileSync(
    pipelineFile,
    `routes:
  - { name: echo, types: ["echo.*"], queue: ${queues.echo} }
  - { name: web, types: ["web.*"], queue: ${queues.web} }
  - { name: form, types: ["form.*"], queue: ${queues.form} }
  - { name: recorded, types: ["recorded.*"], queue: ${queues.recorded} }
  - { name: loose, types: ["loose.*"], queue: ${queues.loose} }
  - { name: default, types: ["*"], queue: ${queues.fallback} }
processors:
  - route: echo
    grpc: { address: "${echo.address}" }
  - route: web
    http: { url: "http://127.0.0.1:${webPort}/hook" }
    results: { queue: ${queues.webResults}, when: [onSuccess] }
  - route: form
    http: { url: "http://127.0.0.1:${webPort}/form" }
    results: { queue: ${queues.formResults}, when: [onSuccess, onError] }
  - route: recorded
    module: ./recorder.mjs
`,
  );

  const config = readWorkerConfig({
    REDIS_URL: redisUrl,
    EVENTPIPE_CONFIG: pipelineFile,
    WORKER_ID: `call-test-${process.pid}`,
    WORKER_BLOCK_TIMEOUT_MS: "200",
    WORKER_CONCURRENCY: "128",
    MAX_ATTEMPTS: "3",
  });
  workerRedis = connectWorkerRedis(config);
  workerRedis.on("error", () => {});
  workers = await createPipelineWorkers({
    redis: workerRedis,
    config,
    logger: createLogger("silent", "worker"),
  });
  await workers.start();

  const collector = (id: string, env: Record<string, string> = {}) =>
    startTestCollector(redisUrl, queues.fallback, {
      EVENTPIPE_CONFIG: pipelineFile,
      COLLECTOR_ID: `call-test-${process.pid}-${id}`,
      ...env,
    });
  [a, b, short, narrow] = await Promise.all([
    collector("a"),
    collector("b"),
    collector("short", { CALL_TIMEOUT_MS: "300" }),
    collector("narrow", { MAX_WAITING_CALLS: "1" }),
  ]);
});

afterAll(async () => {
  for (const id of [...gateOpeners.keys()]) openGate(id);
  for (const client of clients) client.close();
  await Promise.all([a, b, short, narrow].map((collector) => collector?.close()));
  await workers?.close(2000);
  workerRedis?.disconnect();
  await echo?.close();
  web?.closeAllConnections();
  web?.close();
  rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Calling.

function clientOf(collector: TestCollector): InstanceType<typeof EventServiceClient> {
  const client = new EventServiceClient(collector.address, credentials.createInsecure());
  clients.push(client);
  return client;
}

type GrpcOutcome =
  | { readonly reply: CallReply; readonly error?: undefined }
  | { readonly error: ServiceError; readonly reply?: undefined };

/** The Call RPC; `event` undefined sends a CallRequest without one. */
function grpcCall(
  client: InstanceType<typeof EventServiceClient>,
  event: Event | undefined,
  deadlineMs = CALL_DEADLINE_MS,
): Promise<GrpcOutcome> {
  return new Promise((resolve) => {
    client.call({ event }, new Metadata(), { deadline: Date.now() + deadlineMs }, (error, reply) =>
      resolve(error ? { error } : { reply }),
    );
  });
}

function eventOf(type: string, fields: Partial<Omit<Event, "type">> = {}): Event {
  return {
    eventId: `call-${randomUUID()}`,
    type,
    timestamp: BigInt(Date.now()),
    payload: Buffer.alloc(0),
    source: "call.test",
    attributes: {},
    schemaVersion: 0,
    ...fields,
  };
}

interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** POST /v1/call with one JSON event (or any JSON value). */
async function httpCall(
  collector: TestCollector,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  const response = await fetch(`${collector.httpUrl}/v1/call`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(CALL_DEADLINE_MS),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** The events waiting in `queue` (a result queue nobody reads), oldest first. */
async function eventsIn(queue: string): Promise<Event[]> {
  const entries = await redis.lrangeBuffer(queueKeys(queue).pending, 0, -1);
  return entries.reverse().map((raw) => decodeEnvelope(raw).stored.event!);
}

/** Waits until `eventId` reached the recorder (so its call is waiting for the answer). */
async function untilHandled(eventId: string): Promise<void> {
  await expect
    .poll(() => timesHandled(eventId), { timeout: WAIT_MS, interval: 10 })
    .toBeGreaterThan(0);
}

/**
 * Waits until `queue` has processed `count` events of `type` and holds nothing of any kind
 * (pending, in flight, waiting for a retry): from then on no event of it can run again.
 */
async function untilDrained(queue: string, type: string, count: number): Promise<void> {
  await expect
    .poll(
      async () => {
        const stats = await readQueueStats(redis, queueKeys(queue));
        return {
          processed: stats.byType[type] ?? 0,
          pending: stats.pending,
          inFlight: stats.inFlight,
          retriesWaiting: stats.retriesWaiting,
        };
      },
      { timeout: WAIT_MS, interval: 25 },
    )
    .toEqual({ processed: count, pending: 0, inFlight: 0, retriesWaiting: 0 });
}

// ---------------------------------------------------------------------------------------------

describe("Call: every caller gets its own answer", () => {
  it("200 concurrent calls over gRPC and HTTP through two collectors each get their own reply", async () => {
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
    const type = `echo.slow_${randomUUID().slice(0, 8)}`;
    const event = eventOf(type, { attributes: { "echo.delay-ms": "2000" } });
    // Long enough for the call to reach the collector on a busy machine (a deadline that ran
    // out on the way would leave nothing stored); far shorter than the processor's delay.
    const outcome = await grpcCall(clientOf(a), event, 500);
    expect(outcome.error?.code).toBe(status.DEADLINE_EXCEEDED);
    await untilDrained(queues.echo, type, 1);
  });

  it("HTTP past eventpipe-timeout-ms: 504 naming the event, which the echo processor still handles once", async () => {
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

describe("Call: refused events", () => {
  it("an invalid event: INVALID_ARGUMENT / 400, and nothing is stored", async () => {
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
  const startPatientCollector = (name: string) =>
    startTestCollector(redisUrl, queues.fallback, {
      EVENTPIPE_CONFIG: join(dir, "pipeline.yaml"),
      COLLECTOR_ID: `call-test-${process.pid}-${name}`,
      CALL_TIMEOUT_MS: "3600000",
    });

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
      openGate(heldId);
      await closing;
      collector.redis.disconnect();
    }
  }

  it("HTTP: close() answers a waiting /v1/call and ends within its grace period", async () => {
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
    const module = join(dir, "string-body.mjs");
    writeFileSync(
      module,
      'export default async () => ({ outcome: "success", body: "a string, not bytes" });\n',
    );
    const worker = startNodeProcess(WORKER_MAIN, [], {
      REDIS_URL: redisUrl,
      QUEUE_NAME: queues.loose,
      WORKER_HANDLER: module,
      WORKER_ID: `call-test-${process.pid}-loose`,
      WORKER_BLOCK_TIMEOUT_MS: "200",
      MAX_ATTEMPTS: "2",
      RETRY_BASE_DELAY_MS: "20",
      LOG_LEVEL: "info",
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
