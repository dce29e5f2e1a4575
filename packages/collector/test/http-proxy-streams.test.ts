// The HTTP proxy's exchanges at their edges, against a real upstream node:http server and a
// real collector: bodies without a length, callers and upstreams that go away mid-answer,
// Location on an upstream's base path, paths that would leave it, HEAD, and answers that begin
// while the collector shuts down.
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { makeCertificates } from "../../../test-support/certificates.js";
import {
  startTestCollector,
  type TestCollector,
  uniqueQueueName,
} from "../../../test-support/collector.js";
import { useSharedRedis } from "../../../test-support/shared-redis.js";
import { closeServer, listenOnLoopback } from "../../testkit/src/index.js";

const { redisUrl } = useSharedRedis();

/** The master API stand-in; `held` answers wait for the test, `closed` counts hang-ups seen. */
function startUpstream() {
  const seen: string[] = [];
  const held: ServerResponse[] = [];
  let closedEarly = 0;
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = request.url ?? "";
    seen.push(`${request.method} ${url}`);
    response.on("close", () => {
      if (!response.writableFinished) closedEarly++;
    });
    if (url.startsWith("/base/v2/upload")) {
      const hash = createHash("sha256");
      let bytes = 0;
      request.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
        hash.update(chunk);
      });
      request.on("end", () => {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(
          JSON.stringify({
            bytes,
            sha256: hash.digest("hex"),
            te: request.headers["transfer-encoding"],
          }),
        );
      });
      return;
    }
    request.resume();
    if (url.startsWith("/base/v2/held-head")) {
      held.push(response);
      return;
    }
    if (url.startsWith("/base/v2/part")) {
      response.writeHead(200, { "content-type": "application/octet-stream" });
      response.write(Buffer.alloc(64 * 1024, 1));
      held.push(response);
      return;
    }
    if (url.startsWith("/base/v2/moved")) {
      response.writeHead(302, { location: "/base/v2/items/9", "x-other": "/base/v2/items/9" });
      response.end();
      return;
    }
    if (url.startsWith("/base/v2/elsewhere")) {
      response.writeHead(302, { location: "/login?next=/base/v2" });
      response.end();
      return;
    }
    response.writeHead(200, { "content-type": "text/plain", "content-length": "5" });
    response.end(request.method === "HEAD" ? undefined : "hello");
  });
  return {
    seen,
    held,
    closedEarly: () => closedEarly,
    listen: () => listenOnLoopback(server),
    close: () => closeServer(server),
  };
}

const upstream = startUpstream();
const dir = mkdtempSync(join(tmpdir(), "eventpipe-proxy-streams-"));
let pipelineFile: string;
let queue: string;
let gateway: TestCollector;

beforeAll(async () => {
  const port = await upstream.listen();
  queue = uniqueQueueName("http_proxy_streams");
  pipelineFile = join(dir, "gateway.yaml");
  writeFileSync(
    pipelineFile,
    `routes:
  - { name: default, types: ["*"], queue: ${queue} }
proxy:
  http:
    - { prefix: /api, upstream: "http://127.0.0.1:${port}/base", rewritePrefix: /v2 }
    - { prefix: /root, upstream: "http://127.0.0.1:${port}" }
`,
  );
  gateway = await startTestCollector(redisUrl, queue, { EVENTPIPE_CONFIG: pipelineFile });
});
afterAll(async () => {
  await gateway?.close();
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A raw node:http request; the path goes out as written (no URL normalisation). */
function send(base: string, path: string, method = "GET") {
  const { hostname, port } = new URL(base);
  return httpRequest({ hostname, port, path, method });
}

function responseOf(request: ReturnType<typeof send>): Promise<IncomingMessage> {
  return new Promise<IncomingMessage>((resolve, reject) => {
    request.on("response", resolve);
    request.on("error", reject);
  });
}

async function bodyOf(response: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe("bodies", () => {
  it("forwards an upload without a length whole, chunked", async () => {
    const body = randomBytes(3 * 1024 * 1024 + 17);
    const request = send(gateway.httpUrl, "/api/upload", "PUT");
    const answer = responseOf(request);
    // No content-length: node:http sends the body chunked.
    for (let at = 0; at < body.length; at += 256 * 1024) {
      request.write(body.subarray(at, at + 256 * 1024));
    }
    request.end();
    const response = await answer;
    expect(response.statusCode).toBe(200);
    expect(JSON.parse((await bodyOf(response)).toString())).toEqual({
      bytes: body.length,
      sha256: createHash("sha256").update(body).digest("hex"),
      te: "chunked",
    });
  });

  it("answers HEAD with the upstream's headers and no body", async () => {
    const response = await responseOf(send(gateway.httpUrl, "/api/plain", "HEAD").end());
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-length"]).toBe("5");
    expect((await bodyOf(response)).length).toBe(0);
  });
});

describe("hang-ups", () => {
  it("ends the upstream's request when the caller hangs up mid-answer", async () => {
    const before = upstream.closedEarly();
    const request = send(gateway.httpUrl, "/api/part").end();
    const response = await responseOf(request);
    await new Promise((resolve) => response.once("data", resolve));
    request.destroy();
    await vi.waitFor(() => expect(upstream.closedEarly()).toBe(before + 1), { timeout: 10_000 });
    upstream.held.splice(0);
  });

  it("cuts the caller's answer when the upstream goes away mid-answer", async () => {
    const request = send(gateway.httpUrl, "/api/part").end();
    const response = await responseOf(request);
    const ended = new Promise<string>((resolve) => {
      response.on("end", () => resolve("end"));
      response.on("error", () => resolve("cut"));
      response.on("aborted", () => resolve("cut"));
    });
    response.resume();
    await vi.waitFor(() => expect(upstream.held.length).toBe(1), { timeout: 10_000 });
    upstream.held.splice(0)[0]!.destroy();
    expect(await ended).toBe("cut");
    expect(response.complete).toBe(false);
  });
});

describe("paths and Location", () => {
  it("moves a Location on the upstream's base path under the prefix, and no other header", async () => {
    const moved = await fetch(`${gateway.httpUrl}/api/moved`, { redirect: "manual" });
    expect(moved.status).toBe(302);
    expect(moved.headers.get("location")).toBe("/api/items/9");
    expect(moved.headers.get("x-other")).toBe("/base/v2/items/9");
    const elsewhere = await fetch(`${gateway.httpUrl}/api/elsewhere`, { redirect: "manual" });
    expect(elsewhere.headers.get("location")).toBe("/login?next=/base/v2");
  });

  it("refuses paths that would leave the upstream's base, before sending anything", async () => {
    const seenBefore = upstream.seen.length;
    for (const path of ["/root//evil.example/x", "/api/%2e%2e/secret", "/api/..%5csecret"]) {
      const response = await responseOf(send(gateway.httpUrl, path).end());
      expect(response.statusCode, path).toBe(400);
      expect(JSON.parse((await bodyOf(response)).toString())).toMatchObject({
        code: "EP_PROXY_BAD_PATH",
      });
    }
    expect(upstream.seen.length).toBe(seenBefore);
    // Dots inside a segment are no climb.
    const dotted = await fetch(`${gateway.httpUrl}/api/files/v1..2/a.b`);
    expect(dotted.status).toBe(200);
    expect(upstream.seen.at(-1)).toBe("GET /base/v2/files/v1..2/a.b");
  });
});

describe("shutdown", () => {
  it("ends the connection of an answer whose head arrives while the collector closes", async () => {
    const closing = await startTestCollector(redisUrl, queue, { EVENTPIPE_CONFIG: pipelineFile });
    try {
      const answer = responseOf(send(closing.httpUrl, "/api/held-head").end());
      await vi.waitFor(() => expect(upstream.held.length).toBe(1), { timeout: 10_000 });
      const closed = closing.collector.close(30_000);
      // The door stopped listening: its shutdown has begun.
      await vi.waitFor(
        async () =>
          expect(await fetch(`${closing.httpUrl}/healthz`).then(String, () => "refused")).toBe(
            "refused",
          ),
        { timeout: 10_000 },
      );
      upstream.held.splice(0)[0]!.end("late");
      const response = await answer;
      expect(response.statusCode).toBe(200);
      expect(response.headers.connection).toBe("close");
      expect((await bodyOf(response)).toString()).toBe("late");
      await closed;
    } finally {
      await closing.close();
    }
  });
});

describe("https upstreams", () => {
  it("verifies the upstream's certificate: one from an unknown CA is a 502", async () => {
    const certificates = makeCertificates();
    const server = createHttpsServer(
      {
        cert: readFileSync(certificates.serverCert),
        key: readFileSync(certificates.serverKey),
      },
      (_request, response) => response.end("secret"),
    );
    const port = await listenOnLoopback(server);
    const file = join(dir, "https.yaml");
    writeFileSync(
      file,
      `routes:
  - { name: default, types: ["*"], queue: ${queue} }
proxy:
  http:
    - { prefix: /tls, upstream: "https://127.0.0.1:${port}" }
`,
    );
    const tls = await startTestCollector(redisUrl, queue, { EVENTPIPE_CONFIG: file });
    try {
      const response = await fetch(`${tls.httpUrl}/tls/x`);
      expect(response.status).toBe(502);
      expect(await response.json()).toMatchObject({
        code: "EP_PROXY_UPSTREAM_UNAVAILABLE",
        error: expect.stringMatching(/CERT|SIGNATURE/),
      });
    } finally {
      await tls.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(certificates.dir, { recursive: true, force: true });
    }
  });
});
