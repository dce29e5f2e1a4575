// The `routes:` list: which queue, or queues (fan-out), each event type goes to.
import { queueKeys } from "@eventpipe/queue";
import type { Node } from "yaml";
import type { Fields, NodeReader } from "./node-reader.js";
import { PIPELINE_DEFAULTS, type Route } from "./types.js";

const ROUTE_KEYS = ["name", "types", "queue", "queues"] as const;
const ROUTES_EXAMPLE = '[{ name: default, types: ["*"], queue: event_queue }]';

export const MISSING_DEFAULT_ROUTE = `routes need one named "${PIPELINE_DEFAULTS.defaultRoute}": it takes the types no other route matches`;

export interface RouteTable {
  /** Every route that parsed without a problem, in file order. */
  readonly routes: readonly Route[];
  /** Every name written, even on a route with other problems, so processors that name it are not blamed too. */
  readonly names: ReadonlySet<string>;
}

export function readRoutes(reader: NodeReader, node: Node): RouteTable {
  const routes: Route[] = [];
  const firstLine = new Map<string, number>();
  const items = reader.list(node, "routes", ROUTES_EXAMPLE);
  for (const item of items ?? []) {
    const route = readRoute(reader, item, firstLine);
    if (route !== undefined) routes.push(route);
  }
  if (items !== undefined && !firstLine.has(PIPELINE_DEFAULTS.defaultRoute)) {
    reader.report(node, MISSING_DEFAULT_ROUTE);
  }
  return { routes, names: new Set(firstLine.keys()) };
}

/** The queue library's own check, so the file refuses exactly the names the queue would. */
export function readQueueName(reader: NodeReader, node: Node, label: string): string | undefined {
  const name = reader.string(node, label);
  if (name === undefined) return undefined;
  try {
    queueKeys(name);
    return name;
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return reader.report(
      node,
      `${label} "${name}" is not a valid queue name: it must be non-empty, without braces or whitespace`,
    );
  }
}

function readRoute(
  reader: NodeReader,
  item: Node,
  firstLine: Map<string, number>,
): Route | undefined {
  const fields = reader.mapping(item, "a route", ROUTE_KEYS);
  if (fields === undefined) return undefined;
  const before = reader.problemCount;

  const nameNode = reader.required(fields, "name", item, "a route");
  const name = nameNode && reader.nonEmptyString(nameNode, "name");
  if (nameNode !== undefined && name !== undefined) {
    const first = firstLine.get(name);
    if (first !== undefined) {
      reader.report(nameNode, `route name "${name}" is already used on line ${first}`);
    } else {
      firstLine.set(name, reader.line(nameNode));
      // WORKER_ROUTES lists route names split on commas, so such a name could never be chosen.
      if (/[,\s]/.test(name)) {
        reader.report(nameNode, `route name "${name}" must not contain commas or whitespace`);
      }
    }
  }

  const typesNode = reader.required(fields, "types", item, "a route");
  const types = typesNode && readTypes(reader, typesNode);
  const queues = readRouteQueues(reader, item, fields);

  if (reader.problemCount > before || name === undefined || !types || queues === undefined) {
    return undefined;
  }
  return Object.freeze({ name, types, queues });
}

/** `queue: q` or `queues: [a, b]` (every event stored in each), exactly one of them. */
function readRouteQueues(
  reader: NodeReader,
  item: Node,
  fields: Fields,
): readonly string[] | undefined {
  const single = fields.get("queue");
  const several = fields.get("queues");
  if (single !== undefined && several !== undefined) {
    return reader.report(several.key, "a route takes queue or queues, not both");
  }
  if (single === undefined && several === undefined) {
    return reader.report(
      item,
      'a route needs "queue" (or "queues", to store each event in several)',
    );
  }
  if (several === undefined) {
    const queueNode = reader.required(fields, "queue", item, "a route");
    const queue = queueNode && readQueueName(reader, queueNode, "queue");
    return queue === undefined ? undefined : Object.freeze([queue]);
  }
  if (several.value === undefined) return reader.report(several.key, '"queues" has no value');
  const items = reader.list(several.value, "queues", "[billing, audit]");
  if (items === undefined) return undefined;
  const queues: string[] = [];
  for (const queueNode of items) {
    const queue = readQueueName(reader, queueNode, "queue");
    if (queue === undefined) continue;
    if (queues.includes(queue)) reader.report(queueNode, `queue "${queue}" is listed twice`);
    else queues.push(queue);
  }
  return queues.length === items.length ? Object.freeze(queues) : undefined;
}

function readTypes(reader: NodeReader, node: Node): readonly string[] | undefined {
  const items = reader.list(node, "types", '["user_login", "auth.*"]');
  if (items === undefined) return undefined;
  const types = items.map((item) => reader.nonEmptyString(item, "a type pattern"));
  return types.every((type) => type !== undefined) ? Object.freeze(types) : undefined;
}
