// The gRPC proxy to the master API: a real grpc-js upstream (fixtures/master-upstream.ts), a
// real collector whose pipeline file routes acme.master.v1.Master to it, and real gRPC
// clients calling the collector's address.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startTestCollector,
  type TestCollector,
  uniqueQueueName,
} from "../../../test-support/collector.js";
import { useSharedRedis } from "../../../test-support/shared-redis.js";
import { createProducer, newEvent } from "../../producer/src/index.js";
import { HealthClient, ServingStatus } from "../../proto/src/index.js";
import { decodeEnvelope } from "../../queue/src/index.js";
import { freePort } from "../../testkit/src/index.js";
import { createCollector, createLogger, readCollectorConfig } from "../src/index.js";
import {
  type Callback,
  get as getWith,
  type MasterClient,
  metadataWith,
  readAll,
} from "./fixtures/master-client.js";
import {
  type Item,
  loadMaster,
  type MasterUpstream,
  startMasterUpstream,
} from "./fixtures/master-upstream.js";

const { redisUrl, redis } = useSharedRedis();
const { Master, Admin } = loadMaster();

const ALL = "all-secret-0123456789";
const PROXY = "proxy-secret-0123456789";
const INGEST = "ingest-secret-0123456789";
const TOKENS = `all:${ALL},proxy:${PROXY}:proxy,ingest:${INGEST}:ingest`;

/** A unary Get, with the proxy token unless told otherwise. */
const get = (
  client: MasterClient,
  item: Item,
  options: { token?: string | null; deadlineMs?: number; extra?: Record<string, string> } = {},
) =>
  getWith(client, item, { ...options, token: options.token === undefined ? PROXY : options.token });

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A collector whose pipeline file has these proxy.grpc routes (YAML flow mappings). */
function startProxyCollector(
  queue: string,
  grpcRoutes: string[],
  env: Record<string, string> = {},
) {
  const dir = mkdtempSync(join(tmpdir(), "grpc-proxy-"));
  dirs.push(dir);
  const file = join(dir, "pipeline.yaml");
  writeFileSync(
    file,
    [
      "routes:",
      `  - { name: default, types: ["*"], queue: ${queue} }`,
      "proxy:",
      "  grpc:",
      ...grpcRoutes.map((route) => `    - ${route}`),
      "",
    ].join("\n"),
  );
  return startTestCollector(redisUrl, queue, {
    EVENTPIPE_CONFIG: file,
    COLLECTOR_TOKENS: TOKENS,
    ...env,
  });
}

describe("gRPC proxy to a live upstream", () => {
  let upstream: MasterUpstream;
  let collector: TestCollector;
  let queue: string;
  let client: MasterClient;

  beforeAll(async () => {
    upstream = await startMasterUpstream();
    queue = uniqueQueueName("grpc_proxy");
    collector = await startProxyCollector(queue, [
      `{ services: ["acme.master.v1.Master."], upstream: "${upstream.address}" }`,
    ]);
    client = new Master(
      collector.address,
      grpc.credentials.createInsecure(),
    ) as unknown as MasterClient;
  });
  afterAll(async () => {
    client.close();
    await collector.close();
    await upstream.close();
  });

  it("forwards a unary call: result, request metadata without the gateway token, headers and trailers", async () => {
    const outcome = await get(
      client,
      { id: "u1", count: 1 },
      { extra: { "x-request-id": "req-1" } },
    );
    expect(outcome.error).toBeUndefined();
    expect(outcome.value).toMatchObject({ id: "u1", count: 2 });
    const seen = outcome.value?.seen ?? {};
    expect(seen["x-request-id"]).toBe("req-1");
    expect(seen.authorization).toBeUndefined();
    expect(seen["x-forwarded-for"]).toBe("127.0.0.1");
    expect(outcome.headers?.get("x-upstream-initial")).toEqual(["for-u1"]);
    expect(outcome.trailers?.get("x-upstream-trailer")).toEqual(["done"]);
  });

  it("relays the upstream's status code, message and trailers", async () => {
    const outcome = await get(client, { id: "missing", mode: "fail" });
    expect(outcome.error?.code).toBe(grpc.status.NOT_FOUND);
    expect(outcome.error?.details).toBe("no item missing");
    expect(outcome.trailers?.get("x-upstream-trailer")).toEqual(["failed"]);
    expect(outcome.headers?.get("x-upstream-initial")).toEqual(["for-missing"]);
  });

  it("forwards server-streaming, client-streaming and bidirectional calls", async () => {
    const listed = await readAll(client.List({ id: "l", count: 5 }, metadataWith(PROXY)));
    expect(listed.status.code).toBe(grpc.status.OK);
    expect(listed.items.map((item) => item.id)).toEqual(["l-0", "l-1", "l-2", "l-3", "l-4"]);
    expect(listed.status.metadata.get("x-upstream-trailer")).toEqual(["listed-5"]);

    const collected = await new Promise<Item>((resolve, reject) => {
      const stream = client.Collect(metadataWith(PROXY), (error, value) =>
        error ? reject(error) : resolve(value!),
      );
      for (const [id, count] of [
        ["c1", 1],
        ["c2", 2],
        ["c3", 3],
      ] as const)
        stream.write({ id, count });
      stream.end();
    });
    expect(collected).toMatchObject({ id: "c1,c2,c3", count: 6 });

    const chat = client.Chat(metadataWith(PROXY));
    const echoes: string[] = [];
    const ended = new Promise<grpc.StatusObject>((resolve) => chat.on("status", resolve));
    chat.on("data", (item: Item) => echoes.push(item.id ?? ""));
    chat.write({ id: "b1" });
    await expect.poll(() => echoes, { timeout: 10_000 }).toEqual(["echo:b1"]);
    chat.write({ id: "b2" });
    chat.write({ id: "b3" });
    chat.end();
    const status = await ended;
    expect(status.code).toBe(grpc.status.OK);
    expect(echoes).toEqual(["echo:b1", "echo:b2", "echo:b3"]);
    expect(status.metadata.get("x-upstream-trailer")).toEqual(["chatted"]);
  });

  it("gives DEADLINE_EXCEEDED past the caller's deadline and cancels the upstream call", async () => {
    const outcome = await get(client, { id: "slow-1", mode: "hang" }, { deadlineMs: 300 });
    expect(outcome.error?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    await expect.poll(() => upstream.cancelled, { timeout: 5000 }).toContain("slow-1");
  });

  it("cancels the upstream call when the caller cancels", async () => {
    const chat = client.Chat(metadataWith(PROXY));
    chat.on("error", () => {});
    const echoes: string[] = [];
    chat.on("data", (item: Item) => echoes.push(item.id ?? ""));
    chat.write({ id: "watch-1" });
    await expect.poll(() => echoes, { timeout: 10_000 }).toEqual(["echo:watch-1"]);
    chat.cancel();
    await expect.poll(() => upstream.cancelled, { timeout: 5000 }).toContain("watch-1");
  });

  it("holds the upstream back while the caller does not read, then delivers everything in order", async () => {
    const total = 1000; // 64 KiB each: 64 MiB if the proxy buffered the whole stream
    const stream = client.List({ id: "f", mode: "flood", count: total }, metadataWith(PROXY));
    const ids: string[] = [];
    const ended = new Promise<grpc.StatusObject>((resolve) => stream.on("status", resolve));
    stream.once("data", (item: Item) => {
      ids.push(item.id ?? "");
      stream.pause();
      stream.on("data", (next: Item) => ids.push(next.id ?? ""));
    });
    await expect.poll(() => upstream.flood.waitingForDrain, { timeout: 10_000 }).toBe(true);
    // Other calls through the same collector go on meanwhile: its event loop had every chance
    // to read more of the stream, and the upstream is still held back.
    for (let i = 0; i < 3; i++)
      expect((await get(client, { id: `beside-${i}` })).value?.id).toBe(`beside-${i}`);
    expect(upstream.flood.waitingForDrain).toBe(true);
    const heldAt = upstream.flood.written;
    expect(heldAt).toBeLessThan(total / 4);

    stream.resume();
    const status = await ended;
    expect(status.code).toBe(grpc.status.OK);
    expect(ids).toHaveLength(total);
    expect(ids.at(-1)).toBe(`f-${total - 1}`);
    expect(upstream.flood.done).toBe(true);
  });

  it("answers UNIMPLEMENTED for methods no prefix claims, even ones the upstream has", async () => {
    const admin = new Admin(collector.address, grpc.credentials.createInsecure()) as unknown as {
      Ping(item: Item, md: grpc.Metadata, cb: Callback<Item>): void;
      close(): void;
    };
    const viaCollector = await new Promise<grpc.ServiceError | null>((resolve) =>
      admin.Ping({ id: "p" }, metadataWith(ALL), (error) => resolve(error)),
    );
    expect(viaCollector?.code).toBe(grpc.status.UNIMPLEMENTED);
    admin.close();
    const direct = new Admin(
      upstream.address,
      grpc.credentials.createInsecure(),
    ) as unknown as typeof admin;
    const pong = await new Promise<Item | undefined>((resolve) =>
      direct.Ping({ id: "p" }, new grpc.Metadata(), (_error, value) => resolve(value)),
    );
    expect(pong?.id).toBe("pong:p");
    direct.close();

    const raw = new grpc.Client(collector.address, grpc.credentials.createInsecure());
    const other = await new Promise<grpc.ServiceError | null>((resolve) =>
      raw.makeUnaryRequest(
        "/other.v1.Thing/Do",
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.alloc(0),
        metadataWith(ALL),
        (error) => resolve(error),
      ),
    );
    expect(other?.code).toBe(grpc.status.UNIMPLEMENTED);
    raw.close();
  });

  it("refuses calls without a token (UNAUTHENTICATED) and with a token outside the proxy scope (PERMISSION_DENIED)", async () => {
    const anonymous = await get(client, { id: "anon" }, { token: null });
    expect(anonymous.error?.code).toBe(grpc.status.UNAUTHENTICATED);
    const ingestOnly = await get(client, { id: "ingest-only" }, { token: INGEST });
    expect(ingestOnly.error?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(upstream.started).not.toContain("anon");
    expect(upstream.started).not.toContain("ingest-only");
    const everything = await get(client, { id: "all-scopes" }, { token: ALL });
    expect(everything.value?.id).toBe("all-scopes");
  });

  it("keeps the collector's own services and health working beside the proxy", async () => {
    const producer = createProducer({ address: collector.address, token: INGEST });
    const events = Array.from({ length: 20 }, () => newEvent("proxy_neighbour"));
    for (const event of events) await producer.send(event);
    expect(await producer.close()).toMatchObject({ sent: 20, stored: 20 });
    const entries = await redis.lrangeBuffer(queue, 0, -1);
    const stored = entries.map((entry) => decodeEnvelope(entry).stored.event!.eventId);
    expect(stored).toEqual(expect.arrayContaining(events.map((event) => event.eventId)));

    const health = new HealthClient(collector.address, grpc.credentials.createInsecure());
    const serving = await new Promise<ServingStatus | undefined>((resolve) =>
      health.check({ service: "" }, (_error, reply) => resolve(reply?.status)),
    );
    expect(serving).toBe(ServingStatus.SERVING);
    health.close();
  });
});

describe("gRPC proxy when the upstream fails or the collector stops", () => {
  it("gives UNAVAILABLE to every call of an upstream that is down from the start, and the collector serves on", async () => {
    const queue = uniqueQueueName("grpc_proxy_down");
    const collector = await startProxyCollector(queue, [
      `{ services: ["acme.master.v1."], upstream: "127.0.0.1:${await freePort()}" }`,
    ]);
    const client = new Master(
      collector.address,
      grpc.credentials.createInsecure(),
    ) as unknown as MasterClient;
    for (let i = 0; i < 3; i++) {
      const outcome = await get(client, { id: `down-${i}` });
      expect(outcome.error?.code).toBe(grpc.status.UNAVAILABLE);
      expect(outcome.error?.details).toMatch(/^upstream unavailable: /);
    }
    const listed = await readAll(client.List({ id: "down-list", count: 2 }, metadataWith(PROXY)));
    expect(listed.status.code).toBe(grpc.status.UNAVAILABLE);
    const health = new HealthClient(collector.address, grpc.credentials.createInsecure());
    const serving = await new Promise<ServingStatus | undefined>((resolve) =>
      health.check({ service: "" }, (_error, reply) => resolve(reply?.status)),
    );
    expect(serving).toBe(ServingStatus.SERVING);
    health.close();
    client.close();
    await collector.close();
  });

  it("gives UNAVAILABLE when the upstream dies in the middle of a stream", async () => {
    const upstream = await startMasterUpstream();
    const collector = await startProxyCollector(uniqueQueueName("grpc_proxy_kill"), [
      `{ services: ["acme.master.v1.Master/"], upstream: "${upstream.address}" }`,
    ]);
    const client = new Master(
      collector.address,
      grpc.credentials.createInsecure(),
    ) as unknown as MasterClient;
    const stream = client.List({ id: "k", mode: "stall" }, metadataWith(PROXY));
    const result = readAll(stream);
    const received: string[] = [];
    stream.on("data", (item: Item) => received.push(item.id ?? ""));
    await expect.poll(() => received, { timeout: 10_000 }).toEqual(["k-0", "k-1"]);
    upstream.kill();
    const { status } = await result;
    expect(status.code).toBe(grpc.status.UNAVAILABLE);
    client.close();
    await collector.close();
  });

  it("ends a call still open past the shutdown grace period with UNAVAILABLE and cancels it upstream", async () => {
    const upstream = await startMasterUpstream();
    const collector = await startProxyCollector(uniqueQueueName("grpc_proxy_stop"), [
      `{ services: ["acme.master.v1."], upstream: "${upstream.address}" }`,
    ]);
    const client = new Master(
      collector.address,
      grpc.credentials.createInsecure(),
    ) as unknown as MasterClient;
    const chat = client.Chat(metadataWith(PROXY));
    chat.on("error", () => {});
    const ended = new Promise<grpc.StatusObject>((resolve) => chat.on("status", resolve));
    const echoes: string[] = [];
    chat.on("data", (item: Item) => echoes.push(item.id ?? ""));
    chat.write({ id: "open-1" });
    await expect.poll(() => echoes, { timeout: 10_000 }).toEqual(["echo:open-1"]);
    await collector.close(); // 500 ms of grace, then what is open ends
    const status = await ended;
    expect(status.code).toBe(grpc.status.UNAVAILABLE);
    expect(status.details).toMatch(/shutting down/);
    await expect.poll(() => upstream.cancelled, { timeout: 5000 }).toContain("open-1");
    client.close();
    await upstream.close();
  });

  it("refuses at start a route whose prefix covers one of the collector's own services", () => {
    // The pipeline file's parser accepts this prefix (it names no method of the service); the
    // collector checks its real services when it builds the gRPC door.
    const dir = mkdtempSync(join(tmpdir(), "grpc-proxy-"));
    dirs.push(dir);
    const file = join(dir, "pipeline.yaml");
    writeFileSync(
      file,
      'routes: [{ name: default, types: ["*"], queue: q }]\n' +
        'proxy: { grpc: [{ services: ["event.EventService."], upstream: "127.0.0.1:1" }] }\n',
    );
    const config = readCollectorConfig({
      REDIS_URL: redisUrl,
      EVENTPIPE_CONFIG: file,
      COLLECTOR_LISTEN: "127.0.0.1:0",
      COLLECTOR_HTTP_LISTEN: "",
    });
    expect(() =>
      createCollector({ redis, config, logger: createLogger("silent", "test") }),
    ).toThrow(/covers the collector's own method \/event\.EventService\//);
  });
});
