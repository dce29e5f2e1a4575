// The HTTP half of the gateway to the master API: every request under a `proxy.http` prefix of
// the pipeline file is forwarded to its upstream by @fastify/http-proxy (@fastify/reply-from
// over an undici keep-alive pool), bodies streamed both ways, and the answer relayed as it
// comes: status, headers (hop-by-hop ones dropped, proxy-headers.ts) and body. It runs inside
// the HTTP door, so the door's hooks apply: the request counts as in flight for the shutdown
// grace, and the access check wants a token with the `proxy` scope.
//
// Bodies are never read by the collector: each route lives in its own plugin without the
// door's JSON parsers, where @fastify/http-proxy's pass-through parsers hand the request
// stream to undici, so MAX_MESSAGE_BYTES (a limit of parsed bodies) does not apply. Nothing is
// retried: a request may not be safe to send twice, and the caller decides.

import type { HttpProxyRoute } from "@eventpipe/pipeline";
import fastifyHttpProxy, { type FastifyHttpProxyOptions } from "@fastify/http-proxy";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { CollectorConfig } from "../config.js";
import { HttpError } from "../http/errors.js";
import { checkProxyPrefixes, type OwnRoute } from "./own-routes.js";
import { endToEndHeaders, type ProxiedRequest, upstreamRequestHeaders } from "./proxy-headers.js";
import { upstreamErrorCode, upstreamFailure } from "./upstream-errors.js";

export interface HttpProxyDependencies {
  readonly config: CollectorConfig;
  readonly logger: Logger;
  /** The door's own routes (recordRoutes), checked against the prefixes once all are in. */
  readonly ownRoutes: readonly OwnRoute[];
}

/** Connections kept open to each upstream; requests past them wait for a free one. */
const UPSTREAM_CONNECTIONS = 128;
/** undici's own default; a shorter route timeout bounds connecting too. */
const MAX_CONNECT_TIMEOUT_MS = 10_000;

/** The route's upstream split into origin and base path, the base path put before rewritePrefix. */
function target(route: HttpProxyRoute): { origin: string; rewritePrefix: string } {
  const url = new URL(route.upstream);
  const base = url.pathname.replace(/\/+$/, "");
  return { origin: url.origin, rewritePrefix: `${base}${route.rewritePrefix}` };
}

function proxyRoute(
  route: HttpProxyRoute,
  { config, logger }: Pick<HttpProxyDependencies, "config" | "logger">,
) {
  const { origin, rewritePrefix } = target(route);
  const log = logger.child({ proxy: route.prefix });
  const stripAuthorization = config.tokens.length > 0;
  return async (app: FastifyInstance) => {
    // The door's JSON parsers stay out: @fastify/http-proxy adds its pass-through ones here.
    app.removeAllContentTypeParsers();
    // A request path the library refuses (one that climbs out of rewritePrefix with "..")
    // is the caller's mistake; a caller that hung up before the answer is no server error.
    // Everything else goes on to the door's error handler.
    app.setErrorHandler((error, request) => {
      const { statusCode, code } = error as { statusCode?: unknown; code?: unknown };
      if (statusCode === 400 && code === undefined) throw upstreamPathRefused(route.prefix);
      if (code === "UND_ERR_ABORTED" || request.raw.socket.destroyed) throw clientClosed();
      throw error;
    });
    await app.register(fastifyHttpProxy, {
      upstream: origin,
      prefix: route.prefix,
      rewritePrefix,
      config: { access: "proxy" },
      disableRequestLogging: true,
      undici: upstreamPool(route.timeoutMs),
      replyOptions: {
        // undici's headers timeout (refreshed while the request body is still being sent)
        // and body timeout (each wait within the answer's body).
        timeout: route.timeoutMs,
        retryDelay: () => null,
        rewriteRequestHeaders: (request, headers) =>
          upstreamRequestHeaders(request as ProxiedRequest, headers as never, stripAuthorization),
        rewriteHeaders: (headers) => endToEndHeaders(headers as never),
        onError: (reply, { error }) => {
          const code = upstreamErrorCode(error);
          const failure = upstreamFailure(code, route.timeoutMs);
          log.warn(
            { status: failure.statusCode, code, err: error.message, upstream: origin },
            "proxied request failed",
          );
          void reply.send(failure);
        },
      },
    });
  };
}

/** The keep-alive pool's settings, as reply-from reads them. */
function upstreamPool(timeoutMs: number): FastifyHttpProxyOptions["undici"] {
  const options = {
    connections: UPSTREAM_CONNECTIONS,
    pipelining: 1,
    connectTimeout: Math.min(timeoutMs, MAX_CONNECT_TIMEOUT_MS),
    // reply-from turns certificate checks off unless `tls` says otherwise; undici's own types
    // no longer list the option reply-from reads.
    tls: { rejectUnauthorized: true },
  };
  return options as unknown as FastifyHttpProxyOptions["undici"];
}

function upstreamPathRefused(prefix: string): HttpError {
  return new HttpError(
    400,
    "EP_PROXY_BAD_PATH",
    `the path under ${prefix} would leave the proxied API (".." segments and absolute URLs are refused)`,
  );
}

function clientClosed(): HttpError {
  // Never seen by the caller: only the log line (debug) says what happened.
  return new HttpError(499, "EP_HTTP_CLIENT_CLOSED", "the caller closed the connection first");
}

/** Every `proxy.http` route of the pipeline, after a check that none overlaps an own route. */
export function httpProxy(dependencies: HttpProxyDependencies) {
  const { config, ownRoutes } = dependencies;
  return async (app: FastifyInstance) => {
    const routes = config.pipeline.proxy.http;
    if (routes.length === 0) return;
    // Now, for the routes registered before this plugin (before the router would refuse a
    // duplicate with its own words), and once all are in, for any registered after it.
    checkProxyPrefixes(config.pipeline, ownRoutes);
    app.addHook("onReady", async () => checkProxyPrefixes(config.pipeline, ownRoutes));
    for (const route of routes) await app.register(proxyRoute(route, dependencies));
  };
}
