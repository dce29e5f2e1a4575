// The `proxy:` section: HTTP prefixes and gRPC service prefixes forwarded to a master API,
// refused with file:line:col when they are malformed, collide, or would take eventpipe's own
// routes or services.
import { describe, expect, it } from "vitest";
import {
  capturesService,
  loadPipelineFile,
  NO_PROXY,
  PipelineError,
  parsePipeline,
  prefixesOverlap,
} from "../src/index.js";

const SOURCE = "conf/gateway.yaml";
const ROUTES = `routes:
  - { name: default, types: ["*"], queue: events }
`;

function problemsOf(text: string, env: NodeJS.ProcessEnv = {}): readonly string[] {
  try {
    parsePipeline(text, SOURCE, env);
  } catch (error) {
    expect(error).toBeInstanceOf(PipelineError);
    return (error as PipelineError).problems;
  }
  throw new Error("expected a PipelineError");
}

describe("a valid proxy section", () => {
  it("reads HTTP and gRPC routes with their defaults", () => {
    const pipeline = parsePipeline(
      `${ROUTES}proxy:
  http:
    - { prefix: /api, upstream: "http://master-api:8080" }
    - { prefix: /files/v2, upstream: "https://files:8443/base", rewritePrefix: /v2, timeoutMs: 5000 }
  grpc:
    - { services: ["acme.master.v1.", "acme.billing.v1.Invoices/"], upstream: "master-api:50051" }
    - { services: ["acme.search."], upstream: "[::1]:50052", tls: true }
`,
      SOURCE,
      {},
    );
    expect(pipeline.proxy).toEqual({
      http: [
        {
          prefix: "/api",
          upstream: "http://master-api:8080",
          rewritePrefix: "/",
          timeoutMs: 30000,
        },
        {
          prefix: "/files/v2",
          upstream: "https://files:8443/base",
          rewritePrefix: "/v2",
          timeoutMs: 5000,
        },
      ],
      grpc: [
        {
          services: ["acme.master.v1.", "acme.billing.v1.Invoices/"],
          upstream: "master-api:50051",
          tls: false,
        },
        { services: ["acme.search."], upstream: "[::1]:50052", tls: true },
      ],
    });
    expect(Object.isFrozen(pipeline.proxy.http[0])).toBe(true);
    expect(Object.isFrozen(pipeline.proxy.grpc[0]?.services)).toBe(true);
  });

  it("is empty without the section, with an empty section, or with empty lists", () => {
    expect(parsePipeline(ROUTES, SOURCE, {}).proxy).toBe(NO_PROXY);
    expect(parsePipeline(`${ROUTES}proxy:\n`, SOURCE, {}).proxy).toBe(NO_PROXY);
    expect(parsePipeline(`${ROUTES}proxy: { http: [], grpc: [] }\n`, SOURCE, {}).proxy).toEqual(
      NO_PROXY,
    );
    expect(parsePipeline(`${ROUTES}proxy: { grpc: [] }\n`, SOURCE, {}).proxy.http).toEqual([]);
  });

  it("takes the upstream from the environment", () => {
    const pipeline = parsePipeline(
      `${ROUTES}proxy:\n  http: [{ prefix: /api, upstream: "\${MASTER_API}" }]\n`,
      SOURCE,
      { MASTER_API: "http://10.0.0.7:8080" },
    );
    expect(pipeline.proxy.http[0]?.upstream).toBe("http://10.0.0.7:8080");
  });
});

describe("HTTP prefixes", () => {
  it("refuses malformed prefixes: relative, root, trailing slash, wildcards, params, escapes", () => {
    expect(
      problemsOf(`${ROUTES}proxy:
  http:
    - { prefix: api, upstream: "http://a:1" }
    - { prefix: /, upstream: "http://a:1" }
    - { prefix: /api/, upstream: "http://a:1" }
    - { prefix: "/api/*", upstream: "http://a:1" }
    - { prefix: /users/:id, upstream: "http://a:1" }
    - { prefix: /a%20b, upstream: "http://a:1" }
    - { prefix: /a//b, upstream: "http://a:1" }
    - { prefix: /a/.., upstream: "http://a:1" }
`),
    ).toEqual([
      'conf/gateway.yaml:5:17: prefix "api" must start with "/", e.g. /api',
      'conf/gateway.yaml:6:17: prefix "/" would forward every path, eventpipe\'s own routes too; use a prefix such as /api',
      'conf/gateway.yaml:7:17: prefix "/api/" must not end with "/": write /api (every path under it is forwarded)',
      'conf/gateway.yaml:8:17: prefix "/api/*" must be a plain path: segments of letters, digits and - . _ ~ (no wildcards, :params or %-escapes); every path under it is forwarded',
      'conf/gateway.yaml:9:17: prefix "/users/:id" must be a plain path: segments of letters, digits and - . _ ~ (no wildcards, :params or %-escapes); every path under it is forwarded',
      'conf/gateway.yaml:10:17: prefix "/a%20b" must be a plain path: segments of letters, digits and - . _ ~ (no wildcards, :params or %-escapes); every path under it is forwarded',
      'conf/gateway.yaml:11:17: prefix "/a//b" must be a plain path: segments of letters, digits and - . _ ~ (no wildcards, :params or %-escapes); every path under it is forwarded',
      'conf/gateway.yaml:12:17: prefix "/a/.." must be a plain path: segments of letters, digits and - . _ ~ (no wildcards, :params or %-escapes); every path under it is forwarded',
    ]);
  });

  it("refuses a prefix over eventpipe's own routes", () => {
    expect(
      problemsOf(`${ROUTES}proxy:
  http:
    - { prefix: /v1, upstream: "http://a:1" }
    - { prefix: /v1/users, upstream: "http://a:1" }
    - { prefix: /healthz, upstream: "http://a:1" }
    - { prefix: /readyz/deep, upstream: "http://a:1" }
    - { prefix: /v10, upstream: "http://a:1" }
`),
    ).toEqual([
      'conf/gateway.yaml:5:17: prefix "/v1" overlaps eventpipe\'s own route /v1 (and the paths under it); pick another prefix, e.g. /api',
      'conf/gateway.yaml:6:17: prefix "/v1/users" overlaps eventpipe\'s own route /v1 (and the paths under it); pick another prefix, e.g. /api',
      'conf/gateway.yaml:7:17: prefix "/healthz" overlaps eventpipe\'s own route /healthz (and the paths under it); pick another prefix, e.g. /api',
      'conf/gateway.yaml:8:17: prefix "/readyz/deep" overlaps eventpipe\'s own route /readyz (and the paths under it); pick another prefix, e.g. /api',
    ]);
  });

  it("refuses a prefix used twice or nested in another", () => {
    expect(
      problemsOf(`${ROUTES}proxy:
  http:
    - { prefix: /api, upstream: "http://a:1" }
    - { prefix: /api, upstream: "http://b:1" }
    - { prefix: /api/v2, upstream: "http://b:1" }
    - { prefix: /apiv2, upstream: "http://b:1" }
`),
    ).toEqual([
      'conf/gateway.yaml:6:17: prefix "/api" is already used on line 5',
      'conf/gateway.yaml:7:17: prefix "/api/v2" overlaps prefix "/api" on line 5: a path must have one upstream',
    ]);
  });

  it("checks upstream, rewritePrefix, timeoutMs and unknown keys", () => {
    expect(
      problemsOf(`${ROUTES}proxy:
  http:
    - { prefix: /a, upstream: "master-api:8080" }
    - { prefix: /b, upstream: "ftp://files/in" }
    - { prefix: /c, upstream: "http://user:secret@api:1" }
    - { prefix: /d, upstream: "http://api:1/?x=1" }
    - { prefix: /e, upstream: "http://api:1", rewritePrefix: v2 }
    - { prefix: /f, upstream: "http://api:1", rewritePrefix: "/v2/*" }
    - { prefix: /g, upstream: "http://api:1", timeoutMs: 0 }
    - { prefix: /h, upstream: "http://api:1", timeoutMs: 3600001 }
    - { prefix: /i, upstrem: "http://api:1" }
`),
    ).toEqual([
      "conf/gateway.yaml:5:31: upstream must use http: or https:, not master-api:",
      "conf/gateway.yaml:6:31: upstream must use http: or https:, not ftp:",
      "conf/gateway.yaml:7:31: upstream must not carry credentials (user:password@): the proxy forwards the caller's own headers",
      "conf/gateway.yaml:8:31: upstream must not have a query or fragment: the caller's query string is forwarded as sent",
      'conf/gateway.yaml:9:62: rewritePrefix "v2" must be "/" or a plain path such as /v2: segments of letters, digits and - . _ ~ (no wildcards, :params or %-escapes)',
      'conf/gateway.yaml:10:62: rewritePrefix "/v2/*" must be "/" or a plain path such as /v2: segments of letters, digits and - . _ ~ (no wildcards, :params or %-escapes)',
      "conf/gateway.yaml:11:58: timeoutMs must be an integer from 1 to 3600000, got 0",
      "conf/gateway.yaml:12:58: timeoutMs must be an integer from 1 to 3600000, got 3600001",
      'conf/gateway.yaml:13:7: a proxy http route needs "upstream"',
      'conf/gateway.yaml:13:21: unknown key "upstrem" in a proxy http route; allowed: prefix, upstream, rewritePrefix, timeoutMs',
    ]);
  });

  it("refuses a proxy section of the wrong shape", () => {
    expect(problemsOf(`${ROUTES}proxy: [/api]\n`)).toEqual([
      "conf/gateway.yaml:3:8: proxy must be a mapping with keys http, grpc",
    ]);
    expect(problemsOf(`${ROUTES}proxy: { http: /api, rest: [] }\n`)).toEqual([
      'conf/gateway.yaml:3:16: proxy http must be a list, e.g. [{ prefix: /api, upstream: "http://api:8080" }]',
      'conf/gateway.yaml:3:22: unknown key "rest" in proxy; allowed: http, grpc',
    ]);
  });
});

describe("gRPC service prefixes", () => {
  it("refuses empty lists, bad prefixes, own services and a prefix listed twice", () => {
    expect(
      problemsOf(`${ROUTES}proxy:
  grpc:
    - { services: [], upstream: "m:1" }
    - { services: ["", "/acme.v1.Users/Get", "event.", "grpc.", "event.EventService/Call"], upstream: "m:1" }
    - { services: ["acme.v1."], upstream: "m:1" }
    - { services: ["acme.v1."], upstream: "m" }
    - { services: ["acme.v2."], upstream: "m:70000", tls: "yes" }
`),
    ).toEqual([
      "conf/gateway.yaml:5:19: services must not be empty",
      "conf/gateway.yaml:6:20: a service prefix must not be empty",
      'conf/gateway.yaml:6:24: service prefix "/acme.v1.Users/Get" must be the start of a full method name such as acme.master.v1. or acme.master.v1.Users/Get (no leading "/")',
      "conf/gateway.yaml:6:46: service prefix \"event.\" would take the methods of eventpipe's own service event.EventService; name the master API's package, e.g. acme.master.v1.",
      "conf/gateway.yaml:6:56: service prefix \"grpc.\" would take the methods of eventpipe's own service grpc.health.v1.Health; name the master API's package, e.g. acme.master.v1.",
      "conf/gateway.yaml:6:65: service prefix \"event.EventService/Call\" would take the methods of eventpipe's own service event.EventService; name the master API's package, e.g. acme.master.v1.",
      'conf/gateway.yaml:8:20: service prefix "acme.v1." is already listed on line 7',
      'conf/gateway.yaml:8:43: upstream "m" must be host:port with a port from 1 to 65535, e.g. master-api:50051',
      'conf/gateway.yaml:9:43: upstream "m:70000" must be host:port with a port from 1 to 65535, e.g. master-api:50051',
      "conf/gateway.yaml:9:59: tls must be true or false",
    ]);
  });
});

describe("overlap helpers", () => {
  it("compares whole path segments", () => {
    expect(prefixesOverlap("/api", "/api")).toBe(true);
    expect(prefixesOverlap("/api", "/api/v2")).toBe(true);
    expect(prefixesOverlap("/api/v2", "/api")).toBe(true);
    expect(prefixesOverlap("/api", "/apiv2")).toBe(false);
    expect(capturesService("acme.", "acme.Users")).toBe(true);
    expect(capturesService("acme.Users/Get", "acme.Users")).toBe(true);
    expect(capturesService("acme.Users2", "acme.Users")).toBe(false);
  });
});

describe("the gateway example in examples/", () => {
  it("loads", () => {
    const example = new URL("../../../examples/gateway.yaml", import.meta.url).pathname;
    const pipeline = loadPipelineFile(example, {});
    expect(pipeline.proxy.http.map((route) => route.prefix)).toEqual(["/api"]);
    expect(pipeline.proxy.grpc.map((route) => route.upstream)).toEqual(["localhost:50052"]);
  });
});
