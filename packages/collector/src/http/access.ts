// Who may call a route, declared in the route's config (`config: { access: "ingest" }`) and
// checked by one onRequest hook for every route, before the body is read: a client without a
// valid token gets its 401 without making the collector read (or parse) what it sent.
//
// open    : anyone (health probes).
// read    : any valid token when tokens are configured (reading the schema registry).
// ingest  : tokens allowed the `ingest` scope or the route's name ("POST /v1/events").
// schemas : tokens allowed the `schemas` scope or the route's name.
// proxy   : tokens allowed the `proxy` scope or the route's name (calls forwarded to the master API).
// admin   : tokens allowed the `admin` scope or the route's name (the dashboard's data and actions).
import type { FastifyInstance, FastifyRequest } from "fastify";
import { authorize, type TokenEntry } from "../auth.js";
import { HttpError } from "./errors.js";

export type Access = "open" | "read" | "ingest" | "schemas" | "proxy" | "admin";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Who may call the route; with tokens configured, routes without it are refused. */
    access?: Access;
  }
}

function check(tokens: readonly TokenEntry[], request: FastifyRequest): void {
  const access = request.routeOptions.config.access;
  if (access === "open") return;
  if (access === undefined) {
    // The 404 handler has no access: let it answer 404.
    if (request.is404) return;
    throw new HttpError(403, "EP_HTTP_FORBIDDEN", "this route declares no access rule");
  }
  const name = `${request.method} ${request.routeOptions.url ?? request.url}`;
  const outcome = authorize(tokens, request.headers.authorization, {
    name,
    // Reading takes any valid token: a token limited to a scope is still a valid token.
    scope: access === "read" ? "schemas" : access,
  });
  if (outcome.ok || (access === "read" && outcome.problem === "forbidden")) return;
  if (outcome.problem === "unauthenticated") {
    throw new HttpError(
      401,
      "EP_HTTP_UNAUTHENTICATED",
      outcome.details,
      {},
      { "www-authenticate": 'Bearer realm="eventpipe"' },
    );
  }
  throw new HttpError(403, "EP_HTTP_FORBIDDEN", outcome.details);
}

/** Adds the access check to `app` and every plugin registered on it afterwards. */
export function addAccessCheck(app: FastifyInstance, tokens: readonly TokenEntry[]): void {
  if (tokens.length === 0) return;
  app.addHook("onRequest", async (request: FastifyRequest) => check(tokens, request));
}
