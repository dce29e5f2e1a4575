// Prometheus metrics after a real run: a collector and a worker process, events that succeed,
// fail into the dead-letter list, are resent (duplicates), invalid, or wait on a queue no
// worker serves. Each service's /metrics is scraped and its figures checked against what was
// sent, and `promtool check metrics` (Debian's prometheus package) accepts both outputs.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { newEvent } from "../packages/producer/src/index.js";
import { usePipelineRun } from "../test-support/pipeline-run.js";
import { freePort } from "../test-support/redis-server.js";

const run = usePipelineRun();

/** Prometheus text format: `name{a="b",...} value` lines, keyed by name and sorted labels. */
function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`not a sample line: ${line}`);
    const labels = [...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)]
      .map(([, name, value]) => `${name}=${value}`)
      .sort()
      .join(",");
    values.set(`${match[1]}{${labels}}`, Number(match[3]));
  }
  return values;
}

async function scrape(port: number): Promise<{ text: string; values: Map<string, number> }> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  return { text, values: parseMetrics(text) };
}

function promtoolCheck(text: string): { status: number | null; output: string } {
  const result = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  if (result.error !== undefined) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const metric = (values: Map<string, number>, name: string, labels: Record<string, string> = {}) =>
  values.get(
    `${name}{${Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .sort()
      .join(",")}}`,
  );

describe("Prometheus metrics", () => {
  it("count what a real run did, on both services, in a form promtool accepts", async () => {
    const r = run();
    const orders = r.queueName("metrics_orders");
    const parked = r.queueName("metrics_parked");
    const handler = join(r.dir, "handler.mjs");
    writeFileSync(
      handler,
      'export default async (event) => { if (event.type === "order.bad") throw new Error("bad order"); };\n',
    );
    const file = r.writePipeline(
      "metrics.yaml",
      `routes:
  - { name: orders, types: ["order.created", "order.bad", "order.x*"], queue: ${orders} }
  - { name: default, types: ["*"], queue: ${parked} }
processors:
  - { route: orders, module: ${JSON.stringify(handler)} }
`,
    );
    const [collectorMetrics, workerMetrics] = [await freePort(), await freePort()];
    const [{ address }] = await Promise.all([
      r.startCollector(file, { METRICS_LISTEN: `127.0.0.1:${collectorMetrics}` }),
      r.startWorker("metrics-worker", file, {
        METRICS_LISTEN: `127.0.0.1:${workerMetrics}`,
        MAX_ATTEMPTS: "2",
        RETRY_BASE_DELAY_MS: "10",
        RETRY_MAX_DELAY_MS: "50",
      }),
    ]);

    const created = Array.from({ length: 300 }, () => newEvent("order.created"));
    const bad = Array.from({ length: 20 }, () => newEvent("order.bad"));
    // Matched by a wildcard only: counted under "other", so types cannot blow up the series.
    const unnamed = Array.from({ length: 10 }, (_, i) => newEvent(`order.x${i}`));
    const waiting = Array.from({ length: 7 }, () => newEvent("invoice.sent"));
    const invalid = Array.from({ length: 5 }, () => newEvent(""));
    await r.send(address, [...created, ...bad, ...unnamed, ...waiting, ...invalid]);
    const again = await r.send(address, created.slice(0, 50));
    expect(again.totals.duplicates).toBe(50);
    await r.waitUntilDrained(orders, 30_000);

    const collector = await scrape(collectorMetrics);
    const c = (name: string, labels?: Record<string, string>) =>
      metric(collector.values, name, labels);
    expect(c("eventpipe_collector_events_received_total", { rpc: "Publish" })).toBe(392);
    expect(c("eventpipe_collector_events_accepted_total", { rpc: "Publish" })).toBe(337);
    expect(c("eventpipe_collector_events_duplicate_total", { rpc: "Publish" })).toBe(50);
    expect(
      c("eventpipe_collector_events_rejected_total", { rpc: "Publish", reason: "missing_type" }),
    ).toBe(5);
    expect(c("eventpipe_collector_batch_size_count")).toBeGreaterThan(0);
    expect(c("eventpipe_collector_redis_write_duration_seconds_count")).toBe(
      c("eventpipe_collector_batch_size_count"),
    );
    expect(c("eventpipe_collector_open_streams")).toBe(0);
    expect(c("eventpipe_collector_buffered_events")).toBe(0);
    // Queue state, read from Redis on the scrape.
    expect(c("eventpipe_queue_pending", { queue: orders })).toBe(0);
    expect(c("eventpipe_queue_dead_letters", { queue: orders })).toBe(20);
    expect(c("eventpipe_queue_live_workers", { queue: orders })).toBe(1);
    expect(c("eventpipe_queue_pending", { queue: parked })).toBe(7);
    expect(c("eventpipe_queue_oldest_pending_age_seconds", { queue: parked })).toBeGreaterThan(0);
    expect(c("eventpipe_queue_oldest_pending_age_seconds", { queue: orders })).toBe(0);

    const worker = await scrape(workerMetrics);
    const w = (name: string, labels?: Record<string, string>) =>
      metric(worker.values, name, labels);
    const q = { queue: orders };
    expect(w("eventpipe_worker_events_processed_total", { ...q, type: "order.created" })).toBe(300);
    expect(w("eventpipe_worker_events_processed_total", { ...q, type: "other" })).toBe(10);
    expect(w("eventpipe_worker_events_failed_total", { ...q, type: "order.bad" })).toBe(40);
    expect(w("eventpipe_worker_events_retried_total", q)).toBe(20);
    expect(w("eventpipe_worker_events_dead_lettered_total", { ...q, reason: "max_attempts" })).toBe(
      20,
    );
    expect(w("eventpipe_worker_handler_duration_seconds_count", q)).toBe(350);
    expect(w("eventpipe_worker_handlers_in_flight", q)).toBe(0);
    // Every claim took at least one event, and together they took every delivery.
    expect(w("eventpipe_worker_claim_batch_size_sum", q)).toBe(350);
    expect(w("eventpipe_queue_dead_letters", q)).toBe(20);
    const typeLabels = [...worker.values.keys()]
      .filter((key) => key.startsWith("eventpipe_worker_events_processed_total"))
      .map((key) => /type=([^,}]*)/.exec(key)?.[1]);
    expect(new Set(typeLabels)).toEqual(new Set(["order.created", "other"]));

    for (const output of [collector.text, worker.text]) {
      expect(promtoolCheck(output)).toEqual({ status: 0, output: "" });
    }
  });
});
