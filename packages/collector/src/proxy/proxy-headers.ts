// Headers across the HTTP proxy. Hop-by-hop headers describe one connection, so they end at
// this hop in both directions (RFC 9110 7.6.1): the fixed list, `proxy-*`, and any header the
// `connection` header names. The upstream learns who called through X-Forwarded-*. The
// caller's `authorization` header is the gateway's own bearer token whenever tokens are on
// (the access check demanded one), so it stays here: the master API never sees eventpipe's
// secrets. With tokens off, the header is the caller's own business and is forwarded.
import type { IncomingHttpHeaders } from "node:http";

const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  // The collector's HTTP server already answered `100 Continue`; undici refuses to send it.
  "expect",
]);

type Headers = IncomingHttpHeaders;

/** The parts of a fastify request the forwarded headers come from. */
export interface ProxiedRequest {
  readonly headers: Headers;
  /** "http" or "https": what this hop served. */
  readonly protocol: string;
  readonly socket: { readonly remoteAddress?: string | undefined };
}

/** A copy of `headers` (names in lower case, as node:http and undici give them) without the hop-by-hop ones. */
export function endToEndHeaders(headers: Headers): Headers {
  const connection = headers.connection;
  const named =
    connection === undefined
      ? undefined
      : new Set(
          String(connection)
            .toLowerCase()
            .split(",")
            .map((name) => name.trim()),
        );
  const kept: Headers = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || name.startsWith("proxy-") || named?.has(name)) continue;
    kept[name] = headers[name];
  }
  return kept;
}

/** What the proxy sends upstream in place of the caller's headers (`host` is the upstream's). */
export function upstreamRequestHeaders(
  request: ProxiedRequest,
  headers: Headers,
  stripAuthorization: boolean,
): Headers {
  const sent = endToEndHeaders(headers);
  if (stripAuthorization) delete sent.authorization;
  // The caller's address is appended to any chain it sent; host and protocol are what this
  // hop saw (the collector trusts no proxy in front of it).
  const callerIp = request.socket.remoteAddress;
  if (callerIp !== undefined) {
    const chain = request.headers["x-forwarded-for"];
    sent["x-forwarded-for"] = chain ? `${chain}, ${callerIp}` : callerIp;
  }
  if (request.headers.host !== undefined) sent["x-forwarded-host"] = request.headers.host;
  sent["x-forwarded-proto"] = request.protocol;
  return sent;
}
