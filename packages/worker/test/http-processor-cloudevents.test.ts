// The HTTP processor's CloudEvents formats against a real node:http receiver that parses what
// it gets with the official SDK's HTTP.toEvent: ids, types, sources, times, data and extensions
// survive the round trip in binary and structured mode, checked by id; retries keep the id;
// the Standard Webhooks signature covers the body in both formats.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import { type CloudEventV1, HTTP } from "cloudevents";
import { afterEach, describe, expect, it } from "vitest";
import { newEvent } from "../../producer/src/index.js";
import type { Event } from "../../proto/src/index.js";
import { closeServer, listenOnLoopback } from "../../testkit/src/index.js";
import type { EventContext } from "../src/handler.js";
import { RetryLater } from "../src/handler.js";
import { encodeHeaderValue } from "../src/processors/cloudevents-out.js";
import { createHttpProcessor, type HttpProcessorOptions } from "../src/processors/http.js";
import { verifyWebhook } from "../src/processors/signing.js";

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** What the SDK's receiver made of the request. */
  readonly event: CloudEventV1<unknown>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A CloudEvents receiver: the SDK parses every request; `status` answers it. */
async function startReceiver(status: (attempt: number) => number = () => 200) {
  const received: Received[] = [];
  const server = createServer(async (req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    // The SDK takes text bodies as strings (it parses JSON ones itself), bytes as a Buffer.
    const type = req.headers["content-type"] ?? "";
    const message = {
      headers: req.headers,
      body: type.includes("json") || type.startsWith("text/") ? body.toString("utf8") : body,
    };
    const event = HTTP.toEvent(message) as CloudEventV1<unknown>;
    received.push({ headers: req.headers, body, event });
    res.writeHead(status(received.length)).end();
  });
  const port = await listenOnLoopback(server);
  cleanups.push(() => closeServer(server));
  const url = `http://127.0.0.1:${port}/events`;
  const byId = (id: string) => received.filter((request) => request.event.id === id);
  return { url, received, byId };
}

function processorFor(url: string, options: Partial<HttpProcessorOptions>) {
  const processor = createHttpProcessor({
    url,
    method: "POST",
    timeoutMs: 10_000,
    headers: {},
    connections: 4,
    errorAnswersAreResults: false,
    queue: "orders",
    ...options,
  });
  cleanups.push(() => processor.close());
  return processor;
}

function contextFor(eventId: string, attempt = 1): EventContext {
  return {
    eventId,
    attempt,
    redeliveries: 0,
    enqueuedAtMs: Date.now(),
    workerId: "test-worker",
    signal: new AbortController().signal,
  };
}

const TIME = "2026-11-22T10:00:00.000Z";
const BYTES = Buffer.from([0x00, 0xff, 0x7b, 0x80, 0x0a]);

/** Events of every kind of payload, keyed by what each one checks. */
function sampleEvents() {
  const timestamp = BigInt(Date.parse(TIME));
  return {
    // A JSON payload, attributes that travel (valid names) and some that do not.
    json: newEvent("order.placed", {
      timestamp,
      source: "/shop/checkout",
      payload: Buffer.from('{"order":42,"items":["a","b"]}'),
      attributes: {
        subject: "order-42",
        region: "eu",
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "eventpipe.route": "orders",
        userId: "skipped: upper case",
      },
    }),
    // Came in as a CloudEvent with text data: its datacontenttype is kept.
    text: newEvent("note.added", {
      timestamp,
      source: "https://notes.example.com",
      payload: Buffer.from("plain words"),
      attributes: { datacontenttype: "text/plain" },
    }),
    // Bytes, and no source: the documented default.
    bytes: newEvent("blob.stored", { timestamp, payload: BYTES }),
  } satisfies Record<string, Event>;
}

async function deliver(format: HttpProcessorOptions["format"]) {
  const receiver = await startReceiver();
  const { handler } = processorFor(receiver.url, { format });
  const events = sampleEvents();
  for (const event of Object.values(events)) {
    const result = await handler(event, contextFor(event.eventId));
    expect(result).toMatchObject({ outcome: "success", status: 200 });
  }
  const [json, text, bytes] = [events.json, events.text, events.bytes].map((event) => {
    const requests = receiver.byId(event.eventId);
    expect(requests).toHaveLength(1);
    return requests[0]!;
  });
  return { events, json: json!, text: text!, bytes: bytes! };
}

describe.each([
  "cloudevents-binary",
  "cloudevents-structured",
] as const)("HTTP processor, format %s", (format) => {
  it("delivers valid CloudEvents the SDK reads back: id, type, source, time, data, extensions", async () => {
    const { events, json, text, bytes } = await deliver(format);

    expect(json.event).toMatchObject({
      specversion: "1.0",
      id: events.json.eventId,
      type: "order.placed",
      source: "/shop/checkout",
      time: TIME,
      datacontenttype: "application/json",
      subject: "order-42",
      region: "eu",
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      data: { order: 42, items: ["a", "b"] },
    });
    // Names CloudEvents does not allow are skipped, not renamed.
    expect(Object.keys(json.event)).not.toContain("userid");
    expect(JSON.stringify(json.event)).not.toContain("skipped");
    expect(JSON.stringify(json.event)).not.toContain("eventpipe");

    expect(text.event).toMatchObject({
      id: events.text.eventId,
      type: "note.added",
      source: "https://notes.example.com",
      datacontenttype: "text/plain",
      data: "plain words",
    });

    expect(bytes.event).toMatchObject({
      id: events.bytes.eventId,
      type: "blob.stored",
      source: "/eventpipe/orders",
      datacontenttype: "application/octet-stream",
    });
    // Binary mode: the body is the bytes; structured: data_base64, which the SDK decodes.
    const data = bytes.event.data as ArrayLike<number>;
    expect(Array.from(data)).toEqual(Array.from(BYTES));

    // Strict validation by the SDK: each is a valid CloudEvent 1.0.
    for (const { event } of [json, text, bytes]) {
      expect(() => (event as unknown as { validate(): boolean }).validate()).not.toThrow();
    }
  });

  it("keeps the id across retries, and signs the body it sends", async () => {
    const secret = `whsec_${randomBytes(32).toString("base64")}`;
    const receiver = await startReceiver((attempt) => (attempt === 1 ? 503 : 200));
    const { handler } = processorFor(receiver.url, { format, signingSecret: secret });
    const event = sampleEvents().json;

    await expect(handler(event, contextFor(event.eventId, 1))).rejects.toBeInstanceOf(RetryLater);
    expect(await handler(event, contextFor(event.eventId, 2))).toMatchObject({ status: 200 });

    const requests = receiver.byId(event.eventId);
    expect(requests.map((request) => request.event.id)).toEqual([event.eventId, event.eventId]);
    expect(requests.map((request) => request.headers["webhook-id"])).toEqual([
      event.eventId,
      event.eventId,
    ]);
    expect(requests.map((request) => request.headers["eventpipe-attempt"])).toEqual(["1", "2"]);
    for (const request of requests) {
      expect(verifyWebhook(secret, request.headers, request.body)).toBe(true);
    }
  });
});

describe("CloudEvents wire details", () => {
  it("structured mode sends one application/cloudevents+json document, JSON data spliced as sent", async () => {
    const receiver = await startReceiver();
    const { handler } = processorFor(receiver.url, {
      format: "cloudevents-structured",
      headers: { "content-type": "text/plain", "x-tenant": "t1" },
    });
    // A number JSON.parse would round: spliced as text, it reaches the receiver intact.
    const event = newEvent("big.number", {
      source: "/s",
      payload: Buffer.from('{"n":12345678901234567890}'),
    });
    await handler(event, contextFor(event.eventId));
    const [request] = receiver.byId(event.eventId);
    expect(request!.headers["content-type"]).toBe("application/cloudevents+json; charset=utf-8");
    expect(request!.headers["x-tenant"]).toBe("t1");
    expect(request!.body.toString()).toContain('"data":{"n":12345678901234567890}');
    expect(Object.keys(request!.headers).filter((name) => name.startsWith("ce-"))).toEqual([]);
  });

  it("binary mode percent-encodes header values and sends no content-type without data", async () => {
    const receiver = await startReceiver();
    const { handler } = processorFor(receiver.url, {
      format: "cloudevents-binary",
      headers: { "content-type": "application/xml" },
    });
    const event = newEvent("empty", {
      source: "/s",
      attributes: { note: 'Euro € 😀 "100%"' },
    });
    await handler(event, contextFor(event.eventId));
    const [request] = receiver.byId(event.eventId);
    expect(request!.headers["ce-note"]).toBe("Euro%20%E2%82%AC%20%F0%9F%98%80%20%22100%25%22");
    expect(request!.headers["content-type"]).toBeUndefined();
    expect(request!.body.length).toBe(0);
    expect(encodeHeaderValue("plain-ascii_1.0")).toBe("plain-ascii_1.0");
  });

  it("format raw (the default) labels an event that came in as a CloudEvent with its datacontenttype", async () => {
    const server = createServer((req, res) => {
      res.writeHead(200, { "content-type": req.headers["content-type"] ?? "none" }).end();
    });
    const port = await listenOnLoopback(server);
    cleanups.push(() => closeServer(server));
    const url = `http://127.0.0.1:${port}/`;
    const { handler } = processorFor(url, {});
    const { text } = sampleEvents();
    const result = await handler(text, contextFor(text.eventId));
    expect(result).toMatchObject({ status: 200, headers: { "content-type": "text/plain" } });
  });

  it("refuses a CloudEvents format with GET, which sends no body", () => {
    expect(() =>
      createHttpProcessor({
        url: "http://127.0.0.1:1/",
        method: "GET",
        timeoutMs: 1000,
        headers: {},
        connections: 1,
        errorAnswersAreResults: false,
        format: "cloudevents-binary",
      }),
    ).toThrow(/GET sends none/);
  });
});
