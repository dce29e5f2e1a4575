// The `metrics` profile's files (docker-compose.yml, deploy/): Prometheus's config passes
// `promtool check config`, and every query of the Grafana dashboard parses (`promtool check
// rules`) and names only metrics, and labels, that eventpipe exports: the metric catalogue.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { METRICS } from "../packages/telemetry/src/metric-catalogue.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PROMETHEUS_CONFIG = join(ROOT, "deploy/prometheus/prometheus.yml");
const DASHBOARD = join(ROOT, "deploy/grafana/dashboards/eventpipe.json");
const DATASOURCES = join(ROOT, "deploy/grafana/provisioning/datasources/prometheus.yml");
const DASHBOARD_PROVIDER = join(ROOT, "deploy/grafana/provisioning/dashboards/eventpipe.yml");
const COMPOSE = join(ROOT, "docker-compose.yml");

const read = (path: string): string => readFileSync(path, "utf8");

/** promtool comes with Debian's `prometheus` package (CI installs it). */
const promtoolMissing = spawnSync("promtool", ["--version"]).error !== undefined;
const NO_PROMTOOL = "skipped: promtool is not installed (apt-get install prometheus)";
function promtool(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync("promtool", args, { encoding: "utf8", timeout: 30_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Series a scrape shows for each catalogue metric, with the labels each may carry. */
const SERIES = new Map<string, readonly string[]>();
for (const metric of METRICS) {
  if (metric.type === "histogram") {
    SERIES.set(`${metric.name}_bucket`, [...metric.labels, "le"]);
    SERIES.set(`${metric.name}_sum`, metric.labels);
    SERIES.set(`${metric.name}_count`, metric.labels);
  } else {
    SERIES.set(metric.name, metric.labels);
  }
}
/** Labels Prometheus adds to every scraped series (`service`: prometheus.yml's relabeling). */
const TARGET_LABELS = ["instance", "job", "service"];

const GROUPING = /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g;
const SELECTOR = /([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g;
const KEYWORDS = new Set(["and", "or", "unless", "bool", "offset", "inf", "nan", "atan2"]);

/** Grafana's variables replaced by values PromQL accepts. */
function concrete(expr: string): string {
  return expr
    .replace(/\$__(?:rate_interval|interval|range)\b/g, "5m")
    .replace(/\$\{?[a-zA-Z_]+\}?/g, ".*");
}

/**
 * The metric names an expression selects: identifiers that remain once strings, label
 * matchers, ranges and grouping label lists are gone, less functions (followed by `(`),
 * keywords and the units of durations (`5m`).
 */
function metricNames(expr: string): string[] {
  const bare = concrete(expr)
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(GROUPING, " ");
  const names = new Set<string>();
  for (const match of bare.matchAll(/(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const [, name, call] = match;
    if (name !== undefined && call === undefined && !KEYWORDS.has(name.toLowerCase())) {
      names.add(name);
    }
  }
  return [...names].sort();
}

/** Every label an expression names: in matchers and in by/without/on/ignoring lists. */
function labelNames(expr: string): string[] {
  const text = concrete(expr).replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const labels = new Set<string>();
  for (const [, , matchers] of text.matchAll(SELECTOR)) {
    for (const [, label] of (matchers ?? "").matchAll(
      /([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g,
    )) {
      if (label !== undefined) labels.add(label);
    }
  }
  for (const [, list] of text.matchAll(GROUPING)) {
    for (const label of (list ?? "").split(",")) if (label.trim() !== "") labels.add(label.trim());
  }
  return [...labels].sort();
}

interface Query {
  readonly where: string;
  readonly expr: string;
  readonly legend?: string;
}
interface Panel {
  readonly title?: string;
  readonly datasource?: { readonly uid?: string };
  readonly targets?: { expr?: string; legendFormat?: string; datasource?: { uid?: string } }[];
  readonly panels?: Panel[];
}
interface Dashboard {
  readonly panels: Panel[];
  readonly templating?: {
    list: { name: string; datasource?: { uid?: string }; query?: { query?: string } | string }[];
  };
}

const dashboard = JSON.parse(read(DASHBOARD)) as Dashboard;
const flatPanels = (panels: readonly Panel[]): Panel[] =>
  panels.flatMap((panel) => [panel, ...flatPanels(panel.panels ?? [])]);
const panels = flatPanels(dashboard.panels);
const queries: Query[] = panels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({
    where: `panel "${panel.title}"`,
    expr: target.expr ?? "",
    legend: target.legendFormat,
  })),
);
// A variable's `label_values(metric, label)` names a metric and a label too.
for (const variable of dashboard.templating?.list ?? []) {
  const query = typeof variable.query === "string" ? variable.query : variable.query?.query;
  const match = /^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$/.exec(query ?? "");
  if (match?.[1] !== undefined) {
    queries.push({
      where: `variable $${variable.name}`,
      expr: `sum by (${match[2]}) (${match[1]})`,
    });
  }
}

const scratch = mkdtempSync(join(tmpdir(), "eventpipe-deploy-files-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("the PromQL name extractor", () => {
  it("finds the metrics and leaves functions, keywords, labels and strings out", () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, queue) (rate(a_bucket{queue=~"$queue",x!="b c"}[$__rate_interval]))) / ignoring(le) b_total and on() vector(1) offset 5m',
      ),
    ).toEqual(["a_bucket", "b_total"]);
    expect(labelNames('sum by (le, queue) (rate(a_bucket{route="x"}[5m]))')).toEqual([
      "le",
      "queue",
      "route",
    ]);
  });
});

describe("deploy/prometheus/prometheus.yml", () => {
  it.skipIf(promtoolMissing)(
    `passes promtool check config ${promtoolMissing ? NO_PROMTOOL : ""}`,
    () => {
      const result = promtool("check", "config", PROMETHEUS_CONFIG);
      expect(result.output).toContain("SUCCESS");
      expect(result.status).toBe(0);
    },
  );

  it("finds the collector and every worker by DNS, on the ports compose gives METRICS_LISTEN", () => {
    const config = read(PROMETHEUS_CONFIG);
    const compose = read(COMPOSE);
    for (const [service, port] of [
      ["collector", 9464],
      ["worker", 9465],
    ] as const) {
      expect(config).toMatch(
        new RegExp(`- names: \\[${service}\\]\\s+type: A\\s+port: ${port}\\b`),
      );
      expect(compose).toMatch(new RegExp(`METRICS_LISTEN: \\$\\{[A-Z_]+-0\\.0\\.0\\.0:${port}\\}`));
    }
  });
});

describe("deploy/grafana", () => {
  it("every panel and variable reads the provisioned Prometheus datasource", () => {
    const uid = /^\s+uid: (\S+)$/m.exec(read(DATASOURCES))?.[1];
    expect(uid).toBeDefined();
    const used = new Set<string | undefined>([
      ...panels.map((panel) => panel.datasource?.uid),
      ...panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.datasource?.uid)),
      ...(dashboard.templating?.list ?? []).map((variable) => variable.datasource?.uid),
    ]);
    expect([...used]).toEqual([uid]);
  });

  it("the dashboard provider reads the folder docker-compose.yml mounts the dashboards in", () => {
    const path = /^\s+path: (\S+)$/m.exec(read(DASHBOARD_PROVIDER))?.[1];
    expect(read(COMPOSE)).toContain(`./deploy/grafana/dashboards:${path}:ro`);
    expect(read(COMPOSE)).toContain(
      `GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH: ${path}/eventpipe.json`,
    );
  });

  it("the dashboard has queries for rates, queue depth, oldest age, handler latency and dead letters", () => {
    const all = queries.map((query) => query.expr).join("\n");
    expect(all).toMatch(/rate\(eventpipe_collector_events_accepted_total/);
    expect(all).toMatch(/rate\(eventpipe_worker_events_processed_total/);
    expect(all).toContain("eventpipe_queue_pending");
    expect(all).toContain("eventpipe_queue_oldest_pending_age_seconds");
    expect(all).toMatch(
      /histogram_quantile\(0\.99, .*eventpipe_worker_handler_duration_seconds_bucket/,
    );
    expect(all).toContain("eventpipe_queue_dead_letters");
    expect(all).toContain("eventpipe_worker_events_dead_lettered_total");
  });

  it("every query names only metrics and labels of the metric catalogue", () => {
    const problems: string[] = [];
    for (const query of queries) {
      const names = metricNames(query.expr);
      if (names.length === 0) problems.push(`${query.where}: names no metric: ${query.expr}`);
      const labels = new Set(TARGET_LABELS);
      for (const name of names) {
        const known = SERIES.get(name);
        if (known === undefined) problems.push(`${query.where}: ${name} is not in the catalogue`);
        for (const label of known ?? []) labels.add(label);
      }
      const legendLabels = [...(query.legend ?? "").matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map(
        (m) => m[1],
      );
      for (const label of [...labelNames(query.expr), ...legendLabels]) {
        if (label !== undefined && !labels.has(label)) {
          problems.push(`${query.where}: label ${label} is on none of ${names.join(", ")}`);
        }
      }
    }
    expect(queries.length).toBeGreaterThan(10);
    expect(problems).toEqual([]);
  });

  it.skipIf(promtoolMissing)(
    `every query parses (promtool check rules) ${promtoolMissing ? NO_PROMTOOL : ""}`,
    () => {
      // Each query as a recording rule: promtool parses every expression without a server.
      const rules = [
        "groups:",
        "  - name: dashboard",
        "    rules:",
        ...queries.flatMap((query, index) => [
          `      - record: eventpipe:dashboard_query_${index}`,
          `        expr: ${JSON.stringify(concrete(query.expr))}`,
        ]),
      ];
      const file = join(scratch, "dashboard-rules.yml");
      writeFileSync(file, `${rules.join("\n")}\n`);
      const result = promtool("check", "rules", file);
      expect(result.output).toContain(`SUCCESS: ${queries.length} rules found`);
      expect(result.status).toBe(0);
    },
  );
});
