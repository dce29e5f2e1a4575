// What a worker runs (WORKER_ROUTES) and which queues a pipeline touches.
import { describe, expect, it } from "vitest";
import { defaultPipeline, parsePipeline, queuesOf, selectProcessors } from "../src/index.js";

const pipeline = parsePipeline(
  `
routes:
  - { name: logins, types: [user_login], queue: logins }
  - { name: orders, types: ["order.*"], queue: orders }
  - { name: default, types: ["*"], queue: event_queue }
  - { name: audit, types: [audit], queue: logins }
processors:
  - { route: orders, module: ./orders.mjs, results: { queue: order_results, when: [onSuccess, onError] } }
  - { route: logins, http: { url: "http://h/" }, results: { queue: login_results } }
  - { route: default, module: ./default.mjs, results: { queue: orders } }
`,
  "/srv/pipeline.yaml",
  {},
);

describe("selectProcessors (WORKER_ROUTES)", () => {
  it("runs every processor when WORKER_ROUTES is unset or empty", () => {
    expect(selectProcessors(pipeline, undefined)).toEqual(pipeline.processors);
    expect(selectProcessors(pipeline, [])).toEqual(pipeline.processors);
  });

  it("runs only the named routes' processors, in file order", () => {
    const routes = selectProcessors(pipeline, ["default", "orders"]).map((p) => p.route);
    expect(routes).toEqual(["orders", "default"]);
  });

  it("refuses a name no processor serves, listing the ones that are served", () => {
    // `audit` is a route, but no processor serves it: a worker for it would sit idle.
    expect(() => selectProcessors(pipeline, ["orders", "audit", "ordres"])).toThrow(
      [
        'WORKER_ROUTES names "audit", which no processor serves; processors serve: orders, logins, default, event_queue',
        'WORKER_ROUTES names "ordres", which no processor serves; processors serve: orders, logins, default, event_queue',
      ].join("\n"),
    );
  });
});

describe("queuesOf", () => {
  it("lists each queue once: route queues, then result queues, in file order", () => {
    expect(queuesOf(pipeline)).toEqual([
      "logins",
      "orders",
      "event_queue",
      "order_results",
      "login_results",
    ]);
  });

  it("is the one queue of the default pipeline", () => {
    expect(queuesOf(defaultPipeline("jobs"))).toEqual(["jobs"]);
  });
});
