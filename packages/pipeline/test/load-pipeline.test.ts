// How services find their pipeline: EVENTPIPE_CONFIG, or the single-queue default without it.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultPipeline, loadPipelineFile, PipelineError, readPipeline } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "eventpipe-pipeline-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = join(dir, "pipeline.yaml");
writeFileSync(
  file,
  `routes:
  - { name: default, types: ["*"], queue: "\${MAIN_QUEUE}" }
processors:
  - { route: default, module: ./handler.mjs }
`,
);

describe("readPipeline", () => {
  it("without EVENTPIPE_CONFIG, routes everything to QUEUE_NAME with the worker's own handler", () => {
    const pipeline = readPipeline({ QUEUE_NAME: "jobs" });
    expect(pipeline).toEqual({
      source: undefined,
      routes: [{ name: "default", types: ["*"], queues: ["jobs"] }],
      processors: [
        {
          kind: "default",
          route: "default",
          queue: "jobs",
          concurrency: undefined,
          results: undefined,
        },
      ],
      proxy: { http: [], grpc: [] },
    });
    expect(Object.isFrozen(pipeline.processors[0])).toBe(true);
  });

  it("falls back to the caller's default queue, then to event_queue", () => {
    expect(readPipeline({ EVENTPIPE_CONFIG: "" }, "mine").routes[0]?.queues[0]).toBe("mine");
    expect(readPipeline({}).routes[0]?.queues[0]).toBe("event_queue");
    expect(readPipeline({})).toEqual(defaultPipeline("event_queue"));
  });

  it("loads the file EVENTPIPE_CONFIG names, with the same environment", () => {
    const pipeline = readPipeline({ EVENTPIPE_CONFIG: file, MAIN_QUEUE: "main", QUEUE_NAME: "x" });
    expect(pipeline.source).toBe(file);
    expect(pipeline.routes[0]?.queues[0]).toBe("main");
    expect(pipeline.processors[0]).toMatchObject({
      kind: "module",
      module: join(dir, "handler.mjs"),
    });
  });
});

describe("loadPipelineFile", () => {
  it("names a file that does not exist", () => {
    const missing = join(dir, "nope.yaml");
    expect(() => loadPipelineFile(missing, {})).toThrow(PipelineError);
    expect(() => loadPipelineFile(missing, {})).toThrow(
      `${missing}: cannot read the pipeline file: no such file`,
    );
  });

  it("reports problems against the file's path", () => {
    expect(() => loadPipelineFile(file, {})).toThrow(
      `${file}:2:43: queue: \${MAIN_QUEUE} is not set`,
    );
  });
});

describe("the example pipeline file in examples/", () => {
  it("loads, with its secrets from the environment", () => {
    const example = new URL("../../../examples/pipeline.yaml", import.meta.url).pathname;
    const pipeline = loadPipelineFile(example, {
      LOGIN_API_AUTH: "dXNlcjpwYXNz",
      LOGIN_WEBHOOK_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    });
    expect(pipeline.routes.map((route) => route.queues)).toEqual([
      ["logins"],
      ["orders", "order_audit"],
      ["event_queue"],
    ]);
    expect(pipeline.processors.map((processor) => [processor.kind, processor.queue])).toEqual([
      ["http", "logins"],
      ["grpc", "orders"],
      ["module", "order_audit"],
      ["module", "event_queue"],
    ]);
    expect(() => loadPipelineFile(example, {})).toThrow(/LOGIN_API_AUTH/);
  });
});
