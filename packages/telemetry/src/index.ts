export type { MetricName, MetricOwner, MetricSpec, MetricType } from "./metric-catalogue.js";
export { METRICS, metricSpec } from "./metric-catalogue.js";
export type { MetricRegistry } from "./metric-registry.js";
export { createMetricRegistry } from "./metric-registry.js";
export type { MetricsServer } from "./metrics-server.js";
export { startMetricsServer } from "./metrics-server.js";
export { addQueueGauges } from "./queue-gauges.js";
export type { TypeLabel } from "./type-label.js";
export { createTypeLabel, OTHER_TYPE } from "./type-label.js";
