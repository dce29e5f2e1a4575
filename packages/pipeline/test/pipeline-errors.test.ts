// A broken pipeline file stops a service at start with every problem, each at file:line:col.
import { describe, expect, it } from "vitest";
import { PipelineError, parsePipeline } from "../src/index.js";

const SOURCE = "conf/pipeline.yaml";
const ROUTES = `routes:
  - { name: default, types: ["*"], queue: events }
  - { name: logins, types: [user_login], queue: logins }
`;

function problemsOf(text: string, env: NodeJS.ProcessEnv = {}): readonly string[] {
  try {
    parsePipeline(text, SOURCE, env);
  } catch (error) {
    expect(error).toBeInstanceOf(PipelineError);
    const pipelineError = error as PipelineError;
    expect(pipelineError.message).toBe(pipelineError.problems.join("\n"));
    return pipelineError.problems;
  }
  throw new Error("expected a PipelineError");
}

describe("problems in the YAML itself", () => {
  it("reports a syntax error with its line", () => {
    expect(problemsOf("routes:\n  - name: default\n\ttypes: ['*']\n")).toEqual([
      "conf/pipeline.yaml:3:1: YAML: Tabs are not allowed as indentation",
    ]);
    expect(problemsOf('routes:\n  - { name: default, types: ["*"] queue: q }\n')).toEqual([
      "conf/pipeline.yaml:2:35: YAML: Unexpected scalar at node end",
      "conf/pipeline.yaml:2:40: YAML: Missing , between flow map items",
    ]);
  });

  it("reports a key written twice", () => {
    expect(problemsOf(`${ROUTES}routes: []\n`)).toEqual([
      "conf/pipeline.yaml:4:1: YAML: Map keys must be unique",
    ]);
  });

  it("refuses an empty file and a top level that is not a mapping", () => {
    expect(problemsOf("# nothing yet\n")).toEqual([
      "conf/pipeline.yaml:1:1: the file is empty; it needs a routes: list",
    ]);
    expect(problemsOf("- routes\n")).toEqual([
      "conf/pipeline.yaml:1:1: the top level must be a mapping with keys routes, processors, proxy",
    ]);
  });
});

describe("routes", () => {
  it("names a mistyped key and lists the allowed ones", () => {
    expect(problemsOf("routes:\n  - { name: default, types: ['*'], queu: events }\n")).toEqual([
      'conf/pipeline.yaml:2:5: a route needs "queue" (or "queues", to store each event in several)',
      'conf/pipeline.yaml:2:36: unknown key "queu" in a route; allowed: name, types, queue, queues',
    ]);
    expect(problemsOf(`${ROUTES}processor: []\n`)).toEqual([
      'conf/pipeline.yaml:4:1: unknown key "processor" in the top level; allowed: routes, processors, proxy',
    ]);
  });

  it("requires a non-empty routes list with a route named default", () => {
    expect(problemsOf("processors: []\n")).toEqual([
      'conf/pipeline.yaml:1:1: the pipeline file needs "routes"',
    ]);
    expect(problemsOf("routes: []\n")).toEqual([
      "conf/pipeline.yaml:1:9: routes must not be empty",
    ]);
    expect(problemsOf("routes:\n  - { name: logins, types: [login], queue: logins }\n")).toEqual([
      'conf/pipeline.yaml:2:3: routes need one named "default": it takes the types no other route matches',
    ]);
  });

  it("refuses duplicate names, empty type lists and bad queue names", () => {
    const problems = problemsOf(`${ROUTES}  - { name: logins, types: [], queue: "my queue" }
  - { name: more, types: ["", 7], queue: "{tagged}" }
`);
    expect(problems).toEqual([
      'conf/pipeline.yaml:4:13: route name "logins" is already used on line 3',
      "conf/pipeline.yaml:4:28: types must not be empty",
      'conf/pipeline.yaml:4:39: queue "my queue" is not a valid queue name: it must be non-empty, without braces or whitespace',
      "conf/pipeline.yaml:5:27: a type pattern must not be empty",
      'conf/pipeline.yaml:5:31: a type pattern must be a string, not 7: quote it ("7")',
      'conf/pipeline.yaml:5:42: queue "{tagged}" is not a valid queue name: it must be non-empty, without braces or whitespace',
    ]);
  });
});

describe("processors", () => {
  it("refuses two processors on routes that share a queue", () => {
    expect(
      problemsOf(`routes:
  - { name: default, types: ["*"], queue: events }
  - { name: audit, types: ["audit.*"], queue: events }
processors:
  - { route: default, module: ./a.mjs }
  - { route: audit, module: ./b.mjs }
`),
    ).toEqual([
      'conf/pipeline.yaml:6:14: route "audit" goes to queue "events", which the processor on line 5 already serves; one processor per queue',
    ]);
  });

  it("refuses a route that does not exist and a second processor for one route", () => {
    expect(
      problemsOf(`${ROUTES}processors:
  - { route: login, module: ./a.mjs }
  - { route: logins, module: ./a.mjs }
  - { route: logins, module: ./b.mjs }
`),
    ).toEqual([
      'conf/pipeline.yaml:5:14: route "login" is not defined; routes: default, logins',
      'conf/pipeline.yaml:7:14: route "logins" goes to queue "logins", which the processor on line 6 already serves; one processor per queue',
    ]);
  });

  it("needs exactly one of http, grpc, module", () => {
    expect(
      problemsOf(`${ROUTES}processors:
  - { route: default }
  - { route: logins, module: ./a.mjs, grpc: { address: "h:1" } }
`),
    ).toEqual([
      "conf/pipeline.yaml:5:5: a processor needs one of http, grpc, module",
      "conf/pipeline.yaml:6:39: a processor takes one of http, grpc, module, not module and grpc: one target per route",
    ]);
  });

  it("checks concurrency and results, and refuses results fed back to the processor's own queue", () => {
    expect(
      problemsOf(`${ROUTES}processors:
  - route: logins
    module: ./a.mjs
    concurrency: 0
    results: { queue: logins, when: [onSucess] }
`),
    ).toEqual([
      "conf/pipeline.yaml:7:18: concurrency must be an integer from 1 to 100000, got 0",
      'conf/pipeline.yaml:8:23: results queue "logins" is the queue this processor reads: its results would come back to it forever; pick another queue',
      'conf/pipeline.yaml:8:38: "onSucess" is not a result outcome; use onSuccess (status < 400) or onError (status >= 400)',
    ]);
  });

  it("checks every http option", () => {
    expect(
      problemsOf(`${ROUTES}processors:
  - route: logins
    http:
      url: ftp://files.example.com/in
      method: POTS
      timeoutMs: 3600001
      headers: { X-Retries: 3, "Bad Name": x, x-retries: "3" }
      signingSecret: ""
      retries: 3
`),
    ).toEqual([
      "conf/pipeline.yaml:7:12: url must use http: or https:, not ftp:",
      'conf/pipeline.yaml:8:15: method "POTS" must be one of POST, PUT, PATCH, DELETE, GET',
      "conf/pipeline.yaml:9:18: timeoutMs must be an integer from 1 to 3600000, got 3600001",
      'conf/pipeline.yaml:10:29: header "X-Retries" must be a string, not 3: quote it ("3")',
      'conf/pipeline.yaml:10:32: header name "Bad Name" is not a valid HTTP header name',
      'conf/pipeline.yaml:10:47: header "x-retries" is set twice (header names ignore case)',
      "conf/pipeline.yaml:11:22: signingSecret must not be empty",
      'conf/pipeline.yaml:12:7: unknown key "retries" in http; allowed: url, method, timeoutMs, headers, signingSecret, format',
    ]);
    expect(
      problemsOf(`${ROUTES}processors: [{ route: logins, http: { url: "/relative" } }]\n`),
    ).toEqual([
      "conf/pipeline.yaml:4:44: url must be an absolute URL, e.g. http://localhost:8080/events",
    ]);
  });

  it("checks grpc and module options", () => {
    expect(
      problemsOf(`${ROUTES}processors:
  - { route: logins, grpc: { address: "localhost:70000", tls: "yes" } }
  - { route: default, module: "" }
`),
    ).toEqual([
      'conf/pipeline.yaml:5:39: address "localhost:70000" must be host:port with a port from 1 to 65535, e.g. localhost:50061',
      "conf/pipeline.yaml:5:63: tls must be true or false",
      "conf/pipeline.yaml:6:31: module must not be empty",
    ]);
  });
});

it("reports every problem in the file at once, in file order", () => {
  const problems = problemsOf(
    `processors:
  - { route: logins, http: { url: "http://h/", timeoutMs: "15s" } }
routes:
  - { name: logins, types: [login], queue: logins, extra: 1 }
  - { name: default, types: ["*"], queue: "\${EVENTS_QUEUE}" }
`,
  );
  expect(problems).toEqual([
    'conf/pipeline.yaml:2:59: timeoutMs must be an integer from 1 to 3600000, got "15s"',
    'conf/pipeline.yaml:4:52: unknown key "extra" in a route; allowed: name, types, queue, queues',
    `conf/pipeline.yaml:5:43: queue: \${EVENTS_QUEUE} is not set`,
  ]);
});
