// Routing end to end: a collector process sends each event type to its route's queue, and
// worker processes started with WORKER_ROUTES serve only their own routes. Who handled what
// is proven by id, from each worker's own record file.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RECORDING_HANDLER, readRecords } from "../packages/faults/src/index.js";
import { newEvent, sampleEvents } from "../packages/producer/src/index.js";
import type { Event } from "../packages/proto/src/index.js";
import { queueKeys, readQueueStats } from "../packages/queue/src/index.js";
import { until } from "../packages/testkit/src/index.js";
import { repeated, usePipelineRun } from "../test-support/pipeline-run.js";

const run = usePipelineRun();

type RouteName = "logins" | "default";

/** The route each type sent must take: the samples (page_view, user_login) and a few more. */
const ROUTE_OF: Readonly<Record<string, RouteName>> = {
  page_view: "default",
  user_login: "logins",
  "auth.password_reset": "logins",
  // Near misses of the logins patterns: a pattern matches the whole type, not a part of it.
  auth: "default",
  "oauth.callback": "default",
  user_login_failed: "default",
};
const EXTRA_TYPES = ["auth.password_reset", "auth", "oauth.callback", "user_login_failed"];

describe("routing", () => {
  it("sends each type to its route's queue, and each worker handles only its own routes", async () => {
    const r = run();
    const logins = r.queueName("route_logins");
    const other = r.queueName("route_default");
    const file = r.writePipeline(
      "routes.yaml",
      `routes:
  - { name: logins, types: ["user_login", "auth.*"], queue: ${logins} }
  - { name: default, types: ["*"], queue: ${other} }
processors:
  - route: logins
    module: ${JSON.stringify(RECORDING_HANDLER)}
  - route: default
    module: ${JSON.stringify(RECORDING_HANDLER)}
`,
    );
    const loginsRecord = join(r.dir, "logins-worker.log");
    const defaultRecord = join(r.dir, "default-worker.log");
    const [{ address }] = await Promise.all([
      r.startCollector(file),
      r.startWorker("logins-worker", file, {
        WORKER_ROUTES: "logins",
        TEST_RECORD_FILE: loginsRecord,
      }),
      r.startWorker("default-worker", file, {
        WORKER_ROUTES: "default",
        TEST_RECORD_FILE: defaultRecord,
      }),
    ]);

    const events: Event[] = [...sampleEvents(200)];
    for (const type of EXTRA_TYPES) {
      for (let i = 0; i < 20; i++) events.push(newEvent(type, { source: "routing.test" }));
    }
    const expected = { logins: new Set<string>(), default: new Set<string>() };
    const expectedTypes = { logins: new Map<string, number>(), default: new Map<string, number>() };
    for (const event of events) {
      const route = ROUTE_OF[event.type]!;
      expected[route].add(event.eventId);
      const types = expectedTypes[route];
      types.set(event.type, (types.get(event.type) ?? 0) + 1);
    }

    const sent = await r.send(address, events);
    expect(sent.acknowledged).toEqual(new Set(sent.sent));
    await Promise.all([r.waitUntilDrained(logins), r.waitUntilDrained(other)]);

    // Each worker's record holds exactly its route's ids, each once, under its own name.
    const loginsRuns = readRecords(loginsRecord);
    const defaultRuns = readRecords(defaultRecord);
    expect(new Set(loginsRuns.map((record) => record.workerId))).toEqual(
      new Set(["logins-worker"]),
    );
    expect(new Set(defaultRuns.map((record) => record.workerId))).toEqual(
      new Set(["default-worker"]),
    );
    const loginsIds = loginsRuns.map((record) => record.eventId);
    const defaultIds = defaultRuns.map((record) => record.eventId);
    expect(new Set(loginsIds)).toEqual(expected.logins);
    expect(new Set(defaultIds)).toEqual(expected.default);
    expect(repeated([...loginsIds, ...defaultIds])).toEqual([]);

    // Each queue stored only its own ids, and lost none of them.
    for (const [queue, route, handled] of [
      [logins, "logins", loginsIds],
      [other, "default", defaultIds],
    ] as const) {
      const ids = expected[route];
      const { verdict } = await r.account(
        queue,
        { sent: ids, acknowledged: [...sent.acknowledged].filter((id) => ids.has(id)) },
        handled,
      );
      expect(verdict.problems).toEqual([]);
      expect(verdict.counts).toMatchObject({
        acknowledged: ids.size,
        stored: ids.size,
        handled: ids.size,
        duplicates: 0,
        deadLettered: 0,
      });
      const stats = await readQueueStats(r.redis, queueKeys(queue));
      expect(stats.byType).toEqual(Object.fromEntries(expectedTypes[route]));
      expect(stats).toMatchObject({ processed: ids.size, pending: 0, inFlight: 0 });
      // Only this route's worker ever served the queue.
      expect(stats.workers.map((worker) => worker.id)).toEqual([`${route}-worker`]);
    }
  });

  it("the collector and the worker refuse an invalid pipeline file: exit code 2, each problem as file:line", async () => {
    const r = run();
    const file = r.writePipeline(
      "invalid.yaml",
      `routes:
  - { name: logins, types: ["user_login"], queue: logins }
  - { name: default, types: ["*"], queue: "not a queue" }
processors:
  - route: logins
    http: { url: "ftp://127.0.0.1/payload" }
`,
    );
    for (const service of ["collector", "worker"] as const) {
      const proc = r.spawn(service, {
        EVENTPIPE_CONFIG: file,
        COLLECTOR_LISTEN: "127.0.0.1:0",
        COLLECTOR_HTTP_LISTEN: "",
      });
      let stderr = "";
      let stderrEnded = false;
      proc.child.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      proc.child.stderr?.on("end", () => {
        stderrEnded = true;
      });
      // Its whole stderr, not only the exit: output can still be on its way when 'exit' fires.
      await until(
        `the ${service} to exit`,
        () => stderrEnded && (proc.child.exitCode !== null || proc.child.signalCode !== null),
        15_000,
      );
      expect(proc.child.exitCode, `${service} output:\n${proc.output()}`).toBe(2);
      // Both problems at once, each on a line of its own that names the file and the line:
      // the queue name on line 3, the URL on line 6.
      const lines = stderr.split("\n");
      expect(lines.find((line) => line.includes(`${file}:3:`))).toMatch(/queue/);
      expect(lines.find((line) => line.includes(`${file}:6:`))).toMatch(/url/);
      expect(proc.output()).not.toContain("listening");
    }
  });
});
