// The proxy never shadows eventpipe's own routes. The pipeline file already refuses prefixes
// over the namespaces it knows (`/v1`, `/healthz`, `/readyz`) with their line; this checks the
// routes the HTTP door really registered, once they all are, so a route added to the door later
// (or a Pipeline built in code) cannot be taken over silently: the collector refuses to start.
//
// Parametric routes are compared by their static head: `/v1/schemas/:type` reserves
// `/v1/schemas`. The sample flow's routes start with a parameter (`/:client/...`) and have no
// head: a proxy prefix `/api` takes `/api/list_events` from them (the router prefers static
// segments), which the README documents as "a proxy prefix's first segment is not a client name".
import { type Pipeline, PipelineError, prefixesOverlap } from "@eventpipe/pipeline";
import type { FastifyInstance } from "fastify";

export interface OwnRoute {
  readonly method: string;
  readonly url: string;
}

/** Records every route registered on `app` from now on (call it before registering any). */
export function recordRoutes(app: FastifyInstance): readonly OwnRoute[] {
  const routes: OwnRoute[] = [];
  app.addHook("onRoute", (route) => {
    // The proxy's own routes are not the door's.
    if (route.config?.access === "proxy") return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) routes.push({ method, url: route.url });
  });
  return routes;
}

/** The path before the first parametric or wildcard segment, without a trailing slash. */
function staticHead(url: string): string {
  const segments = url.split("/");
  const firstDynamic = segments.findIndex((s) => s.includes(":") || s.includes("*"));
  const head = (firstDynamic < 0 ? segments : segments.slice(0, firstDynamic)).join("/");
  return head.replace(/\/+$/, "");
}

/** Throws a PipelineError naming each proxy prefix that overlaps one of `routes`. */
export function checkProxyPrefixes(pipeline: Pipeline, routes: readonly OwnRoute[]): void {
  const problems: string[] = [];
  const source = pipeline.source ?? "the pipeline";
  for (const { prefix } of pipeline.proxy.http) {
    const taken = routes.find((route) => {
      const head = staticHead(route.url);
      return head !== "" && prefixesOverlap(prefix, head);
    });
    if (taken !== undefined) {
      problems.push(
        `${source}: proxy prefix "${prefix}" overlaps the collector's own route ${taken.method} ${taken.url}; pick another prefix, e.g. /api`,
      );
    }
  }
  if (problems.length > 0) throw new PipelineError(problems);
}
