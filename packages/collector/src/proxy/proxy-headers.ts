// Headers across the HTTP proxy, as flat [name, value, name, value...] lists: node:http gives
// them so (rawHeaders) and takes them so, which spares an object per message each way.
// Hop-by-hop headers describe one connection, so they end at this hop in both directions
// (RFC 9110 7.6.1): the fixed list, `proxy-*`, and any header the `connection` header names.
// The upstream learns who called through X-Forwarded-*. The caller's `authorization` header is
// the gateway's own bearer token whenever tokens are on (the access check demanded one), so it
// stays here: the master API never sees eventpipe's secrets. With tokens off, the header is the
// caller's own business and is forwarded.
import type { IncomingMessage } from "node:http";

const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "http2-settings",
  // The collector's HTTP server already answered `100 Continue`.
  "expect",
]);

/** What the proxy puts in place of the caller's own request headers. */
const REPLACED_ON_REQUEST: ReadonlySet<string> = new Set([
  "host",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
]);

/** The header names a `connection` header lists (lower case), or undefined without one. */
function namedByConnection(connection: string | undefined): ReadonlySet<string> | undefined {
  // Nearly every message says just this: it names no header (`keep-alive` is dropped anyway).
  if (connection === undefined || /^\s*(keep-alive|close)\s*$/i.test(connection)) return undefined;
  return new Set(connection.split(",").map((name) => name.trim().toLowerCase()));
}

function isHopByHop(name: string, named: ReadonlySet<string> | undefined): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith("proxy-") || named?.has(name) === true;
}

/** What stays the same for every request of one route. */
export interface RequestHeaderRules {
  /** The upstream's `host` header (its host and port). */
  readonly host: string;
  /** True when tokens are on: the caller's `authorization` is the gateway's. */
  readonly stripAuthorization: boolean;
}

/**
 * The headers sent upstream: the caller's end-to-end ones in their order, then `host` and
 * X-Forwarded-*. A streamed body without a length keeps its chunked framing.
 */
export function upstreamRequestHeaders(
  request: IncomingMessage,
  protocol: string,
  rules: RequestHeaderRules,
): string[] {
  const { headers, rawHeaders } = request;
  const named = namedByConnection(headers.connection);
  const sent: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (isHopByHop(name, named) || REPLACED_ON_REQUEST.has(name)) continue;
    if (rules.stripAuthorization && name === "authorization") continue;
    sent.push(name, rawHeaders[i + 1]!);
  }
  if (headers["transfer-encoding"] !== undefined && headers["content-length"] === undefined) {
    sent.push("transfer-encoding", "chunked");
  }
  sent.push("host", rules.host);
  // The caller's address is appended to any chain it sent; host and protocol are what this
  // hop saw (the collector trusts no proxy in front of it).
  const callerIp = request.socket.remoteAddress;
  if (callerIp !== undefined) {
    const chain = headers["x-forwarded-for"];
    sent.push("x-forwarded-for", chain ? `${chain}, ${callerIp}` : callerIp);
  }
  if (headers.host !== undefined) sent.push("x-forwarded-host", headers.host);
  sent.push("x-forwarded-proto", protocol);
  return sent;
}

/** What stays the same for every answer of one route. */
export interface ResponseHeaderRules {
  /** The upstream path the route's prefix stands for ("" for the upstream's root). */
  readonly upstreamBase: string;
  /** The route's prefix, which takes upstreamBase's place in a Location. */
  readonly prefix: string;
}

/**
 * The answer's end-to-end headers for the caller, a Location on the upstream's own paths moved
 * under the prefix, and `connection: close` once the collector is shutting down.
 */
export function downstreamHeaders(
  rawHeaders: readonly string[],
  connection: string | undefined,
  rules: ResponseHeaderRules,
  closing: boolean,
): string[] {
  const named = namedByConnection(connection);
  const kept: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (isHopByHop(name, named)) continue;
    const value = rawHeaders[i + 1]!;
    kept.push(name, name === "location" ? localLocation(value, rules) : value);
  }
  if (closing) kept.push("connection", "close");
  return kept;
}

/** `/created/7` from an upstream at the root becomes `/api/created/7`; other URLs stay. */
function localLocation(location: string, { upstreamBase, prefix }: ResponseHeaderRules): string {
  // Absolute and protocol-relative URLs point elsewhere; relative ones resolve by themselves.
  if (!location.startsWith("/") || location.startsWith("//")) return location;
  if (upstreamBase === "") return `${prefix}${location}`;
  if (!location.startsWith(upstreamBase)) return location;
  const rest = location.slice(upstreamBase.length);
  if (rest === "" || rest[0] === "/" || rest[0] === "?" || rest[0] === "#") {
    return `${prefix}${rest}`;
  }
  return location;
}
