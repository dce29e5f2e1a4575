// The web dashboard at /ui: one page, its script and its style, served by the collector
// itself (no build step, no CDN), and the JSON API under /ui/api (api-routes.ts).
//
// The page and its assets are open: they hold no data. A browser cannot send a bearer header
// when it loads a page, so the page asks for the token, keeps it in sessionStorage (gone when
// the tab closes) and sends it on every API call, where the `admin` scope is checked.
// The Content-Security-Policy allows scripts and styles from this origin only and nothing
// inline, so even a payload that slipped past the page's text-only rendering could not run.
import type { FastifyInstance, FastifyReply } from "fastify";
import type { DoorContext } from "../context.js";
import { createAdminRedis } from "./admin-redis.js";
import { dashboardApi } from "./api-routes.js";
import { PAGE_HTML } from "./page-html.js";
import { PAGE_SCRIPT } from "./page-script.js";
import { PAGE_STYLE } from "./page-style.js";

const open = { config: { access: "open" as const } };

const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

function asset(reply: FastifyReply, contentType: string, body: string) {
  return reply
    .header("content-type", contentType)
    .header("cache-control", "no-cache")
    .header("x-content-type-options", "nosniff")
    .header("referrer-policy", "no-referrer")
    .header("content-security-policy", CONTENT_SECURITY_POLICY)
    .send(body);
}

export function dashboardRoutes(context: DoorContext) {
  return async (app: FastifyInstance) => {
    const redis = createAdminRedis(context.config.redis, app.log);
    app.addHook("onClose", (_instance, done) => {
      redis.close();
      done();
    });

    app.get("/ui", open, (_request, reply) => asset(reply, "text/html; charset=utf-8", PAGE_HTML));
    app.get("/ui/", open, (_request, reply) => reply.redirect("/ui"));
    app.get("/ui/app.js", open, (_request, reply) =>
      asset(reply, "text/javascript; charset=utf-8", PAGE_SCRIPT),
    );
    app.get("/ui/app.css", open, (_request, reply) =>
      asset(reply, "text/css; charset=utf-8", PAGE_STYLE),
    );

    await app.register(dashboardApi(context, redis));
  };
}
