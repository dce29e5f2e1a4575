// The `proxy:` section: the collector as the front door to a backing "master API". HTTP routes
// forward every path under a prefix; gRPC routes forward every method whose full name starts
// with one of their service prefixes. A prefix that would take one of eventpipe's own paths or
// services is refused here, with its line; the collector checks its real routes again at start
// (routes added to it later are covered there).
import type { Node } from "yaml";
import type { NodeReader } from "./node-reader.js";
import { readGrpcRoutes } from "./parse-proxy-grpc.js";
import {
  type HttpProxyRoute,
  NO_PROXY,
  PROXY_DEFAULTS,
  type ProxySettings,
} from "./proxy-types.js";
import { PIPELINE_DEFAULTS } from "./types.js";

const PROXY_KEYS = ["http", "grpc"] as const;
const HTTP_ROUTE_KEYS = ["prefix", "upstream", "rewritePrefix", "timeoutMs"] as const;

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

/** Two path prefixes overlap when one equals the other or lies under it ("/a" and "/a/b"). */
export function prefixesOverlap(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

// Plain path segments only: find-my-way gives `*` and `:` meanings, `%` would make the
// prefix compare differently from the decoded path the router matches.
const SEGMENT = /^[A-Za-z0-9._~-]+$/;
const PLAIN_PATH = "segments of letters, digits and - . _ ~ (no wildcards, :params or %-escapes)";

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
