// A prom-client registry holding one service's metrics, made from the catalogue, plus the
// standard process metrics (process_cpu_seconds_total, nodejs_eventloop_lag_seconds...).
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { METRICS, type MetricName, type MetricOwner, type MetricSpec } from "./metric-catalogue.js";

const MISNAMED_DEFAULTS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

type AnyMetric = Counter<string> | Gauge<string> | Histogram<string>;

export interface MetricRegistry {
  readonly registry: Registry;
  counter(name: MetricName): Counter<string>;
  gauge(name: MetricName): Gauge<string>;
  histogram(name: MetricName): Histogram<string>;
  /** Fills a gauge from the service's own state each time Prometheus scrapes. */
  onScrape(name: MetricName, fill: (gauge: Gauge<string>) => void): void;
  /** The Prometheus text exposition of every metric. */
  render(): Promise<string>;
}

function create(spec: MetricSpec, registry: Registry): AnyMetric {
  const common = {
    name: spec.name,
    help: spec.help,
    labelNames: [...spec.labels],
    registers: [registry],
  };
  switch (spec.type) {
    case "counter":
      return new Counter(common);
    case "gauge":
      return new Gauge(common);
    case "histogram":
      return new Histogram({ ...common, buckets: [...(spec.buckets ?? [])] });
  }
}

/** The metrics of `owner` (and the queue-state gauges, which are read on scrape). */
export function createMetricRegistry(owner: Exclude<MetricOwner, "queue">): MetricRegistry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Gauges whose names end in _total break the naming convention (promtool check metrics says
  // so); the same counts are in nodejs_active_{handles,requests,resources} by type.
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);
  const metrics = new Map<string, AnyMetric>();
  for (const spec of METRICS as readonly MetricSpec[]) {
    if (spec.owner === owner) metrics.set(spec.name, create(spec, registry));
  }
  const get = (name: MetricName, type: MetricSpec["type"]) => {
    const metric = metrics.get(name);
    if (metric === undefined) throw new TypeError(`${name} is not a ${owner} metric`);
    const spec = (METRICS as readonly MetricSpec[]).find((s) => s.name === name)!;
    if (spec.type !== type) throw new TypeError(`${name} is a ${spec.type}, not a ${type}`);
    return metric;
  };
  return {
    registry,
    counter: (name) => get(name, "counter") as Counter<string>,
    gauge: (name) => get(name, "gauge") as Gauge<string>,
    histogram: (name) => get(name, "histogram") as Histogram<string>,
    onScrape(name, fill) {
      const gauge = get(name, "gauge") as Gauge<string> & { collect?: () => void };
      // prom-client calls a metric's collect() before it reads the values.
      gauge.collect = () => {
        gauge.reset();
        fill(gauge);
      };
    },
    render: () => registry.metrics(),
  };
}
