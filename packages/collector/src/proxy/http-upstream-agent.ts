// The keep-alive connections to one HTTP proxy upstream: a node:http(s) Agent of up to 128
// sockets per upstream (requests past them wait for a free one), certificates verified.
//
// An idle socket is kept for 4 s, or 1 s less than the upstream's `Keep-Alive: timeout=` hint
// when that is shorter (node's Agent does the hint part once it has a timeout of its own):
// a request sent on a socket the upstream is closing at that moment would fail with a reset,
// and the proxy never retries. While a request runs, its socket's idle timeout is the route's
// timeoutMs instead (set per request by the caller, http-forward.ts).
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";

/** Connections kept open to each upstream; requests past them wait for a free one. */
const UPSTREAM_CONNECTIONS = 128;
/** How long an unused connection is kept (undici's default keep-alive timeout). */
const IDLE_SOCKET_MS = 4_000;

export function upstreamAgent(url: URL): HttpAgent {
  const options = {
    keepAlive: true,
    maxSockets: UPSTREAM_CONNECTIONS,
    timeout: IDLE_SOCKET_MS,
    // The most recently used socket first: the others time out and close when load drops.
    scheduling: "lifo" as const,
  };
  return url.protocol === "https:"
    ? new HttpsAgent({ ...options, rejectUnauthorized: true })
    : new HttpAgent(options);
}
