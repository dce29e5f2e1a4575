import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startTestCollector,
  type TestCollector,
  uniqueQueueName,
} from "../../../test-support/collector.js";
import { useSharedRedis } from "../../../test-support/shared-redis.js";
import { newEvent } from "../../producer/src/index.js";
import { type Event, EventBatch } from "../../proto/src/index.js";
import { decodeEnvelope, queueKeys, readQueueStats } from "../../queue/src/index.js";

const { redisUrl, redis } = useSharedRedis();

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let collector: TestCollector;
let queue: string;

beforeAll(async () => {
  queue = uniqueQueueName("http_events");
  collector = await startTestCollector(redisUrl, queue);
});
afterAll(async () => {
  await collector.close();
});

/** The queue's events, oldest first; clears the queue for the next test. */
async function takeStored(): Promise<Event[]> {
  const entries = await redis.lrangeBuffer(queue, 0, -1);
  await redis.del(queue);
  return entries.reverse().map((entry) => decodeEnvelope(entry).stored.event!);
}

function post(body: string | Uint8Array, contentType: string, path = "/v1/events") {
  return fetch(`${collector.httpUrl}${path}`, {
    method: "POST",
    headers: { "content-type": contentType },
    body,
  });
}

const postJson = (value: unknown) => post(JSON.stringify(value), "application/json");

interface Summary {
  accepted: number;
  rejected: number;
  duplicates: number;
  rejections: { index: number; eventId: string; reason: string; message: string }[];
  assignedIds: { index: number; eventId: string }[];
}

const summaryOf = async (response: Response) => (await response.json()) as Summary;
const errorOf = async (response: Response) =>
  ((await response.json()) as { error: string; line?: number }).error;

describe("POST /v1/events", () => {
  it("stores a JSON array with the payload as its JSON text, and says what it stored", async () => {
    const response = await postJson([
      {
        eventId: "json-array-1",
        type: "page_view",
        timestamp: Date.now(),
        payload: { path: "/", n: 1 },
        source: "web",
        attributes: { region: "eu" },
      },
      { eventId: "json-array-2", type: "page_view", payload: "plain text" },
    ]);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      accepted: 2,
      rejected: 0,
      duplicates: 0,
      rejections: [],
      assignedIds: [],
    });
    const stored = await takeStored();
    expect(stored.map((event) => event.eventId)).toEqual(["json-array-1", "json-array-2"]);
    expect(stored[0]).toMatchObject({
      type: "page_view",
      source: "web",
      attributes: { region: "eu" },
    });
    expect(JSON.parse(stored[0]!.payload.toString("utf8"))).toEqual({ path: "/", n: 1 });
    expect(stored[1]!.payload.toString("utf8")).toBe('"plain text"');
  });

  it('stores {"events": [...]}, makes UUID v7 ids for events without one, and returns them', async () => {
    const before = Date.now();
    const response = await postJson({
      events: [{ type: "a" }, { eventId: "given-id", type: "b" }, { type: "c" }],
    });
    expect(response.status).toBe(200);
    const summary = await summaryOf(response);
    expect(summary.accepted).toBe(3);
    expect(summary.assignedIds.map(({ index }) => index)).toEqual([0, 2]);
    for (const { eventId } of summary.assignedIds) expect(eventId).toMatch(UUID_V7);
    // A v7 id starts with its creation time in milliseconds, and sorts by it.
    const first = summary.assignedIds[0]!.eventId;
    const ms = Number.parseInt(first.replaceAll("-", "").slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(Date.now());
    expect(summary.assignedIds[1]!.eventId > first).toBe(true);

    const stored = await takeStored();
    expect(stored.map((event) => event.eventId)).toEqual([
      first,
      "given-id",
      summary.assignedIds[1]!.eventId,
    ]);
    // No timestamp: the time of arrival. No payload: empty.
    expect(Number(stored[0]!.timestamp)).toBeGreaterThanOrEqual(before);
    expect(stored[0]!.payload.length).toBe(0);
  });

  it("stores NDJSON, one event per line, blank lines ignored", async () => {
    const body = [
      JSON.stringify({ eventId: "nd-1", type: "t", payload: [1, 2] }),
      "",
      `  ${JSON.stringify({ eventId: "nd-2", type: "t" })}  `,
      "\r",
      JSON.stringify({ eventId: "nd-3", type: "t" }),
      "",
    ].join("\n");
    const response = await post(body, "application/x-ndjson");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ accepted: 3, rejected: 0 });
    const stored = await takeStored();
    expect(stored.map((event) => event.eventId)).toEqual(["nd-1", "nd-2", "nd-3"]);
    expect(stored[0]!.payload.toString("utf8")).toBe("[1,2]");
  });

  it("stores a protobuf EventBatch byte for byte", async () => {
    const events = [
      newEvent("proto.one", { payload: Buffer.from([0, 1, 2, 255]), attributes: { k: "v" } }),
      newEvent("proto.two", { source: "svc" }),
    ];
    const body = EventBatch.encode({ events }).finish();
    const response = await post(body, "application/x-protobuf");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ accepted: 2, rejected: 0, assignedIds: [] });
    expect(await takeStored()).toEqual(events);
  });

  it("counts duplicates instead of storing them twice", async () => {
    const event = { eventId: "dup-1", type: "t" };
    expect(await (await postJson([event])).json()).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(await (await postJson([event, event])).json()).toMatchObject({
      accepted: 0,
      duplicates: 2,
    });
    expect(await takeStored()).toHaveLength(1);
  });

  it("rejects events of the wrong shape by position, and stores the others", async () => {
    const response = await postJson([
      { eventId: "ok-1", type: "t" },
      { eventId: "no-type" },
      { eventId: "bad-time", type: "t", timestamp: "yesterday" },
      { eventId: "rfc3339", type: "t", timestamp: "2024-05-06T07:08:09.123+02:00" },
      "not an object",
      { eventId: "bad-attr", type: "t", attributes: { n: 1 } },
      { eventId: "seconds", type: "t", timestamp: 1_700_000_000 },
      { eventId: "ok-2", type: "t", timestamp: String(Date.now()) },
    ]);
    expect(response.status).toBe(200);
    const summary = await summaryOf(response);
    expect(summary).toMatchObject({ accepted: 3, rejected: 5, duplicates: 0 });
    expect(summary.rejections.map((r) => [r.index, r.eventId, r.reason])).toEqual([
      [1, "no-type", "missing_type"],
      [2, "bad-time", "timestamp_out_of_range"],
      [4, "", "malformed"],
      [5, "bad-attr", "malformed"],
      [6, "seconds", "timestamp_out_of_range"],
    ]);
    for (const rejection of summary.rejections)
      expect(rejection.message).toEqual(expect.any(String));
    const stored = await takeStored();
    expect(stored.map((event) => event.eventId)).toEqual(["ok-1", "rfc3339", "ok-2"]);
    expect(stored[1]!.timestamp).toBe(BigInt(Date.parse("2024-05-06T05:08:09.123Z")));
  });

  it("answers 400 for a body that is not what its content type says, and stores nothing", async () => {
    const cases: [string | Uint8Array, string, RegExp][] = [
      ['[{"type": "t"}', "application/json", /not valid JSON/],
      ['{"type": "t"}', "application/json", /array of events or an object/],
      ["42", "application/json", /array of events or an object/],
      ['{"type":"t"}\n{"type": oops}\n', "application/x-ndjson", /line 2 of the NDJSON body/],
      [Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f]), "application/x-protobuf", /protobuf/],
    ];
    for (const [body, contentType, message] of cases) {
      const response = await post(body, contentType);
      expect(response.status, contentType).toBe(400);
      expect(await errorOf(response)).toMatch(message);
    }
    const ndjson = await post('{"type":"t"}\n\n{"type": oops}\n', "application/x-ndjson");
    expect(await ndjson.json()).toMatchObject({ line: 3 });
    expect(await takeStored()).toEqual([]);
  });

  it("answers 413 past MAX_MESSAGE_BYTES and 415 for other content types", async () => {
    const big = JSON.stringify([{ type: "t", payload: "x".repeat(10 * 1024 * 1024) }]);
    const tooLarge = await post(big, "application/json");
    expect(tooLarge.status).toBe(413);
    expect(await errorOf(tooLarge)).toMatch(/MAX_MESSAGE_BYTES/);

    const text = await post('[{"type":"t"}]', "text/plain");
    expect(text.status).toBe(415);
    expect(await text.json()).toMatchObject({ error: expect.any(String) });
    expect(await takeStored()).toEqual([]);
  });

  it("serves many requests at once, and big ones, storing every event", async () => {
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, r) =>
        postJson(Array.from({ length: 20 }, (_, i) => ({ eventId: `c-${r}-${i}`, type: "t" }))),
      ),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(50).fill(200));
    const big = await postJson(
      Array.from({ length: 5000 }, () => ({ type: "big", payload: { n: 1 } })),
    );
    expect(await summaryOf(big)).toMatchObject({ accepted: 5000, rejected: 0 });
    expect(await takeStored()).toHaveLength(6000);
  });

  it("keeps the queue's accounting: stats see what HTTP stored", async () => {
    await postJson([{ type: "counted" }, { type: "counted" }]);
    const stats = await readQueueStats(redis, queueKeys(queue));
    expect(stats.pending).toBe(2);
    await takeStored();
  });
});
