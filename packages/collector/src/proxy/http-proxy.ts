// The HTTP half of the gateway to the master API: every request under a `proxy.http` prefix of
// the pipeline file is forwarded to its upstream (http-forward.ts, over a keep-alive agent per
// upstream, http-upstream-agent.ts), bodies streamed both ways, and the answer relayed as it
// comes: status, headers (hop-by-hop ones dropped, proxy-headers.ts) and body. It runs inside
// the HTTP door, so the door's hooks apply: the request counts as in flight for the shutdown
// grace, and the access check wants a token with the `proxy` scope.
//
// Bodies are never read by the collector: each route lives in its own plugin without the
// door's JSON parsers, where a pass-through parser leaves the request stream to the forwarder,
// so MAX_MESSAGE_BYTES (a limit of parsed bodies) does not apply. Nothing is retried: a request
// may not be safe to send twice, and the caller decides.
//
// The forwarder answers on the raw response (fastify's reply is hijacked), so the door's onSend
// hook does not see proxied answers; the `connection: close` it adds during shutdown is added
// here, from this plugin's preClose hook, which runs as soon as the door starts closing.

import type { HttpProxyRoute } from "@eventpipe/pipeline";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { CollectorConfig } from "../config.js";
import { forwarder } from "./http-forward.js";
import { upstreamAgent } from "./http-upstream-agent.js";
import { checkProxyPrefixes, type OwnRoute } from "./own-routes.js";

export interface HttpProxyDependencies {
  readonly config: CollectorConfig;
  readonly logger: Logger;
  /** The door's own routes (recordRoutes), checked against the prefixes once all are in. */
  readonly ownRoutes: readonly OwnRoute[];
}

/** The upstream path the prefix stands for: the upstream's base path, then rewritePrefix. */
function upstreamBase(upstream: URL, rewritePrefix: string): string {
  const base = upstream.pathname.replace(/\/+$/, "");
  return `${base}${rewritePrefix.replace(/\/+$/, "")}`;
}

function proxyRoute(
  route: HttpProxyRoute,
  { config, logger }: Pick<HttpProxyDependencies, "config" | "logger">,
) {
  const upstream = new URL(route.upstream);
  return async (app: FastifyInstance) => {
    const agent = upstreamAgent(upstream);
    let closing = false;
    app.addHook("preClose", (done) => {
      closing = true;
      done();
    });
    // onClose hooks run once the server has closed, so no proxied exchange is cut here.
    app.addHook("onClose", (_instance, done) => {
      agent.destroy();
      done();
    });
    // The door's JSON parsers stay out: any body is left unread for the forwarder.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("*", (_request, _payload, done) => done(null));
    const handler = forwarder({
      prefix: route.prefix,
      upstream,
      upstreamBase: upstreamBase(upstream, route.rewritePrefix),
      host: upstream.host,
      stripAuthorization: config.tokens.length > 0,
      agent,
      timeoutMs: route.timeoutMs,
      log: logger.child({ proxy: route.prefix }),
      closing: () => closing,
    });
    const options = { config: { access: "proxy" as const } };
    app.all(route.prefix, options, handler);
    app.all(`${route.prefix}/*`, options, handler);
  };
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
