// What a valid pipeline file turns into: the objects the collector and workers act on.
import { describe, expect, it } from "vitest";
import { parsePipeline } from "../src/index.js";

const SOURCE = "/etc/eventpipe/pipeline.yaml";

// The README example, plus the `payments` route its gRPC processor names.
const EXAMPLE = `
routes:                       # first match wins; a type no route matches goes to \`default\`
  - { name: logins, types: ["user_login", "auth.*"], queue: logins }
  - { name: payments, types: ["payment.*"], queue: payments }
  - { name: default, types: ["*"], queue: event_queue }
processors:
  - route: logins
    http: { url: "http://localhost:8080/payload", method: POST, timeoutMs: 15000,
            headers: { Authorization: "Basic ..." }, signingSecret: "whsec_..." }
    concurrency: 32
    results: { queue: login_results, when: [onSuccess] }   # onSuccess: status < 400; onError: >= 400
  - route: default
    module: ./my-handler.mjs
  - route: payments            # (example) a gRPC processor
    grpc: { address: "localhost:50061", timeoutMs: 30000, tls: false }
`;

describe("a valid pipeline file", () => {
  it("parses the documented example into routes and processors", () => {
    const pipeline = parsePipeline(EXAMPLE, SOURCE, {});
    expect(pipeline).toEqual({
      source: SOURCE,
      routes: [
        { name: "logins", types: ["user_login", "auth.*"], queues: ["logins"] },
        { name: "payments", types: ["payment.*"], queues: ["payments"] },
        { name: "default", types: ["*"], queues: ["event_queue"] },
      ],
      processors: [
        {
          kind: "http",
          route: "logins",
          queue: "logins",
          concurrency: 32,
          results: { queue: "login_results", when: ["onSuccess"] },
          http: {
            url: "http://localhost:8080/payload",
            method: "POST",
            timeoutMs: 15000,
            headers: { Authorization: "Basic ..." },
            signingSecret: "whsec_...",
          },
        },
        {
          kind: "module",
          route: "default",
          queue: "event_queue",
          concurrency: undefined,
          results: undefined,
          module: "/etc/eventpipe/my-handler.mjs",
        },
        {
          kind: "grpc",
          route: "payments",
          queue: "payments",
          concurrency: undefined,
          results: undefined,
          grpc: { address: "localhost:50061", timeoutMs: 30000, tls: false },
        },
      ],
      proxy: { http: [], grpc: [] },
    });
  });

  it("is frozen all the way down, so no service can change what another reads", () => {
    const pipeline = parsePipeline(EXAMPLE, SOURCE, {});
    const http = pipeline.processors[0];
    expect(Object.isFrozen(pipeline)).toBe(true);
    expect(Object.isFrozen(pipeline.routes)).toBe(true);
    expect(Object.isFrozen(pipeline.routes[0]?.types)).toBe(true);
    expect(Object.isFrozen(http)).toBe(true);
    expect(http?.kind === "http" && Object.isFrozen(http.http.headers)).toBe(true);
    expect(Object.isFrozen(http?.results?.when)).toBe(true);
  });

  it("fills in defaults: POST, 15 s for http, 30 s and no TLS for gRPC, results on success", () => {
    const pipeline = parsePipeline(
      `
routes:
  - { name: default, types: ["*"], queue: events }
  - { name: rpc, types: [rpc], queue: rpc }
processors:
  - { route: default, http: { url: "https://hooks.example.com/in", method: put }, results: { queue: out } }
  - { route: rpc, grpc: { address: "[::1]:50061" } }
`,
      SOURCE,
      {},
    );
    const [http, grpc] = pipeline.processors;
    expect(http).toMatchObject({
      kind: "http",
      http: { method: "PUT", timeoutMs: 15_000, headers: {} },
      results: { queue: "out", when: ["onSuccess"] },
    });
    expect(http?.kind === "http" && "signingSecret" in http.http).toBe(false);
    expect(grpc).toMatchObject({
      kind: "grpc",
      grpc: { address: "[::1]:50061", timeoutMs: 30_000, tls: false },
    });
  });

  it("accepts a file without processors (the collector only routes)", () => {
    const pipeline = parsePipeline("routes: [{ name: default, types: ['*'], queue: q }]", SOURCE);
    expect(pipeline.processors).toEqual([]);
  });

  it("resolves module paths against the file's directory, and keeps absolute ones", () => {
    const pipeline = parsePipeline(
      `
routes:
  - { name: default, types: ["*"], queue: q }
  - { name: other, types: ["x"], queue: r }
processors:
  - { route: default, module: ../handlers/main.mjs }
  - { route: other, module: /opt/handlers/other.mjs }
`,
      "config/pipeline.yaml",
      {},
    );
    const modules = pipeline.processors.map((p) => (p.kind === "module" ? p.module : ""));
    expect(modules).toEqual([`${process.cwd()}/handlers/main.mjs`, "/opt/handlers/other.mjs"]);
  });

  it("lets YAML anchors share a block between processors", () => {
    const pipeline = parsePipeline(
      `
routes:
  - { name: default, types: ["*"], queue: q }
  - { name: b, types: ["b"], queue: b }
processors:
  - { route: default, http: &hook { url: "http://h/", timeoutMs: 500 } }
  - { route: b, http: *hook }
`,
      SOURCE,
      {},
    );
    const timeouts = pipeline.processors.map((p) => (p.kind === "http" ? p.http.timeoutMs : 0));
    expect(timeouts).toEqual([500, 500]);
  });
});

describe("environment variables in the file", () => {
  const file = `
routes:
  - { name: default, types: ["*"], queue: "\${QUEUE}" }
processors:
  - route: default
    http:
      url: "https://\${HOOK_HOST}/events"
      headers: { Authorization: "Bearer \${TOKEN}", X-Template: "$\${NOT_A_VAR}" }
      signingSecret: \${LOGIN_SECRET}
`;
  const env = {
    QUEUE: "events",
    HOOK_HOST: "hooks.example.com",
    TOKEN: "t0k3n",
    LOGIN_SECRET: "whsec_c2VjcmV0",
  };

  it(`replaces \${NAME} with the variable's value, and $\${ writes a literal \${`, () => {
    const [processor] = parsePipeline(file, SOURCE, env).processors;
    expect(processor).toMatchObject({
      queue: "events",
      http: {
        url: "https://hooks.example.com/events",
        headers: { Authorization: "Bearer t0k3n", "X-Template": `\${NOT_A_VAR}` },
        signingSecret: "whsec_c2VjcmV0",
      },
    });
  });

  it("refuses a ${ that starts no variable reference, pointing at $${", () => {
    expect(() =>
      parsePipeline(`routes: [{ name: default, types: ["*"], queue: "q\${1x}" }]`, SOURCE, {}),
    ).toThrow(
      /:1:48: queue: `\$\{` must start a variable reference like .* write \$\$\{ for a literal/,
    );
  });

  it("refuses a variable that is not set, naming it and where it is used", () => {
    const { LOGIN_SECRET: _unset, ...withoutSecret } = env;
    expect(() => parsePipeline(file, SOURCE, withoutSecret)).toThrow(
      `${SOURCE}:9:22: signingSecret: \${LOGIN_SECRET} is not set`,
    );
  });
});
