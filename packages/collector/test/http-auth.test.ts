import { readFileSync, rmSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCertificates, type TestCertificates } from "../../../test-support/certificates.js";
import {
  startTestCollector,
  type TestCollector,
  uniqueQueueName,
} from "../../../test-support/collector.js";
import { useSharedRedis } from "../../../test-support/shared-redis.js";

const { redisUrl, redis } = useSharedRedis();

const INGEST = "ingest-secret-0123456789";
const SCHEMAS = "schemas-secret-0123456789";
const TOKENS = `producer:${INGEST}:ingest,registrar:${SCHEMAS}:schemas`;

describe("HTTP door authentication", () => {
  let collector: TestCollector;
  let queue: string;
  const type = `${uniqueQueueName("auth")}.signup`;

  beforeAll(async () => {
    queue = uniqueQueueName("http_auth");
    collector = await startTestCollector(redisUrl, queue, { COLLECTOR_TOKENS: TOKENS });
  });
  afterAll(async () => {
    await collector.close();
  });

  function call(method: string, path: string, token: string | undefined, body?: unknown) {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    return fetch(`${collector.httpUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  it("answers 401 without a valid token, 403 outside the token's scope", async () => {
    const events = [{ type: "t" }];
    const missing = await call("POST", "/v1/events", undefined, events);
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await call("POST", "/v1/events", "wrong-secret-0123456789", events)).status).toBe(401);
    expect((await call("POST", "/v1/events", SCHEMAS, events)).status).toBe(403);
    expect((await call("POST", "/v1/events", INGEST, events)).status).toBe(200);
    expect(await redis.llen(queue)).toBe(1);

    const schema = { type: "object" };
    expect((await call("PUT", `/v1/schemas/${type}`, undefined, schema)).status).toBe(401);
    expect((await call("PUT", `/v1/schemas/${type}`, INGEST, schema)).status).toBe(403);
    expect((await call("PUT", `/v1/schemas/${type}`, SCHEMAS, schema)).status).toBe(201);
    const [client, event] = type.split(".");
    expect((await call("POST", `/${client}/${event}/send_event`, SCHEMAS, {})).status).toBe(403);
    expect((await call("POST", `/${client}/${event}/register_event`, INGEST, {})).status).toBe(403);
  });

  it("refuses before reading the body: no token and a huge body is a 401, not a 413", async () => {
    const response = await fetch(`${collector.httpUrl}/v1/events`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "x".repeat(64 * 1024),
    });
    expect(response.status).toBe(401);
  });

  it("lets any valid token read the registry, and nobody without one", async () => {
    expect((await call("GET", `/v1/schemas/${type}`, undefined)).status).toBe(401);
    expect((await call("GET", `/v1/schemas/${type}`, INGEST)).status).toBe(200);
    expect((await call("GET", "/v1/schemas", SCHEMAS)).status).toBe(200);
  });

  it("keeps the probes open", async () => {
    expect((await call("GET", "/healthz", undefined)).status).toBe(200);
    await expect.poll(async () => (await call("GET", "/readyz", undefined)).status).toBe(200);
  });
});

describe("HTTP door over TLS", () => {
  let certs: TestCertificates;
  beforeAll(() => {
    certs = makeCertificates();
  });
  afterAll(() => {
    rmSync(certs.dir, { recursive: true, force: true });
  });

  /** GET over HTTPS with node:https (fetch cannot take a CA or a client certificate). */
  function get(
    url: string,
    tls: { ca: Buffer | string; cert?: Buffer | string; key?: Buffer | string },
  ): Promise<number> {
    return new Promise((resolve, reject) => {
      const request = httpsRequest(url, { ...tls, method: "GET" }, (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode ?? 0));
      });
      request.on("error", reject);
      request.end();
    });
  }

  it("serves HTTPS with the gRPC door's certificate, and mutual TLS with a client CA", async () => {
    const ca = readFileSync(certs.caCert);
    const tls = await startTestCollector(redisUrl, uniqueQueueName("http_tls"), {
      COLLECTOR_TLS_CERT_FILE: certs.serverCert,
      COLLECTOR_TLS_KEY_FILE: certs.serverKey,
    });
    try {
      const url = `https://localhost:${tls.collector.httpPort}/healthz`;
      expect(await get(url, { ca })).toBe(200);
      await expect(fetch(`http://localhost:${tls.collector.httpPort}/healthz`)).rejects.toThrow();
    } finally {
      await tls.close();
    }

    const mutual = await startTestCollector(redisUrl, uniqueQueueName("http_mtls"), {
      COLLECTOR_TLS_CERT_FILE: certs.serverCert,
      COLLECTOR_TLS_KEY_FILE: certs.serverKey,
      COLLECTOR_TLS_CLIENT_CA_FILE: certs.caCert,
    });
    try {
      const url = `https://localhost:${mutual.collector.httpPort}/healthz`;
      await expect(get(url, { ca })).rejects.toThrow();
      const client = { cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) };
      expect(await get(url, { ca, ...client })).toBe(200);
    } finally {
      await mutual.close();
    }
  });
});
