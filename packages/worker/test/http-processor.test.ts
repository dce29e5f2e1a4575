import { randomBytes } from "node:crypto";
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { newEvent } from "../../producer/src/index.js";
import { closeServer, listenOnLoopback } from "../../testkit/src/index.js";
import type { EventContext, EventHandler, HandlerResult } from "../src/handler.js";
import { PermanentFailure, RetryLater } from "../src/handler.js";
import { createHttpProcessor, type HttpProcessorOptions } from "../src/processors/http.js";
import { MAX_RETRY_AFTER_MS, retryAfterMs } from "../src/processors/retry-after.js";
import { verifyWebhook } from "../src/processors/signing.js";

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

interface TestServer {
  readonly url: string;
  readonly received: Received[];
  /** TCP connections the server accepted. */
  connections: number;
}

type Respond = (req: IncomingMessage, body: Buffer, res: ServerResponse) => void;

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startServer(respond: Respond): Promise<TestServer> {
  const server = createServer();
  const state: TestServer = { url: "", received: [], connections: 0 };
  server.on("connection", () => state.connections++);
  server.on("request", async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    state.received.push({ headers: req.headers, body });
    respond(req, body, res);
  });
  const port = await listenOnLoopback(server);
  cleanups.push(() => closeServer(server));
  return Object.assign(state, { url: `http://127.0.0.1:${port}` });
}

function processorFor(url: string, options: Partial<HttpProcessorOptions> = {}) {
  const processor = createHttpProcessor({
    url,
    method: "POST",
    timeoutMs: 10_000,
    headers: {},
    connections: 4,
    errorAnswersAreResults: false,
    ...options,
  });
  cleanups.push(() => processor.close());
  return processor;
}

function contextFor(eventId: string, attempt = 1, signal = new AbortController().signal) {
  const ctx: EventContext = {
    eventId,
    attempt,
    redeliveries: 0,
    enqueuedAtMs: Date.now(),
    workerId: "test-worker",
    signal,
  };
  return ctx;
}

const jsonEvent = (json = '{"order":42}') =>
  newEvent("order.placed", { payload: Buffer.from(json) });

const answerWith =
  (status: number, body: string, headers: Record<string, string> = {}): Respond =>
  (_req, _body, res) => {
    res.writeHead(status, headers).end(body);
  };

const echo: Respond = (req, body, res) => {
  res
    .writeHead(200, {
      "content-type": req.headers["content-type"] ?? "none",
      "x-request-id": "r-1",
      server: "echo",
    })
    .end(body);
};

async function resultOf(pending: ReturnType<EventHandler>): Promise<HandlerResult> {
  const result = await pending;
  if (result === undefined) throw new Error("the handler resolved without a result");
  return result;
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable("the handler resolved"),
    (error: unknown) => error,
  );
}

describe("HTTP processor", () => {
  it("sends the payload and returns the answer, with the headers a reader needs", async () => {
    const server = await startServer(echo);
    const { handler } = processorFor(`${server.url}/orders?token=abc`);
    const event = jsonEvent();

    const result = await resultOf(handler(event, contextFor(event.eventId)));

    expect(result).toMatchObject({ outcome: "success", status: 200 });
    expect(Buffer.from(result.body).toString()).toBe('{"order":42}');
    expect(result.headers).toEqual({ "content-type": "application/json", "x-request-id": "r-1" });
    const [received] = server.received;
    expect(received!.headers).toMatchObject({
      "webhook-id": event.eventId,
      "webhook-timestamp": expect.stringMatching(/^\d+$/),
      "eventpipe-event-type": "order.placed",
      "eventpipe-attempt": "1",
    });
    expect(received!.headers["webhook-signature"]).toBeUndefined();
  });

  it("labels bytes as octet-stream, and lets the event's content-type attribute win", async () => {
    const server = await startServer(echo);
    const { handler } = processorFor(server.url, { headers: { "X-Tenant": "t1" } });
    const bytes = newEvent("blob", { payload: Buffer.from([0x00, 0x7b]) });
    const csv = newEvent("csv", {
      payload: Buffer.from("a,b\n"),
      attributes: { "content-type": "text/csv" },
    });

    const first = await resultOf(handler(bytes, contextFor(bytes.eventId)));
    const second = await resultOf(handler(csv, contextFor(csv.eventId)));

    expect(first.headers?.["content-type"]).toBe("application/octet-stream");
    expect(second.headers?.["content-type"]).toBe("text/csv");
    expect(server.received[0]!.headers["x-tenant"]).toBe("t1");
  });

  it("retries a 500 at the worker's pace, quoting the body", async () => {
    const server = await startServer(answerWith(500, "database down"));
    const { handler } = processorFor(`${server.url}/hook?secret=s3`);
    const event = jsonEvent();

    const error = await rejectionOf(handler(event, contextFor(event.eventId)));

    expect(error).toBeInstanceOf(RetryLater);
    expect(error).toMatchObject({
      message: `HTTP 500 from ${server.url}/hook: database down`,
      retryAfterMs: 0,
    });
  });

  it("retries a 503 no sooner than its Retry-After seconds", async () => {
    const server = await startServer(answerWith(503, "busy", { "retry-after": "7" }));
    const { handler } = processorFor(server.url);
    const event = jsonEvent();

    const error = await rejectionOf(handler(event, contextFor(event.eventId)));

    expect(error).toBeInstanceOf(RetryLater);
    expect((error as RetryLater).retryAfterMs).toBe(7000);
  });

  it("retries a 429 whose Retry-After is an HTTP-date, capped at one hour", async () => {
    const inTwoHours = new Date(Date.now() + 2 * MAX_RETRY_AFTER_MS).toUTCString();
    const server = await startServer(answerWith(429, "slow down", { "retry-after": inTwoHours }));
    const { handler } = processorFor(server.url);
    const event = jsonEvent();

    const error = await rejectionOf(handler(event, contextFor(event.eventId)));

    expect(error).toBeInstanceOf(RetryLater);
    expect((error as RetryLater).retryAfterMs).toBe(MAX_RETRY_AFTER_MS);
  });

  it("dead-letters a 404 with its status and the start of the body", async () => {
    const server = await startServer(answerWith(404, `no such route ${"x".repeat(1000)}`));
    const { handler } = processorFor(`${server.url}/missing`);
    const event = jsonEvent();

    const error = await rejectionOf(handler(event, contextFor(event.eventId)));

    expect(error).toBeInstanceOf(PermanentFailure);
    expect(error).toMatchObject({ status: 404 });
    const message = (error as Error).message;
    expect(message.startsWith(`HTTP 404 from ${server.url}/missing: no such route xx`)).toBe(true);
    expect(message.length).toBe(`HTTP 404 from ${server.url}/missing: `.length + 500);
  });

  it("returns a 404 as an error result when error answers are results", async () => {
    const server = await startServer(
      answerWith(404, '{"error":"unknown sku"}', { "content-type": "application/json" }),
    );
    const { handler } = processorFor(server.url, { errorAnswersAreResults: true });
    const event = jsonEvent();

    const result = await resultOf(handler(event, contextFor(event.eventId)));

    expect(result).toMatchObject({
      outcome: "error",
      status: 404,
      headers: { "content-type": "application/json" },
    });
    expect(Buffer.from(result.body).toString()).toBe('{"error":"unknown sku"}');
  });

  it("times out on a server that never answers", async () => {
    const server = await startServer(() => {});
    const { handler } = processorFor(`${server.url}/slow`, { timeoutMs: 200 });
    const event = jsonEvent();

    const error = await rejectionOf(handler(event, contextFor(event.eventId)));

    expect(error).not.toBeInstanceOf(RetryLater);
    expect((error as Error).message).toBe(`POST ${server.url}/slow timed out after 200 ms`);
  });

  it("gives up when the worker's shutdown signal aborts", async () => {
    const server = await startServer(() => {});
    const { handler } = processorFor(server.url);
    const event = jsonEvent();
    const shutdown = new AbortController();

    const pending = rejectionOf(handler(event, contextFor(event.eventId, 1, shutdown.signal)));
    await expect.poll(() => server.received.length).toBe(1);
    shutdown.abort();

    expect((await pending) as Error).toMatchObject({ message: expect.stringMatching(/aborted/) });
  });

  it("reports a refused connection as a plain, retryable error", async () => {
    const closed = createServer();
    const port = await listenOnLoopback(closed);
    await closeServer(closed);
    const { handler } = processorFor(`http://127.0.0.1:${port}/x`);
    const event = jsonEvent();

    const error = await rejectionOf(handler(event, contextFor(event.eventId)));

    expect(error).not.toBeInstanceOf(RetryLater);
    expect(error).not.toBeInstanceOf(PermanentFailure);
    expect((error as Error).message).toMatch(
      new RegExp(`^POST http://127.0.0.1:${port}/x failed: .*ECONNREFUSED`),
    );
  });

  it("fails an answer whose body is over 1 MiB, and keeps working", async () => {
    const big = "x".repeat(1024 * 1024 + 1);
    const server = await startServer((req, _body, res) => {
      res.end(req.headers["eventpipe-event-type"] === "big" ? big : "ok");
    });
    const { handler } = processorFor(server.url);
    const event = newEvent("big");
    const small = newEvent("small");

    const error = await rejectionOf(handler(event, contextFor(event.eventId)));
    const after = await handler(small, contextFor(small.eventId));

    expect((error as Error).message).toMatch(/response body over 1 MiB$/);
    expect(after).toMatchObject({ outcome: "success", status: 200 });
  });

  it("signs requests so that a receiver's verifyWebhook accepts them", async () => {
    const secret = `whsec_${randomBytes(32).toString("base64")}`;
    const server = await startServer((req, body, res) => {
      res.writeHead(verifyWebhook(secret, req.headers, body) ? 204 : 401).end("bad signature");
    });
    const signed = processorFor(server.url, { signingSecret: secret });
    const wronglySigned = processorFor(server.url, {
      signingSecret: `whsec_${randomBytes(32).toString("base64")}`,
    });
    const event = jsonEvent();

    const result = await signed.handler(event, contextFor(event.eventId));
    const error = await rejectionOf(wronglySigned.handler(event, contextFor(event.eventId)));

    expect(result).toMatchObject({ outcome: "success", status: 204 });
    expect(error).toBeInstanceOf(PermanentFailure);
    expect(error).toMatchObject({ status: 401 });
  });

  it("keeps the same webhook-id across attempts of one event", async () => {
    const server = await startServer(echo);
    const { handler } = processorFor(server.url);
    const event = jsonEvent();

    await handler(event, contextFor(event.eventId, 1));
    await handler(event, contextFor(event.eventId, 2));

    const [first, second] = server.received;
    expect(first!.headers["webhook-id"]).toBe(event.eventId);
    expect(second!.headers["webhook-id"]).toBe(event.eventId);
    expect([first!.headers["eventpipe-attempt"], second!.headers["eventpipe-attempt"]]).toEqual([
      "1",
      "2",
    ]);
  });

  it("reuses its keep-alive sockets: no more connections than the pool holds", async () => {
    const server = await startServer(echo);
    const connections = 3;
    const { handler } = processorFor(server.url, { connections });

    for (let i = 0; i < 200; i++) {
      const event = jsonEvent(`{"i":${i}}`);
      await handler(event, contextFor(event.eventId));
    }
    await Promise.all(
      Array.from({ length: 30 }, () => jsonEvent()).map((event) =>
        handler(event, contextFor(event.eventId)),
      ),
    );

    expect(server.received).toHaveLength(230);
    expect(server.connections).toBeGreaterThan(0);
    expect(server.connections).toBeLessThanOrEqual(connections);
  });
});

describe("Retry-After", () => {
  const nowMs = Date.parse("2026-01-01T00:00:00Z");

  it("reads delta seconds and HTTP-dates, and ignores the rest", () => {
    expect(retryAfterMs("120", nowMs)).toBe(120_000);
    expect(retryAfterMs("Thu, 01 Jan 2026 00:00:30 GMT", nowMs)).toBe(30_000);
    expect(retryAfterMs("Wed, 31 Dec 2025 23:00:00 GMT", nowMs)).toBe(0);
    expect(retryAfterMs("999999", nowMs)).toBe(MAX_RETRY_AFTER_MS);
    for (const invalid of [undefined, "", "1.5", "-3", "soon"]) {
      expect(retryAfterMs(invalid, nowMs)).toBe(0);
    }
  });
});
