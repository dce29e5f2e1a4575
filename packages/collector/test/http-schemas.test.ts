import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startTestCollector,
  type TestCollector,
  uniqueQueueName,
} from "../../../test-support/collector.js";
import { useSharedRedis } from "../../../test-support/shared-redis.js";
import { createEventClient, newEvent, streamEvents } from "../../producer/src/index.js";
import { RejectionReason } from "../../proto/src/index.js";
import { decodeEnvelope } from "../../queue/src/index.js";

const { redisUrl, redis } = useSharedRedis();

// The registry is shared by every collector on a Redis: each test uses its own type names.
const newType = (label: string) => `${uniqueQueueName(label)}.user`;

const USER_V1 = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  properties: { name: { type: "string" }, age: { type: "integer" } },
  required: ["name"],
};
const USER_V2 = { ...USER_V1, properties: { ...USER_V1.properties, nickname: { type: "string" } } };
const USER_REQUIRES_EMAIL = {
  ...USER_V2,
  properties: { ...USER_V2.properties, email: { type: "string" } },
  required: ["name", "email"],
};

let collector: TestCollector;
let queue: string;
beforeAll(async () => {
  queue = uniqueQueueName("http_schemas");
  collector = await startTestCollector(redisUrl, queue);
});
afterAll(async () => {
  await collector.close();
});

/** The fields these tests read from the door's JSON replies. */
interface Reply {
  error?: string;
  reason?: string;
  version?: number;
  registeredAtMs?: number;
  schema?: unknown;
  breaks?: { path: string; kind: string; message: string }[];
  accepted?: number;
  rejected?: number;
  rejections?: unknown[];
}

async function call(
  method: string,
  path: string,
  body?: unknown,
  base = collector.httpUrl,
): Promise<{ status: number; body: Reply }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Reply };
}

async function storedIds(): Promise<string[]> {
  const entries = await redis.lrangeBuffer(queue, 0, -1);
  await redis.del(queue);
  return entries.reverse().map((entry) => decodeEnvelope(entry).stored.event!.eventId);
}

describe("schema registry routes", () => {
  it("registers versions, refuses invalid and incompatible schemas, and reads them back", async () => {
    const type = newType("registry");
    expect(await call("GET", `/v1/schemas/${type}`)).toMatchObject({
      status: 404,
      body: { error: expect.stringContaining(type) },
    });

    expect(await call("PUT", `/v1/schemas/${type}`, USER_V1)).toEqual({
      status: 201,
      body: { type, version: 1, created: true },
    });
    expect(await call("PUT", `/v1/schemas/${type}`, USER_V1)).toEqual({
      status: 200,
      body: { type, version: 1, created: false },
    });

    const invalid = await call("PUT", `/v1/schemas/${type}`, { type: "no-such-type" });
    expect(invalid.status).toBe(422);
    expect(invalid.body).toMatchObject({ error: expect.any(String), reason: expect.any(String) });

    const incompatible = await call("PUT", `/v1/schemas/${type}`, USER_REQUIRES_EMAIL);
    expect(incompatible.status).toBe(409);
    expect(incompatible.body.breaks).toContainEqual(
      expect.objectContaining({ path: expect.stringContaining("email"), kind: expect.any(String) }),
    );

    // An optional property is a compatible change under the default BACKWARD mode.
    expect(await call("PUT", `/v1/schemas/${type}`, USER_V2)).toMatchObject({
      status: 201,
      body: { version: 2, created: true },
    });

    const latest = await call("GET", `/v1/schemas/${type}`);
    expect(latest).toMatchObject({
      status: 200,
      body: { type, version: 2, compatibility: "BACKWARD", versions: [1, 2] },
    });
    expect(latest.body.schema).toEqual(USER_V2);
    expect(latest.body.registeredAtMs!).toBeGreaterThan(0);

    expect(await call("GET", `/v1/schemas/${type}/versions/1`)).toMatchObject({
      status: 200,
      body: { type, version: 1, schema: USER_V1 },
    });
    expect((await call("GET", `/v1/schemas/${type}/versions/7`)).status).toBe(404);
    expect((await call("GET", `/v1/schemas/${type}/versions/0`)).status).toBe(400);
    expect((await call("GET", `/v1/schemas/${type}/versions/two`)).status).toBe(400);
    expect((await call("PUT", `/v1/schemas/${type}`)).status).toBe(400);

    // Long names (up to the registry's 255 characters) fit in a path segment.
    const long = `${type}.${"x".repeat(250 - type.length)}`;
    expect((await call("PUT", `/v1/schemas/${long}`, USER_V1)).status).toBe(201);
    expect((await call("GET", `/v1/schemas/${long}/versions/1`)).body.version).toBe(1);
  });

  it("checks compatibility without registering, and follows the type's mode", async () => {
    const type = newType("compat");
    await call("PUT", `/v1/schemas/${type}`, USER_V1);

    const breaking = await call("POST", `/v1/schemas/${type}/compatibility`, USER_REQUIRES_EMAIL);
    expect(breaking.status).toBe(200);
    expect(breaking.body).toMatchObject({ compatible: false, mode: "BACKWARD", against: 1 });
    expect(breaking.body.breaks!.length).toBeGreaterThan(0);
    expect(await call("POST", `/v1/schemas/${type}/compatibility`, USER_V2)).toEqual({
      status: 200,
      body: { compatible: true, mode: "BACKWARD", against: 1, breaks: [] },
    });
    expect((await call("POST", `/v1/schemas/${type}/compatibility`, { type: 5 })).status).toBe(422);
    expect((await call("GET", `/v1/schemas/${type}`)).body.version).toBe(1);

    expect(await call("GET", `/v1/schemas/${type}/config`)).toEqual({
      status: 200,
      body: { type, compatibility: "BACKWARD" },
    });
    expect(
      (await call("PUT", `/v1/schemas/${type}/config`, { compatibility: "SIDEWAYS" })).status,
    ).toBe(400);
    expect(await call("PUT", `/v1/schemas/${type}/config`, { compatibility: "NONE" })).toEqual({
      status: 200,
      body: { type, compatibility: "NONE" },
    });
    // NONE: the breaking change is taken.
    expect(await call("PUT", `/v1/schemas/${type}`, USER_REQUIRES_EMAIL)).toMatchObject({
      status: 201,
      body: { version: 2 },
    });

    const prefix = type.slice(0, type.lastIndexOf("."));
    expect(await call("GET", `/v1/schemas?prefix=${encodeURIComponent(prefix)}`)).toEqual({
      status: 200,
      body: { types: [{ type, latestVersion: 2, compatibility: "NONE" }] },
    });
  });
});

describe("schema enforcement", () => {
  it("rejects a payload that breaks its schema with schema_violation and the instance path, storing the rest", async () => {
    const type = newType("enforce_http");
    await call("PUT", `/v1/schemas/${type}`, USER_V1);
    const response = await call("POST", "/v1/events", [
      { eventId: "good-1", type, payload: { name: "Ada", age: 36 } },
      { eventId: "bad-age", type, payload: { name: "Bob", age: "old" } },
      { eventId: "no-name", type, payload: { age: 3 } },
      { eventId: "other-type", type: `${type}.unregistered`, payload: { anything: true } },
    ]);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ accepted: 2, rejected: 2 });
    expect(response.body.rejections).toEqual([
      {
        index: 1,
        eventId: "bad-age",
        reason: "schema_violation",
        message: expect.stringContaining("/age"),
      },
      { index: 2, eventId: "no-name", reason: "schema_violation", message: expect.any(String) },
    ]);
    expect(await storedIds()).toEqual(["good-1", "other-type"]);
  });

  it("enforces the same schemas on the gRPC door", async () => {
    const type = newType("enforce_grpc");
    await call("PUT", `/v1/schemas/${type}`, USER_V1);
    const payload = (value: unknown) => Buffer.from(JSON.stringify(value));
    const events = [
      newEvent(type, { payload: payload({ name: "Ada" }) }),
      newEvent(type, { payload: payload({ name: "Bob", age: 1.5 }) }),
      newEvent(type, { payload: payload({ name: "Cy", age: 7 }) }),
    ];
    const client = createEventClient({ address: collector.address });
    try {
      const summary = await streamEvents(client, events, { rpc: "batch" });
      expect(summary).toMatchObject({ accepted: 2, rejected: 1 });
      expect(summary.rejections).toEqual([
        expect.objectContaining({
          index: 1,
          eventId: events[1]!.eventId,
          reason: RejectionReason.REJECTION_REASON_SCHEMA_VIOLATION,
          message: expect.stringContaining("/age"),
        }),
      ]);
    } finally {
      client.close();
    }
    expect(await storedIds()).toEqual([events[0]!.eventId, events[2]!.eventId]);
  });

  it("a schema registered through one collector is enforced by another within a second", async () => {
    const otherQueue = uniqueQueueName("http_schemas_other");
    const other = await startTestCollector(redisUrl, otherQueue);
    try {
      const type = newType("two_collectors");
      const bad = [{ type, payload: { name: 42 } }];
      expect((await call("POST", "/v1/events", bad, other.httpUrl)).body.accepted).toBe(1);
      expect((await call("PUT", `/v1/schemas/${type}`, USER_V1)).status).toBe(201);
      const registeredAt = Date.now();
      await expect
        .poll(async () => (await call("POST", "/v1/events", bad, other.httpUrl)).body.rejected, {
          timeout: 1000,
          interval: 20,
        })
        .toBe(1);
      expect(Date.now() - registeredAt).toBeLessThan(1000);
    } finally {
      await other.close();
      await redis.del(otherQueue);
    }
  });
});
