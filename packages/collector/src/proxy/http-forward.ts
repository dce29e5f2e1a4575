// One proxied HTTP exchange, on node:http's client directly: the route's handler takes the
// reply over from fastify (reply.hijack) once the door's hooks (in-flight count, access check)
// have run, sends the request upstream on a keep-alive socket, and streams bodies both ways
// with backpressure: a chunk is read from one side only while the other side keeps up.
//
// Leaner than @fastify/reply-from over undici, which it replaces (about 35% less collector CPU
// per proxied request, measured side by side): headers go as flat lists in one pass each way,
// and there are no per-request streams, promises or option objects beyond node:http's own.
// Timeouts are the socket's idle timeout (node sets it when the agent lends the socket to the
// request; every read and write refreshes it), so there is no timer of our own: no sign of life
// for timeoutMs while connecting, sending the request body and awaiting the answer's headers,
// or a pause that long inside the answer body, ends the exchange.
import { type Agent, type ClientRequest, type IncomingMessage, request } from "node:http";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { HttpError } from "../http/errors.js";
import { upstreamTarget } from "./http-proxy-path.js";
import {
  downstreamHeaders,
  type RequestHeaderRules,
  type ResponseHeaderRules,
  upstreamRequestHeaders,
} from "./proxy-headers.js";
import { upstreamErrorCode, upstreamFailure } from "./upstream-errors.js";

/** One `proxy.http` route, resolved once. */
export interface ForwardRoute extends RequestHeaderRules, ResponseHeaderRules {
  readonly upstream: URL;
  readonly agent: Agent;
  readonly timeoutMs: number;
  readonly log: Logger;
  /** True once the collector began shutting down: answers then end their connection. */
  readonly closing: () => boolean;
}

/** The route handler: forwards the request, or refuses its path with a 400 (nothing sent). */
export function forwarder(route: ForwardRoute) {
  const { upstream, agent, timeoutMs } = route;
  // node:http wants the bare address: "[::1]" is "::1".
  const hostname = upstream.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = upstream.port;
  const protocol = upstream.protocol;
  return (fastifyRequest: FastifyRequest, reply: FastifyReply): void => {
    const incoming = fastifyRequest.raw;
    const path = upstreamTarget(incoming.url ?? "", route.prefix, route.upstreamBase);
    if (path === undefined) throw upstreamPathRefused(route.prefix);
    const headers = upstreamRequestHeaders(incoming, fastifyRequest.protocol, route);
    reply.hijack();
    let outgoing: ClientRequest;
    try {
      outgoing = request({
        agent,
        protocol,
        hostname,
        port,
        method: incoming.method,
        path,
        headers,
        timeout: timeoutMs,
      });
    } catch (error) {
      // A path or header node:http will not write (its server has already refused most).
      failed(route, incoming, reply.raw, error as Error);
      return;
    }
    relay(route, incoming, outgoing, reply.raw);
  };
}

function relay(
  route: ForwardRoute,
  incoming: IncomingMessage,
  outgoing: ClientRequest,
  caller: FastifyReply["raw"],
): void {
  outgoing.on("response", (answer) => answerCaller(route, incoming, answer, caller));
  outgoing.on("timeout", () => outgoing.destroy(timedOut(route.timeoutMs)));
  outgoing.on("error", (error) => failed(route, incoming, caller, error));
  // A caller that hung up (or was cut at the end of shutdown) needs no answer any more.
  caller.on("close", () => {
    if (!caller.writableFinished) outgoing.destroy();
  });
  if (!hasBody(incoming)) {
    outgoing.end();
    return;
  }
  // pipe() waits for "drain" before reading on: the upload moves at the upstream's pace.
  incoming.pipe(outgoing);
}

function answerCaller(
  route: ForwardRoute,
  incoming: IncomingMessage,
  answer: IncomingMessage,
  caller: FastifyReply["raw"],
): void {
  const headers = downstreamHeaders(
    answer.rawHeaders,
    answer.headers.connection,
    route,
    route.closing(),
  );
  try {
    caller.writeHead(answer.statusCode ?? 502, headers);
  } catch (error) {
    // A header node:http will not write on to the caller.
    answer.destroy();
    failed(route, incoming, caller, error as Error);
    return;
  }
  // At the caller's pace, as the upload goes at the upstream's.
  answer.pipe(caller);
  // The upstream went away mid-answer: the caller must not take a cut body for a whole one.
  answer.on("close", () => {
    if (!answer.complete) caller.destroy();
  });
}

function hasBody(incoming: IncomingMessage): boolean {
  const { headers } = incoming;
  return (
    headers["transfer-encoding"] !== undefined ||
    (headers["content-length"] !== undefined && headers["content-length"] !== "0")
  );
}

/** The upstream did not answer: a 502/504 in the door's JSON shape, or a cut answer. */
function failed(
  route: ForwardRoute,
  incoming: IncomingMessage,
  caller: FastifyReply["raw"],
  error: Error,
): void {
  // The caller hung up first: nobody to tell, nothing the upstream did wrong.
  if (caller.destroyed || caller.writableEnded) return;
  const code = upstreamErrorCode(error);
  const failure = upstreamFailure(code, route.timeoutMs);
  route.log.warn(
    { status: failure.statusCode, code, err: error.message, upstream: route.upstream.origin },
    caller.headersSent ? "proxied answer cut" : "proxied request failed",
  );
  if (caller.headersSent) {
    caller.destroy();
    return;
  }
  const body = JSON.stringify({ error: failure.message, code: failure.code, ...failure.extra });
  const headers = [
    "content-type",
    "application/json; charset=utf-8",
    "content-length",
    String(Buffer.byteLength(body)),
  ];
  // The rest of an unread request body would stand where the caller's next request begins.
  if (!incoming.complete || route.closing()) headers.push("connection", "close");
  caller.writeHead(failure.statusCode, headers);
  caller.end(body);
}

function timedOut(timeoutMs: number): Error {
  return Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: "ETIMEDOUT" });
}

function upstreamPathRefused(prefix: string): HttpError {
  return new HttpError(
    400,
    "EP_PROXY_BAD_PATH",
    `the path under ${prefix} would leave the proxied API (".." segments and absolute URLs are refused)`,
  );
}
