// CloudEvents 1.0 into POST /v1/events: the official JavaScript SDK as a real client, in
// structured and binary mode, against a real collector; batches; and the bad events a client
// can send. Each check reads what Redis holds, by event id.
import { randomUUID } from "node:crypto";
import { CloudEvent, emitterFor, HTTP, httpTransport, Mode } from "cloudevents";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startTestCollector,
  type TestCollector,
  uniqueQueueName,
} from "../../../test-support/collector.js";
import { useSharedRedis } from "../../../test-support/shared-redis.js";
import type { Event } from "../../proto/src/index.js";
import { decodeEnvelope } from "../../queue/src/index.js";

const { redisUrl, redis } = useSharedRedis();

let collector: TestCollector;
let queue: string;

beforeAll(async () => {
  queue = uniqueQueueName("http_cloudevents");
  collector = await startTestCollector(redisUrl, queue);
});
afterAll(async () => {
  await collector.close();
});

interface Summary {
  accepted: number;
  rejected: number;
  duplicates: number;
  rejections: { index: number; eventId: string; reason: string; message: string }[];
  assignedIds: { index: number; eventId: string }[];
}

/** The queue's events by id; clears the queue for the next test. */
async function takeStored(): Promise<Map<string, Event>> {
  const entries = await redis.lrangeBuffer(queue, 0, -1);
  await redis.del(queue);
  const events = entries.reverse().map((entry) => decodeEnvelope(entry).stored.event!);
  return new Map(events.map((event) => [event.eventId, event]));
}

const eventsUrl = () => `${collector.httpUrl}/v1/events`;
const newId = () => `ce-${randomUUID()}`;

function post(body: string | Uint8Array | undefined, headers: Record<string, string>) {
  return fetch(eventsUrl(), { method: "POST", headers, body });
}

const postStructured = (value: unknown) =>
  post(JSON.stringify(value), { "content-type": "application/cloudevents+json" });
const postBatch = (values: unknown[]) =>
  post(JSON.stringify(values), { "content-type": "application/cloudevents-batch+json" });

async function summaryOf(response: Response): Promise<Summary> {
  expect(response.status).toBe(200);
  return (await response.json()) as Summary;
}

const json = (event: Event | undefined) => JSON.parse(Buffer.from(event!.payload).toString("utf8"));

describe("CloudEvents from the official SDK", () => {
  it("stores a structured-mode event from the SDK's HTTP emitter, attributes and data mapped", async () => {
    const emit = emitterFor(httpTransport(eventsUrl()), { mode: Mode.STRUCTURED });
    const id = newId();
    const time = "2026-11-22T10:00:00.123Z";
    const answer = (await emit(
      new CloudEvent({
        id,
        type: "com.example.order.placed",
        source: "/shop/checkout",
        time,
        subject: "order-42",
        dataschema: "https://example.com/schemas/order.json",
        datacontenttype: "application/json",
        data: { order: 42, items: ["a", "b"] },
        region: "eu",
        priority: 3,
        urgent: true,
      }),
    )) as { body: string };
    expect(JSON.parse(answer.body)).toEqual({
      accepted: 1,
      rejected: 0,
      duplicates: 0,
      rejections: [],
      assignedIds: [],
    });

    const stored = await takeStored();
    expect([...stored.keys()]).toEqual([id]);
    const event = stored.get(id)!;
    expect(event).toMatchObject({ type: "com.example.order.placed", source: "/shop/checkout" });
    expect(event.timestamp).toBe(BigInt(Date.parse(time)));
    expect(json(event)).toEqual({ order: 42, items: ["a", "b"] });
    expect(event.attributes).toEqual({
      datacontenttype: "application/json",
      subject: "order-42",
      dataschema: "https://example.com/schemas/order.json",
      region: "eu",
      priority: "3",
      urgent: "true",
    });
  });

  it("stores a binary-mode event from the SDK's HTTP emitter: ce- headers to attributes, body to payload", async () => {
    const emit = emitterFor(httpTransport(eventsUrl()), { mode: Mode.BINARY });
    const id = newId();
    const answer = (await emit(
      new CloudEvent({
        id,
        type: "com.example.user.login",
        source: "https://auth.example.com",
        time: "2026-11-22T11:00:00Z",
        subject: "ada",
        data: { user: "ada" },
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      }),
    )) as { body: string };
    expect(JSON.parse(answer.body)).toMatchObject({ accepted: 1, rejected: 0 });

    const event = (await takeStored()).get(id);
    expect(event).toMatchObject({
      type: "com.example.user.login",
      source: "https://auth.example.com",
    });
    expect(event!.timestamp).toBe(BigInt(Date.parse("2026-11-22T11:00:00Z")));
    expect(json(event)).toEqual({ user: "ada" });
    expect(event!.attributes).toEqual({
      // The SDK labels JSON data with its default content type.
      datacontenttype: "application/json; charset=utf-8",
      subject: "ada",
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    });
  });

  it("keeps binary data byte for byte, in binary mode (SDK message, any content type) and as data_base64", async () => {
    const bytes = Buffer.from([0x00, 0xff, 0x10, 0x80, 0x7b, 0x0a]);
    const binaryId = newId();
    const message = HTTP.binary(
      new CloudEvent({
        id: binaryId,
        type: "com.example.blob",
        source: "/blobs",
        datacontenttype: "application/octet-stream",
        data: bytes,
      }),
    );
    const binary = await post(
      message.body as Uint8Array,
      message.headers as Record<string, string>,
    );
    expect(await summaryOf(binary)).toMatchObject({ accepted: 1, rejected: 0 });

    // A content type no other body uses, and a text payload: stored as sent.
    const textId = newId();
    const text = await post("hello, plain text", {
      "content-type": "text/plain; charset=utf-8",
      "ce-specversion": "1.0",
      "ce-id": textId,
      "ce-type": "com.example.note",
      "ce-source": "/notes",
    });
    expect(await summaryOf(text)).toMatchObject({ accepted: 1 });

    const base64Id = newId();
    const structured = await postStructured({
      specversion: "1.0",
      id: base64Id,
      type: "com.example.blob",
      source: "/blobs",
      datacontenttype: "image/png",
      data_base64: bytes.toString("base64"),
    });
    expect(await summaryOf(structured)).toMatchObject({ accepted: 1 });

    const stored = await takeStored();
    expect(Buffer.from(stored.get(binaryId)!.payload)).toEqual(bytes);
    expect(stored.get(binaryId)!.attributes).toEqual({
      datacontenttype: "application/octet-stream",
    });
    expect(Buffer.from(stored.get(textId)!.payload).toString("utf8")).toBe("hello, plain text");
    expect(stored.get(textId)!.attributes).toEqual({
      datacontenttype: "text/plain; charset=utf-8",
    });
    expect(Buffer.from(stored.get(base64Id)!.payload)).toEqual(bytes);
    expect(stored.get(base64Id)!.attributes).toEqual({ datacontenttype: "image/png" });
  });
});

describe("CloudEvents data and attributes", () => {
  it("stores a string data of a text type as the string, of a JSON type as JSON text; time defaults to arrival", async () => {
    const textId = newId();
    const jsonId = newId();
    const before = Date.now();
    const summary = await summaryOf(
      await postBatch([
        {
          specversion: "1.0",
          id: textId,
          type: "t",
          source: "/s",
          datacontenttype: "text/plain",
          data: "plain words",
        },
        { specversion: "1.0", id: jsonId, type: "t", source: "/s", data: "a JSON string" },
      ]),
    );
    expect(summary).toMatchObject({ accepted: 2, rejected: 0 });
    const stored = await takeStored();
    expect(Buffer.from(stored.get(textId)!.payload).toString()).toBe("plain words");
    expect(Buffer.from(stored.get(jsonId)!.payload).toString()).toBe('"a JSON string"');
    expect(stored.get(jsonId)!.attributes).toEqual({});
    expect(Number(stored.get(jsonId)!.timestamp)).toBeGreaterThanOrEqual(before);
  });

  it("percent-decodes ce- header values, and refuses bytes that are not UTF-8", async () => {
    const id = newId();
    const headers = {
      "ce-specversion": "1.0",
      "ce-id": id,
      "ce-type": "t",
      "ce-source": "/s",
      "ce-note": "Euro%20%E2%82%AC%20%F0%9F%98%80",
      "ce-quoted": '"100% sure"',
    };
    expect(await summaryOf(await post(undefined, headers))).toMatchObject({ accepted: 1 });
    const stored = await takeStored();
    expect(stored.get(id)!.attributes).toEqual({ note: "Euro € 😀", quoted: "100% sure" });
    expect(stored.get(id)!.payload.length).toBe(0);

    const overlong = await summaryOf(await post(undefined, { ...headers, "ce-note": "%C0%A0" }));
    expect(overlong).toMatchObject({ accepted: 0, rejected: 1 });
    expect(overlong.rejections[0]).toMatchObject({ eventId: id, reason: "malformed" });
    expect(overlong.rejections[0]!.message).toMatch(/ce-note header is not valid/);
    expect((await takeStored()).size).toBe(0);
  });

  it("applies the schema registered for the type", async () => {
    const type = `ce.schema.${randomUUID()}`;
    const registered = await fetch(`${collector.httpUrl}/v1/schemas/${type}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        type: "object",
        required: ["user"],
        properties: { user: { type: "string" } },
      }),
    });
    expect(registered.status).toBe(201);
    const good = newId();
    const bad = newId();
    const summary = await summaryOf(
      await postBatch([
        { specversion: "1.0", id: good, type, source: "/s", data: { user: "ada" } },
        { specversion: "1.0", id: bad, type, source: "/s", data: { user: 7 } },
      ]),
    );
    expect(summary).toMatchObject({ accepted: 1, rejected: 1 });
    expect(summary.rejections).toEqual([
      {
        index: 1,
        eventId: bad,
        reason: "schema_violation",
        message: expect.stringContaining("/user"),
      },
    ]);
    expect([...(await takeStored()).keys()]).toEqual([good]);
  });
});

describe("bad CloudEvents", () => {
  const valid = () => ({ specversion: "1.0", id: newId(), type: "t", source: "/s", data: 1 });

  it("rejects a structured event without id, without source, or of specversion 0.3, each with a reason", async () => {
    const { id: _id, ...noId } = valid();
    const { source: _source, ...noSource } = valid();
    const old = { ...valid(), specversion: "0.3" };
    const { specversion: _version, ...noVersion } = valid();
    const { type: _type, ...noType } = valid();

    const reasons: Summary["rejections"] = [];
    for (const event of [noId, noSource, old, noVersion, noType]) {
      const summary = await summaryOf(await postStructured(event));
      expect(summary).toMatchObject({ accepted: 0, rejected: 1 });
      reasons.push(summary.rejections[0]!);
    }
    expect(reasons).toEqual([
      {
        index: 0,
        eventId: "",
        reason: "missing_id",
        message: expect.stringMatching(/^id is missing/),
      },
      {
        index: 0,
        eventId: noSource.id,
        reason: "malformed",
        message: expect.stringMatching(/^source is missing/),
      },
      {
        index: 0,
        eventId: old.id,
        reason: "malformed",
        message: 'specversion "0.3" is not supported: this collector reads CloudEvents 1.0 only',
      },
      {
        index: 0,
        eventId: noVersion.id,
        reason: "malformed",
        message: expect.stringMatching(/^specversion is missing/),
      },
      {
        index: 0,
        eventId: noType.id,
        reason: "missing_type",
        message: expect.stringMatching(/^type is missing/),
      },
    ]);
    expect((await takeStored()).size).toBe(0);
  });

  it("rejects a binary-mode event without ce-type (200, its rejection names the header)", async () => {
    const id = newId();
    const response = await post('{"user":"ada"}', {
      "content-type": "application/json",
      "ce-specversion": "1.0",
      "ce-id": id,
      "ce-source": "/s",
    });
    const summary = await summaryOf(response);
    expect(summary).toMatchObject({ accepted: 0, rejected: 1 });
    expect(summary.rejections).toEqual([
      {
        index: 0,
        eventId: id,
        reason: "missing_type",
        message: "the ce-type header is missing: a CloudEvent needs a non-empty type",
      },
    ]);
    // Without ce-specversion, the other ce- headers still make it a CloudEvent, and say why not.
    const noVersion = await summaryOf(
      await post('{"user":"ada"}', {
        "content-type": "application/json",
        "ce-id": id,
        "ce-type": "t",
        "ce-source": "/s",
      }),
    );
    expect(noVersion.rejections[0]).toMatchObject({
      reason: "malformed",
      message: expect.stringMatching(/^the ce-specversion header is missing/),
    });
    expect((await takeStored()).size).toBe(0);
  });

  it("stores the good events of a batch and rejects the bad one by its index", async () => {
    const events = [
      valid(),
      valid(),
      { ...valid(), source: "" },
      valid(),
      { ...valid(), time: "yesterday" },
    ];
    const summary = await summaryOf(await postBatch(events));
    expect(summary).toMatchObject({ accepted: 3, rejected: 2 });
    expect(summary.rejections).toEqual([
      {
        index: 2,
        eventId: events[2]!.id,
        reason: "malformed",
        message: expect.stringMatching(/^source is missing/),
      },
      {
        index: 4,
        eventId: events[4]!.id,
        reason: "timestamp_out_of_range",
        message: expect.stringContaining("RFC 3339"),
      },
    ]);
    const stored = await takeStored();
    expect(new Set(stored.keys())).toEqual(new Set([events[0]!.id, events[1]!.id, events[3]!.id]));
  });

  it("rejects attribute values the JSON format has no type for, and data with data_base64", async () => {
    const nested = { ...valid(), extra: { a: 1 } };
    const both = { ...valid(), data_base64: "AAEC" };
    const badBase64 = { ...valid(), data: undefined, data_base64: "not base64!" };
    const summary = await summaryOf(await postBatch([nested, both, badBase64]));
    expect(summary.rejections.map(({ reason, message }) => [reason, message])).toEqual([
      ["malformed", 'attribute "extra" must be a string, number or boolean, not object'],
      ["malformed", "data and data_base64 are both set: a CloudEvent carries one of them"],
      ["malformed", "data_base64 must be a base64 string (RFC 4648, with padding)"],
    ]);
    expect((await takeStored()).size).toBe(0);
  });

  it("answers 400 for malformed JSON and bodies of the wrong shape, 415 stays for other bodies", async () => {
    const broken = await post("{not json", { "content-type": "application/cloudevents+json" });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: string }).error).toMatch(/not valid JSON/);

    const array = await postStructured([valid()]);
    expect(array.status).toBe(400);
    expect(((await array.json()) as { error: string }).error).toMatch(/cloudevents-batch\+json/);

    const notArray = await post(JSON.stringify(valid()), {
      "content-type": "application/cloudevents-batch+json",
    });
    expect(notArray.status).toBe(400);

    // Binary-mode data that says it is JSON must be JSON.
    const badData = await post("{oops", {
      "content-type": "application/json",
      "ce-specversion": "1.0",
      "ce-id": newId(),
      "ce-type": "t",
      "ce-source": "/s",
    });
    expect(badData.status).toBe(400);

    // No ce- headers: another content type is still refused, before its body is read.
    const text = await post("hello", { "content-type": "text/plain" });
    expect(text.status).toBe(415);
    expect((await takeStored()).size).toBe(0);
  });

  it("answers 413 for a binary-mode body past MAX_MESSAGE_BYTES", async () => {
    const response = await post(Buffer.alloc(collector.config.maxMessageBytes + 1), {
      "content-type": "application/octet-stream",
      "ce-specversion": "1.0",
      "ce-id": newId(),
      "ce-type": "t",
      "ce-source": "/s",
    });
    expect(response.status).toBe(413);
    expect((await takeStored()).size).toBe(0);
  });
});
