import { afterEach, describe, expect, it } from "vitest";
import {
  startTestCollector,
  type TestCollector,
  uniqueQueueName,
} from "../../../test-support/collector.js";
import { useSharedRedis } from "../../../test-support/shared-redis.js";
import { startTestWorker, type TestWorker } from "../../../test-support/worker.js";
import type { Event } from "../../proto/src/index.js";

const { redisUrl } = useSharedRedis();

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const LOGIN_SCHEMA = {
  type: "object",
  properties: { user: { type: "string" }, ok: { type: "boolean" } },
  required: ["user"],
};

let collector: TestCollector | undefined;
let worker: TestWorker | undefined;
afterEach(async () => {
  await worker?.close();
  await collector?.close();
  worker = undefined;
  collector = undefined;
});

describe("the sample flow: register_event, send_event, schema, list_events", () => {
  it("registers a client's event, takes payloads that follow it, and a worker gets them as sent", async () => {
    const queue = uniqueQueueName("http_sample");
    // Client names are per test: the registry is shared by the run's collectors.
    const client = uniqueQueueName("shop");
    collector = await startTestCollector(redisUrl, queue);
    const received: Event[] = [];
    worker = await startTestWorker(redisUrl, queue, async (event) => {
      received.push(event);
    });
    const url = (path: string) => `${collector!.httpUrl}/${client}/${path}`;
    const postJson = (path: string, body: string) =>
      fetch(url(path), { method: "POST", headers: { "content-type": "application/json" }, body });

    expect((await fetch(url("login/schema"))).status).toBe(404);
    expect(await (await fetch(url("list_events"))).json()).toEqual({ client, events: [] });

    const registered = await postJson("login/register_event", JSON.stringify(LOGIN_SCHEMA));
    expect(registered.status).toBe(201);
    expect(await registered.json()).toEqual({ type: `${client}.login`, version: 1, created: true });
    expect((await postJson("login/register_event", JSON.stringify(LOGIN_SCHEMA))).status).toBe(200);
    expect((await postJson("logout/register_event", '{"type": "object"}')).status).toBe(201);
    expect((await postJson("broken/register_event", '{"type": 12}')).status).toBe(422);

    const schema = await fetch(url("login/schema"));
    expect(schema.status).toBe(200);
    expect(await schema.json()).toMatchObject({
      type: `${client}.login`,
      version: 1,
      schema: LOGIN_SCHEMA,
    });
    expect(await (await fetch(url("list_events"))).json()).toEqual({
      client,
      events: ["login", "logout"],
    });

    // Spacing and key order as the producer wrote them: the payload is stored byte for byte.
    const payload = '{ "user": "ada",\n  "ok": true }';
    const sent = await postJson("login/send_event", payload);
    expect(sent.status).toBe(200);
    const summary = (await sent.json()) as { assignedIds: { index: number; eventId: string }[] };
    expect(summary).toMatchObject({ accepted: 1, rejected: 0, duplicates: 0, rejections: [] });
    expect(summary.assignedIds).toEqual([{ index: 0, eventId: expect.stringMatching(UUID_V7) }]);

    const refused = await postJson("login/send_event", '{"ok": "yes"}');
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({
      accepted: 0,
      rejected: 1,
      rejections: [{ index: 0, reason: "schema_violation", message: expect.any(String) }],
    });
    expect((await postJson("login/send_event", "{not json")).status).toBe(400);
    // A type nobody registered takes any JSON payload.
    expect((await postJson("signup/send_event", "[1, 2, 3]")).status).toBe(200);

    await expect.poll(() => received.length, { timeout: 10_000 }).toBe(2);
    const login = received.find((event) => event.type === `${client}.login`)!;
    expect(login.eventId).toBe(summary.assignedIds[0]!.eventId);
    expect(login.payload.toString("utf8")).toBe(payload);
    expect(Math.abs(Number(login.timestamp) - Date.now())).toBeLessThan(60_000);
    const signup = received.find((event) => event.type === `${client}.signup`)!;
    expect(signup.payload.toString("utf8")).toBe("[1, 2, 3]");
  });
});
