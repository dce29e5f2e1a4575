// The `processors:` list: which worker-side target handles each route (each queue of a fan-out
// route), and where results go.
import type { Node } from "yaml";
import type { Field, Fields, NodeReader } from "./node-reader.js";
import { type RouteTable, readQueueName } from "./parse-routes.js";
import { readGrpc, readHttp, readModule } from "./parse-targets.js";
import {
  PIPELINE_DEFAULTS,
  type ProcessorSpec,
  RESULT_OUTCOMES,
  type ResultOutcome,
  type ResultsTarget,
  type Route,
} from "./types.js";

const PROCESSOR_KEYS = [
  "route",
  "queue",
  "http",
  "grpc",
  "module",
  "concurrency",
  "results",
] as const;
const TARGET_KINDS = ["http", "grpc", "module"] as const;
type TargetKind = (typeof TARGET_KINDS)[number];
const RESULTS_KEYS = ["queue", "when"] as const;

export function readProcessors(
  reader: NodeReader,
  node: Node,
  routes: RouteTable,
): ProcessorSpec[] {
  const processors: ProcessorSpec[] = [];
  const servedOnLine = new Map<string, number>();
  const items = reader.list(node, "processors", "[{ route: default, module: ./handler.mjs }]", {
    allowEmpty: true,
  });
  for (const item of items ?? []) {
    const processor = readProcessor(reader, item, routes, servedOnLine);
    if (processor !== undefined) processors.push(processor);
  }
  return processors;
}

function readProcessor(
  reader: NodeReader,
  item: Node,
  routes: RouteTable,
  servedOnLine: Map<string, number>,
): ProcessorSpec | undefined {
  const fields = reader.mapping(item, "a processor", PROCESSOR_KEYS);
  if (fields === undefined) return undefined;
  const before = reader.problemCount;

  const routeNode = reader.required(fields, "route", item, "a processor");
  const route = routeNode && readRoute(reader, routeNode, routes);
  const queue = route && readServedQueue(reader, route, routeNode!, fields, servedOnLine);

  const concurrencyNode = fields.get("concurrency")?.value;
  const concurrency =
    concurrencyNode &&
    reader.integer(concurrencyNode, "concurrency", 1, PIPELINE_DEFAULTS.maxConcurrency);

  const resultsNode = fields.get("results")?.value;
  const results = resultsNode && readResults(reader, resultsNode, queue);

  // In file order, so a second target is reported where it was written.
  const kinds = [...fields.keys()].filter(isTargetKind);
  const [kind, second] = kinds;
  if (kind === undefined) {
    reader.report(item, `a processor needs one of ${TARGET_KINDS.join(", ")}`);
  } else if (second !== undefined) {
    reader.report(
      fields.get(second)?.key,
      `a processor takes one of ${TARGET_KINDS.join(", ")}, not ${kinds.join(" and ")}: one target per route`,
    );
  }
  const target =
    kind && second === undefined ? readTarget(reader, kind, fields.get(kind)) : undefined;

  if (
    reader.problemCount > before ||
    route === undefined ||
    queue === undefined ||
    target === undefined
  ) {
    return undefined;
  }
  const base = { route: route.name, queue, concurrency, results };
  return Object.freeze({ ...base, ...target });
}

function isTargetKind(key: string): key is TargetKind {
  return (TARGET_KINDS as readonly string[]).includes(key);
}

type Target =
  | { kind: "http"; http: NonNullable<ReturnType<typeof readHttp>> }
  | { kind: "grpc"; grpc: NonNullable<ReturnType<typeof readGrpc>> }
  | { kind: "module"; module: string };

function readTarget(
  reader: NodeReader,
  kind: TargetKind,
  field: Field | undefined,
): Target | undefined {
  if (field?.value === undefined) return reader.report(field?.key, `"${kind}" has no value`);
  switch (kind) {
    case "http": {
      const http = readHttp(reader, field.value);
      return http && { kind, http };
    }
    case "grpc": {
      const grpc = readGrpc(reader, field.value);
      return grpc && { kind, grpc };
    }
    case "module": {
      const module = readModule(reader, field.value);
      return module === undefined ? undefined : { kind, module };
    }
  }
}

function readRoute(reader: NodeReader, node: Node, routes: RouteTable): Route | undefined {
  const name = reader.nonEmptyString(node, "route");
  if (name === undefined) return undefined;
  if (!routes.names.has(name)) {
    const known = [...routes.names].join(", ") || "none";
    return reader.report(node, `route "${name}" is not defined; routes: ${known}`);
  }
  // Undefined for a route that is defined but invalid: reported with the route.
  return routes.routes.find((candidate) => candidate.name === name);
}

/** The queue the processor consumes: the route's own, or the one `queue:` picks of a fan-out. */
function readServedQueue(
  reader: NodeReader,
  route: Route,
  routeNode: Node,
  fields: Fields,
  /** Queue -> the line of the processor that serves it. */
  servedOnLine: Map<string, number>,
): string | undefined {
  const queueNode = fields.get("queue")?.value;
  let queue: string | undefined;
  if (queueNode === undefined) {
    if (route.queues.length > 1) {
      return reader.report(
        routeNode,
        `route "${route.name}" stores into several queues (${route.queues.join(", ")}): name the one this processor serves with queue:`,
      );
    }
    queue = route.queues[0];
  } else {
    queue = reader.nonEmptyString(queueNode, "queue");
    if (queue !== undefined && !route.queues.includes(queue)) {
      return reader.report(
        queueNode,
        `queue "${queue}" is not one of route "${route.name}"'s queues (${route.queues.join(", ")})`,
      );
    }
  }
  if (queue === undefined) return undefined;
  // Keyed by queue: two processors on one queue would run two consumers with one worker id
  // there, taking each other's events back.
  const first = servedOnLine.get(queue);
  if (first !== undefined) {
    return reader.report(
      queueNode ?? routeNode,
      `route "${route.name}" goes to queue "${queue}", which the processor on line ${first} already serves; one processor per queue`,
    );
  }
  servedOnLine.set(queue, reader.line(queueNode ?? routeNode));
  return queue;
}

function readResults(
  reader: NodeReader,
  node: Node,
  ownQueue: string | undefined,
): ResultsTarget | undefined {
  const fields = reader.mapping(node, "results", RESULTS_KEYS);
  if (fields === undefined) return undefined;
  const queueNode = reader.required(fields, "queue", node, "results");
  const queue = queueNode && readQueueName(reader, queueNode, "results queue");
  if (queueNode !== undefined && queue !== undefined && queue === ownQueue) {
    reader.report(
      queueNode,
      `results queue "${queue}" is the queue this processor reads: its results would come back to it forever; pick another queue`,
    );
  }
  const whenNode = fields.get("when")?.value;
  const when: readonly ResultOutcome[] | undefined = whenNode
    ? readOutcomes(reader, whenNode)
    : ["onSuccess"];
  if (queue === undefined || queue === ownQueue || when === undefined) return undefined;
  return Object.freeze({ queue, when: Object.freeze([...when]) });
}

function readOutcomes(reader: NodeReader, node: Node): ResultOutcome[] | undefined {
  const items = reader.list(node, "when", "[onSuccess, onError]");
  if (items === undefined) return undefined;
  const outcomes = new Set<ResultOutcome>();
  let ok = true;
  for (const item of items) {
    const value = reader.string(item, "when");
    const outcome = RESULT_OUTCOMES.find((known) => known === value);
    if (outcome !== undefined) {
      outcomes.add(outcome);
      continue;
    }
    ok = false;
    if (value !== undefined) {
      reader.report(
        item,
        `"${value}" is not a result outcome; use onSuccess (status < 400) or onError (status >= 400)`,
      );
    }
  }
  return ok ? [...outcomes] : undefined;
}
