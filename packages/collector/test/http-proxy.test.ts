// The HTTP proxy to the master API against a real upstream node:http server and a real
// collector: paths, query strings, statuses and headers relayed, bodies streamed both ways past
// MAX_MESSAGE_BYTES, 502 and 504 in the door's JSON error shape, the `proxy` token scope, and
// eventpipe's own routes untouched beside it.
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PipelineError } from "@eventpipe/pipeline";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  startTestCollector,
  type TestCollector,
  uniqueQueueName,
} from "../../../test-support/collector.js";
import { spawnService } from "../../../test-support/processes.js";
import { useSharedRedis } from "../../../test-support/shared-redis.js";
import { connectRedis, decodeEnvelope } from "../../queue/src/index.js";
import { closeServer, freePort, listenOnLoopback } from "../../testkit/src/index.js";
import { createCollector, createLogger, readCollectorConfig } from "../src/index.js";

const { redisUrl, redis } = useSharedRedis();

const BODY_BYTES = 5 * 1024 * 1024;
const MAX_MESSAGE_BYTES = 1024 * 1024;
const PROXY_TOKEN = "gateway-secret-0123456789";
const INGEST_TOKEN = "producer-secret-0123456789";

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

/** The master API stand-in: answers by path, remembers what it saw. */
function startUpstream() {
  const seen: Seen[] = [];
  let uploadBytes = 0;
  /** Answers to /download held back until the test releases them. */
  let heldDownloads: (() => void)[] = [];
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const url = request.url ?? "";
    seen.push({ method: request.method ?? "", url, headers: request.headers });
    if (url.startsWith("/upload")) {
      const hash = createHash("sha256");
      request.on("data", (chunk: Buffer) => {
        uploadBytes += chunk.length;
        hash.update(chunk);
      });
      request.on("end", () => {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify({ bytes: uploadBytes, sha256: hash.digest("hex") }));
      });
      return;
    }
    if (url.startsWith("/download")) {
      response.writeHead(200, { "content-type": "application/octet-stream" });
      response.write(Buffer.alloc(64 * 1024, 1));
      heldDownloads.push(() => response.end(Buffer.alloc(64 * 1024, 2)));
      return;
    }
    if (url.startsWith("/hang")) return; // never answers
    const status = /^\/status\/(\d{3})/.exec(url);
    request.resume();
    request.on("end", () => {
      if (status !== null) {
        response.writeHead(Number(status[1]), {
          "content-type": "text/plain",
          "x-status": "relayed",
          location: "/created/7",
          "proxy-authenticate": 'Basic realm="upstream"',
        });
        response.end(`status ${status[1]}`);
        return;
      }
      response.writeHead(200, { "content-type": "application/json", "x-upstream": "yes" });
      response.end(JSON.stringify({ method: request.method, url, headers: request.headers }));
    });
  };
  const server: Server = createServer(handle);
  return {
    seen,
    uploadBytes: () => uploadBytes,
    heldDownloads: () => heldDownloads.length,
    releaseDownloads() {
      const held = heldDownloads;
      heldDownloads = [];
      for (const release of held) release();
    },
    listen: () => listenOnLoopback(server),
    close: () => closeServer(server),
  };
}

const upstream = startUpstream();
const dir = mkdtempSync(join(tmpdir(), "eventpipe-proxy-"));
let upstreamPort: number;
let queue: string;
let pipelineFile: string;
let open: TestCollector;
let guarded: TestCollector;

beforeAll(async () => {
  const port = await upstream.listen();
  upstreamPort = port;
  const deadPort = await freePort();
  queue = uniqueQueueName("http_proxy");
  pipelineFile = join(dir, "gateway.yaml");
  writeFileSync(
    pipelineFile,
    `routes:
  - { name: default, types: ["*"], queue: ${queue} }
proxy:
  http:
    - { prefix: /api, upstream: "http://127.0.0.1:${port}" }
    - { prefix: /slow, upstream: "http://127.0.0.1:${port}", rewritePrefix: /hang, timeoutMs: 300 }
    - { prefix: /down, upstream: "http://127.0.0.1:${deadPort}" }
    - { prefix: /based/api, upstream: "http://127.0.0.1:${port}/base", rewritePrefix: /v2 }
`,
  );
  const env = { EVENTPIPE_CONFIG: pipelineFile, MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES) };
  open = await startTestCollector(redisUrl, queue, env);
  guarded = await startTestCollector(redisUrl, queue, {
    ...env,
    COLLECTOR_TOKENS: `gateway:${PROXY_TOKEN}:proxy,producer:${INGEST_TOKEN}:ingest`,
  });
});
afterAll(async () => {
  await Promise.allSettled([open?.close(), guarded?.close()]);
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A raw node:http request, so hop-by-hop headers and streamed bodies go out as written. */
function send(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
) {
  const url = new URL(path, base);
  return httpRequest(url, { method: options.method ?? "GET", headers: options.headers ?? {} });
}

async function responseOf(request: ReturnType<typeof send>) {
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    request.on("response", resolve);
    request.on("error", reject);
  });
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return { status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks) };
}

const lastSeen = () => upstream.seen.at(-1)!;

describe("forwarding", () => {
  it("forwards a GET with its path rewritten and its query string as sent", async () => {
    const response = await fetch(`${open.httpUrl}/api/items/7?b=2&a=1&a=3&q=hello%20world&flag`);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-upstream")).toBe("yes");
    const echoed = (await response.json()) as { method: string; url: string };
    expect(echoed).toMatchObject({
      method: "GET",
      url: "/items/7?b=2&a=1&a=3&q=hello%20world&flag",
    });
    // The prefix alone is the upstream's root.
    await fetch(`${open.httpUrl}/api`);
    expect(lastSeen().url).toBe("/");
    // An upstream's base path comes before rewritePrefix.
    await fetch(`${open.httpUrl}/based/api/items?x=1`);
    expect(lastSeen().url).toBe("/base/v2/items?x=1");
  });

  it("relays statuses and response headers, without hop-by-hop ones", async () => {
    for (const status of [201, 404, 418, 503]) {
      const response = await fetch(`${open.httpUrl}/api/status/${status}`, {
        method: "DELETE",
        redirect: "manual",
      });
      expect(response.status).toBe(status);
      expect(await response.text()).toBe(`status ${status}`);
      expect(response.headers.get("x-status")).toBe("relayed");
      // A Location on the upstream's own paths points back under the prefix.
      expect(response.headers.get("location")).toBe("/api/created/7");
      expect(response.headers.get("proxy-authenticate")).toBeNull();
    }
    // Nothing was retried: one DELETE per status, a 503 included.
    expect(upstream.seen.filter((s) => s.url.startsWith("/status/503"))).toHaveLength(1);
  });

  it("adds X-Forwarded-*, drops hop-by-hop headers, keeps the rest", async () => {
    const { status } = await responseOf(
      send(open.httpUrl, "/api/headers", {
        headers: {
          "x-client": "kept",
          "x-forwarded-for": "203.0.113.9",
          authorization: "Bearer the-master-apis-own-token",
          connection: "keep-alive, x-per-hop",
          "x-per-hop": "dropped",
          "keep-alive": "timeout=30",
          te: "trailers",
          "proxy-authorization": "Basic cHJveHk6cHJveHk=",
        },
      }).end(),
    );
    expect(status).toBe(200);
    const { headers } = lastSeen();
    expect(headers).toMatchObject({
      "x-client": "kept",
      "x-forwarded-for": "203.0.113.9, 127.0.0.1",
      "x-forwarded-host": new URL(open.httpUrl).host,
      "x-forwarded-proto": "http",
      // Tokens are off on this collector: the caller's authorization is for the master API.
      authorization: "Bearer the-master-apis-own-token",
    });
    expect(headers.host).toBe(`127.0.0.1:${upstreamPort}`);
    for (const name of ["x-per-hop", "keep-alive", "te", "proxy-authorization"]) {
      expect(headers[name], name).toBeUndefined();
    }
  });

  it("streams a 5 MB upload past MAX_MESSAGE_BYTES: the upstream reads before the client is done", async () => {
    const body = randomBytes(BODY_BYTES);
    const before = upstream.uploadBytes();
    const request = send(open.httpUrl, "/api/upload", {
      method: "POST",
      headers: { "content-type": "application/json" },
    });
    const answer = responseOf(request);
    request.write(body.subarray(0, 1024 * 1024));
    // The first megabyte reaches the upstream while the other four are not sent yet.
    await vi.waitFor(() => expect(upstream.uploadBytes()).toBeGreaterThan(before), {
      timeout: 10_000,
    });
    request.end(body.subarray(1024 * 1024));
    const { status, body: reply } = await answer;
    expect(status).toBe(200);
    expect(JSON.parse(reply.toString())).toEqual({
      bytes: BODY_BYTES,
      sha256: createHash("sha256").update(body).digest("hex"),
    });
    // The same JSON body on an own route is held to the limit.
    const own = await fetch(`${open.httpUrl}/v1/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ type: "t", payload: "x".repeat(MAX_MESSAGE_BYTES) }]),
    });
    expect(own.status).toBe(413);
  });

  it("streams the answer: the client reads the first part before the upstream ends", async () => {
    const download = await startDownload(open.httpUrl);
    upstream.releaseDownloads();
    const all = await download.rest();
    expect(all.length).toBe(128 * 1024);
    expect(all[0]).toBe(1);
    expect(all.at(-1)).toBe(2);
  });
});

/** GET /api/download, resolved once its first 64 KiB arrived (the upstream holds the rest back). */
async function startDownload(base: string) {
  const request = send(base, "/api/download").end();
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    request.on("response", resolve);
    request.on("error", reject);
  });
  const chunks: Buffer[] = [];
  response.on("data", (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise((resolve, reject) => {
    response.on("end", resolve);
    response.on("error", reject);
  });
  await vi.waitFor(() => expect(Buffer.concat(chunks).length).toBeGreaterThanOrEqual(64 * 1024), {
    timeout: 10_000,
  });
  return {
    async rest(): Promise<Buffer> {
      await ended;
      return Buffer.concat(chunks);
    },
  };
}

describe("upstream failures", () => {
  it("answers 502 with a JSON error when the upstream is down", async () => {
    const response = await fetch(`${open.httpUrl}/down/users`);
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({
      code: "EP_PROXY_UPSTREAM_UNAVAILABLE",
      error: expect.stringContaining("ECONNREFUSED"),
    });
  });

  it("answers 504 with a JSON error past the route's timeoutMs", async () => {
    const response = await fetch(`${open.httpUrl}/slow/forever`);
    expect(response.status).toBe(504);
    expect(await response.json()).toEqual({
      code: "EP_PROXY_UPSTREAM_TIMEOUT",
      error: "the upstream did not answer within 300 ms (the proxy route's timeoutMs)",
    });
    expect(lastSeen().url).toBe("/hang/forever");
  });

  it("refuses a path that climbs out of the upstream's prefix", async () => {
    const seenBefore = upstream.seen.length;
    const { status, body } = await responseOf(send(open.httpUrl, "/api/..%2f..%2fsecret").end());
    expect(status).toBe(400);
    expect(JSON.parse(body.toString())).toMatchObject({ code: "EP_PROXY_BAD_PATH" });
    expect(upstream.seen.length).toBe(seenBefore);
  });
});

describe("tokens", () => {
  it("wants a token with the proxy scope, and keeps it from the upstream", async () => {
    const call = (token?: string) =>
      fetch(`${guarded.httpUrl}/api/private`, {
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      });
    const seenBefore = upstream.seen.length;
    const missing = await call();
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ code: "EP_HTTP_UNAUTHENTICATED" });
    const wrongScope = await call(INGEST_TOKEN);
    expect(wrongScope.status).toBe(403);
    expect(await wrongScope.json()).toMatchObject({ code: "EP_HTTP_FORBIDDEN" });
    // Neither reached the upstream.
    expect(upstream.seen.length).toBe(seenBefore);

    const allowed = await call(PROXY_TOKEN);
    expect(allowed.status).toBe(200);
    expect(upstream.seen.length).toBe(seenBefore + 1);
    expect(lastSeen().headers.authorization).toBeUndefined();
    // And the proxy token is no ingest token.
    const events = await fetch(`${guarded.httpUrl}/v1/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${PROXY_TOKEN}`, "content-type": "application/json" },
      body: "[]",
    });
    expect(events.status).toBe(403);
  });
});

describe("eventpipe's own routes beside the proxy", () => {
  it("keeps /healthz and /v1/events, and the sample routes of other clients", async () => {
    expect((await fetch(`${open.httpUrl}/healthz`)).status).toBe(200);
    const stored = await fetch(`${open.httpUrl}/v1/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ eventId: "proxy-beside-1", type: "user_login", payload: {} }]),
    });
    expect(stored.status).toBe(200);
    const ids = (await redis.lrangeBuffer(queue, 0, -1)).map(
      (entry) => decodeEnvelope(entry).stored.event?.eventId,
    );
    expect(ids).toContain("proxy-beside-1");

    const shop = await fetch(`${open.httpUrl}/shop/list_events`);
    expect(shop.status).toBe(200);
    expect(await shop.json()).toMatchObject({ client: "shop" });
    // The prefix's first segment is the proxy's: "api" is not a sample-flow client.
    await fetch(`${open.httpUrl}/api/list_events`);
    expect(lastSeen().url).toBe("/list_events");
  });
});

describe("shutdown", () => {
  it("counts a proxied request as in flight: closing lets it finish", async () => {
    const gateway = await startTestCollector(redisUrl, queue, {
      EVENTPIPE_CONFIG: pipelineFile,
    });
    try {
      const download = await startDownload(gateway.httpUrl);
      expect(gateway.collector.activeStreams).toBe(1);
      let closed = false;
      const closing = gateway.collector.close(30_000).then(() => {
        closed = true;
      });
      // The door stops accepting connections, and waits for the unfinished answer.
      await vi.waitFor(
        async () =>
          expect(await fetch(`${gateway.httpUrl}/healthz`).then(String, () => "refused")).toBe(
            "refused",
          ),
        { timeout: 10_000 },
      );
      expect(upstream.heldDownloads()).toBe(1);
      expect(closed).toBe(false);
      upstream.releaseDownloads();
      expect((await download.rest()).length).toBe(128 * 1024);
      await closing;
      expect(gateway.collector.activeStreams).toBe(0);
    } finally {
      await gateway.close();
    }
  });
});

describe("a prefix over an own route", () => {
  it("stops the collector process at start, exit code 2, with the file's line", async () => {
    const file = join(dir, "overlap.yaml");
    writeFileSync(
      file,
      `routes:
  - { name: default, types: ["*"], queue: q }
proxy:
  http:
    - { prefix: /v1/events, upstream: "http://127.0.0.1:1" }
`,
    );
    const proc = spawnService("collector", {
      REDIS_URL: redisUrl,
      EVENTPIPE_CONFIG: file,
      COLLECTOR_LISTEN: "127.0.0.1:0",
      COLLECTOR_HTTP_LISTEN: "127.0.0.1:0",
    });
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toContain(
      `${file}:5:17: prefix "/v1/events" overlaps eventpipe's own route /v1 (and the paths under it); pick another prefix, e.g. /api`,
    );
  });

  it("refuses a pipeline built in code whose prefix takes a registered route", async () => {
    const config = readCollectorConfig({
      REDIS_URL: redisUrl,
      QUEUE_NAME: queue,
      COLLECTOR_LISTEN: "",
      COLLECTOR_HTTP_LISTEN: "127.0.0.1:0",
    });
    const route = { upstream: "http://127.0.0.1:1", rewritePrefix: "/", timeoutMs: 1000 };
    const pipeline = {
      ...config.pipeline,
      proxy: { http: [{ ...route, prefix: "/healthz" }], grpc: [] },
    };
    const client = connectRedis(config.redis, "writer");
    client.on("error", () => {});
    const collector = createCollector({
      redis: client,
      config: { ...config, pipeline },
      logger: createLogger("silent", "collector"),
    });
    try {
      const started = collector.listen();
      await expect(started).rejects.toBeInstanceOf(PipelineError);
      await expect(started).rejects.toThrow(
        'the pipeline: proxy prefix "/healthz" overlaps the collector\'s own route GET /healthz; pick another prefix, e.g. /api',
      );
    } finally {
      await collector.close(100);
      client.disconnect();
    }
  });
});
