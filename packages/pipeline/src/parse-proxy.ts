// The `proxy:` section: the collector as the front door to a backing "master API". HTTP routes
// forward every path under a prefix; gRPC routes forward every method whose full name starts
// with one of their service prefixes. A prefix that would take one of eventpipe's own paths or
// services is refused here, with its line; the collector checks its real routes again at start
// (routes added to it later are covered there).
import type { Node } from "yaml";
import type { NodeReader } from "./node-reader.js";
import {
  type GrpcProxyRoute,
  type HttpProxyRoute,
  NO_PROXY,
  PROXY_DEFAULTS,
  type ProxySettings,
} from "./proxy-types.js";
import { PIPELINE_DEFAULTS } from "./types.js";

const PROXY_KEYS = ["http", "grpc"] as const;
const HTTP_ROUTE_KEYS = ["prefix", "upstream", "rewritePrefix", "timeoutMs"] as const;
const GRPC_ROUTE_KEYS = ["services", "upstream", "tls"] as const;

/**
 * The collector's own HTTP namespaces: every path equal to one or under it is eventpipe's
 * (`/v1` is the API's version namespace, kept whole for the routes still to come; `/ui` is the
 * dashboard). The sample
 * flow's parametric routes (`/:client/...`) are not here: a proxy prefix's static path wins
 * over a parameter in the router, so a prefix `/api` takes `/api/list_events` too.
 */
export const RESERVED_HTTP_PREFIXES: readonly string[] = Object.freeze([
  "/v1",
  "/healthz",
  "/readyz",
  "/ui",
]);

/** The collector's own gRPC services; no proxy service prefix may take one of their methods. */
export const RESERVED_GRPC_SERVICES: readonly string[] = Object.freeze([
  "event.EventService",
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
]);

/** Two path prefixes overlap when one equals the other or lies under it ("/a" and "/a/b"). */
export function prefixesOverlap(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

/** Whether a full-method-name prefix takes any method of `service` ("package.Service"). */
export function capturesService(prefix: string, service: string): boolean {
  const methods = `${service}/`;
  return methods.startsWith(prefix) || prefix.startsWith(methods);
}

// Plain path segments only: find-my-way gives `*` and `:` meanings, `%` would make the
// prefix compare differently from the decoded path the router matches.
const SEGMENT = /^[A-Za-z0-9._~-]+$/;
const PLAIN_PATH = "segments of letters, digits and - . _ ~ (no wildcards, :params or %-escapes)";
const HOST_PORT = /^(\[[^\]]+\]|[^:\s/]+):(\d{1,5})$/;
const SERVICE_PREFIX = /^[A-Za-z0-9_.]+\/?[A-Za-z0-9_]*$/;

export function readProxy(reader: NodeReader, node: Node): ProxySettings {
  const fields = reader.mapping(node, "proxy", PROXY_KEYS);
  if (fields === undefined) return NO_PROXY;
  const httpNode = fields.get("http")?.value;
  const grpcNode = fields.get("grpc")?.value;
  return Object.freeze({
    http: httpNode ? readHttpRoutes(reader, httpNode) : NO_PROXY.http,
    grpc: grpcNode ? readGrpcRoutes(reader, grpcNode) : NO_PROXY.grpc,
  });
}

function readHttpRoutes(reader: NodeReader, node: Node): readonly HttpProxyRoute[] {
  const routes: HttpProxyRoute[] = [];
  const prefixLines = new Map<string, number>();
  const items = reader.list(node, "proxy http", '[{ prefix: /api, upstream: "http://api:8080" }]', {
    allowEmpty: true,
  });
  for (const item of items ?? []) {
    const route = readHttpRoute(reader, item, prefixLines);
    if (route !== undefined) routes.push(route);
  }
  return Object.freeze(routes);
}

function readHttpRoute(
  reader: NodeReader,
  item: Node,
  prefixLines: Map<string, number>,
): HttpProxyRoute | undefined {
  const fields = reader.mapping(item, "a proxy http route", HTTP_ROUTE_KEYS);
  if (fields === undefined) return undefined;
  const before = reader.problemCount;

  const prefixNode = reader.required(fields, "prefix", item, "a proxy http route");
  const prefix = prefixNode && readPrefix(reader, prefixNode, prefixLines);

  const upstreamNode = reader.required(fields, "upstream", item, "a proxy http route");
  const upstream = upstreamNode && readUpstreamUrl(reader, upstreamNode);

  const rewriteNode = fields.get("rewritePrefix")?.value;
  const rewritePrefix = rewriteNode
    ? readRewritePrefix(reader, rewriteNode)
    : PROXY_DEFAULTS.rewritePrefix;

  const timeoutNode = fields.get("timeoutMs")?.value;
  const timeoutMs = timeoutNode
    ? reader.integer(timeoutNode, "timeoutMs", 1, PIPELINE_DEFAULTS.maxTimeoutMs)
    : PROXY_DEFAULTS.httpTimeoutMs;

  if (
    reader.problemCount > before ||
    prefix === undefined ||
    upstream === undefined ||
    rewritePrefix === undefined ||
    timeoutMs === undefined
  ) {
    return undefined;
  }
  return Object.freeze({ prefix, upstream, rewritePrefix, timeoutMs });
}

function readPrefix(
  reader: NodeReader,
  node: Node,
  prefixLines: Map<string, number>,
): string | undefined {
  const prefix = reader.nonEmptyString(node, "prefix");
  if (prefix === undefined) return undefined;
  if (!prefix.startsWith("/")) {
    return reader.report(node, `prefix "${prefix}" must start with "/", e.g. /api`);
  }
  if (prefix === "/") {
    return reader.report(
      node,
      'prefix "/" would forward every path, eventpipe\'s own routes too; use a prefix such as /api',
    );
  }
  if (prefix.endsWith("/")) {
    return reader.report(
      node,
      `prefix "${prefix}" must not end with "/": write ${prefix.replace(/\/+$/, "") || "/api"} (every path under it is forwarded)`,
    );
  }
  const segments = prefix.slice(1).split("/");
  if (segments.some((segment) => !SEGMENT.test(segment) || /^\.+$/.test(segment))) {
    return reader.report(
      node,
      `prefix "${prefix}" must be a plain path: ${PLAIN_PATH}; every path under it is forwarded`,
    );
  }
  const own = RESERVED_HTTP_PREFIXES.find((reserved) => prefixesOverlap(prefix, reserved));
  if (own !== undefined) {
    return reader.report(
      node,
      `prefix "${prefix}" overlaps eventpipe's own route ${own} (and the paths under it); pick another prefix, e.g. /api`,
    );
  }
  for (const [other, line] of prefixLines) {
    if (other === prefix) {
      return reader.report(node, `prefix "${prefix}" is already used on line ${line}`);
    }
    if (prefixesOverlap(prefix, other)) {
      return reader.report(
        node,
        `prefix "${prefix}" overlaps prefix "${other}" on line ${line}: a path must have one upstream`,
      );
    }
  }
  prefixLines.set(prefix, reader.line(node));
  return prefix;
}

function readUpstreamUrl(reader: NodeReader, node: Node): string | undefined {
  const upstream = reader.nonEmptyString(node, "upstream");
  if (upstream === undefined) return undefined;
  // Not echoed: after ${NAME} substitution it may carry a secret.
  let url: URL;
  try {
    url = new URL(upstream);
  } catch {
    return reader.report(
      node,
      "upstream must be an absolute http: or https: URL, e.g. http://master-api:8080",
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return reader.report(node, `upstream must use http: or https:, not ${url.protocol}`);
  }
  if (url.username !== "" || url.password !== "") {
    return reader.report(
      node,
      "upstream must not carry credentials (user:password@): the proxy forwards the caller's own headers",
    );
  }
  if (url.search !== "" || url.hash !== "") {
    return reader.report(
      node,
      "upstream must not have a query or fragment: the caller's query string is forwarded as sent",
    );
  }
  return upstream;
}

function readRewritePrefix(reader: NodeReader, node: Node): string | undefined {
  const rewrite = reader.nonEmptyString(node, "rewritePrefix");
  if (rewrite === undefined) return undefined;
  const segments = rewrite.replace(/\/$/, "").slice(1).split("/");
  const plain =
    rewrite === "/" || segments.every((segment) => SEGMENT.test(segment) && !/^\.+$/.test(segment));
  if (!rewrite.startsWith("/") || !plain) {
    return reader.report(
      node,
      `rewritePrefix "${rewrite}" must be "/" or a plain path such as /v2: ${PLAIN_PATH}`,
    );
  }
  return rewrite;
}

function readGrpcRoutes(reader: NodeReader, node: Node): readonly GrpcProxyRoute[] {
  const routes: GrpcProxyRoute[] = [];
  const serviceLines = new Map<string, number>();
  const items = reader.list(
    node,
    "proxy grpc",
    '[{ services: ["acme.master.v1."], upstream: "master-api:50051" }]',
    { allowEmpty: true },
  );
  for (const item of items ?? []) {
    const route = readGrpcRoute(reader, item, serviceLines);
    if (route !== undefined) routes.push(route);
  }
  return Object.freeze(routes);
}

function readGrpcRoute(
  reader: NodeReader,
  item: Node,
  serviceLines: Map<string, number>,
): GrpcProxyRoute | undefined {
  const fields = reader.mapping(item, "a proxy grpc route", GRPC_ROUTE_KEYS);
  if (fields === undefined) return undefined;
  const before = reader.problemCount;

  const servicesNode = reader.required(fields, "services", item, "a proxy grpc route");
  const services = servicesNode && readServices(reader, servicesNode, serviceLines);

  const upstreamNode = reader.required(fields, "upstream", item, "a proxy grpc route");
  const upstream = upstreamNode && readHostPort(reader, upstreamNode);

  const tlsNode = fields.get("tls")?.value;
  const tls = tlsNode ? reader.boolean(tlsNode, "tls") : false;

  if (
    reader.problemCount > before ||
    services === undefined ||
    upstream === undefined ||
    tls === undefined
  ) {
    return undefined;
  }
  return Object.freeze({ services, upstream, tls });
}

function readServices(
  reader: NodeReader,
  node: Node,
  serviceLines: Map<string, number>,
): readonly string[] | undefined {
  const items = reader.list(node, "services", '["acme.master.v1."]');
  if (items === undefined) return undefined;
  const services: string[] = [];
  for (const item of items) {
    const prefix = reader.nonEmptyString(item, "a service prefix");
    if (prefix === undefined) continue;
    if (!SERVICE_PREFIX.test(prefix)) {
      reader.report(
        item,
        `service prefix "${prefix}" must be the start of a full method name such as acme.master.v1. or acme.master.v1.Users/Get (no leading "/")`,
      );
      continue;
    }
    const own = RESERVED_GRPC_SERVICES.find((service) => capturesService(prefix, service));
    if (own !== undefined) {
      reader.report(
        item,
        `service prefix "${prefix}" would take the methods of eventpipe's own service ${own}; name the master API's package, e.g. acme.master.v1.`,
      );
      continue;
    }
    const line = serviceLines.get(prefix);
    if (line !== undefined) {
      reader.report(item, `service prefix "${prefix}" is already listed on line ${line}`);
      continue;
    }
    serviceLines.set(prefix, reader.line(item));
    services.push(prefix);
  }
  return services.length === items.length ? Object.freeze(services) : undefined;
}

function readHostPort(reader: NodeReader, node: Node): string | undefined {
  const upstream = reader.nonEmptyString(node, "upstream");
  if (upstream === undefined) return undefined;
  const match = HOST_PORT.exec(upstream);
  const port = Number(match?.[2]);
  if (match === null || port < 1 || port > 65535) {
    return reader.report(
      node,
      `upstream "${upstream}" must be host:port with a port from 1 to 65535, e.g. master-api:50051`,
    );
  }
  return upstream;
}
