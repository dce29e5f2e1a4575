// The gRPC proxy to the master API: calls to the collector's gRPC port whose full method name
// a `proxy.grpc` route of the pipeline file claims are forwarded to that route's upstream, as
// bytes, over one channel per upstream shared by every call.
//
// How methods are found, and why. grpc-js has no catch-all handler: it serves only paths
// registered one by one, and answers UNIMPLEMENTED for the rest. The ways around it:
// 1. Learn the upstream's methods through its reflection service and register a pass-through
//    handler for each. It needs the upstream to serve reflection (production servers often
//    do not), and knows nothing until discovery has succeeded: while the upstream is down at
//    start, or after it deployed a new method, callers get UNIMPLEMENTED, which clients treat
//    as final, instead of a retryable UNAVAILABLE.
// 2. Forward raw HTTP/2 streams. On the same port it means taking the HTTP/2 server away from
//    grpc-js (which owns it); on another port, clients need a second address, which is what
//    the gateway exists to avoid.
// 3. (chosen) Let grpc-js's per-call lookup fall back to one pass-through handler for every
//    path a route claims (grpc-handler-table.ts). Any method under a prefix is forwarded the
//    moment the upstream has it, nothing is learnt or refreshed, an upstream that is down
//    gives UNAVAILABLE per call from the first second, and no reflection is needed upstream.
//    The price: it swaps a private Map of grpc-js, so it is checked at start (a clear error,
//    never silent UNIMPLEMENTED) and by the tests. Since the method's kind is unknown, every
//    call is relayed as a bidirectional stream, which on the wire is the same (grpc-forward.ts).
// The collector's own services always win, and a route whose prefix would cover one of them
// is refused at start. The proxied services do not appear in the collector's reflection.

import type { GrpcProxyRoute } from "@eventpipe/pipeline";
import {
  Channel,
  credentials,
  type Server,
  type ServerDuplexStream,
  type StatusObject,
  status,
} from "@grpc/grpc-js";
import type { Logger } from "pino";
import { authenticate, type TokenEntry } from "../auth.js";
import { type ForwardTarget, forwardCall } from "./grpc-forward.js";
import { installCatchAll } from "./grpc-handler-table.js";
import { upstreamRequestMetadata } from "./grpc-metadata.js";

export class GrpcRouteConflictError extends Error {
  override readonly name = "GrpcRouteConflictError";
  readonly code = "EP_GRPC_PROXY_CONFLICT";
  constructor(prefix: string, ownPath: string) {
    super(
      `proxy.grpc service prefix "${prefix}" covers the collector's own method ${ownPath}: use a longer prefix, such as the upstream's package name ending in "."`,
    );
  }
}

export interface GrpcProxyOptions {
  readonly routes: readonly GrpcProxyRoute[];
  readonly tokens: readonly TokenEntry[];
  /** Largest message accepted from an upstream, as from callers (MAX_MESSAGE_BYTES). */
  readonly maxMessageBytes: number;
  /** Proxied calls served at once; more get RESOURCE_EXHAUSTED (MAX_CONCURRENT_STREAMS). */
  readonly maxConcurrentCalls: number;
  readonly logger: Logger;
  /** Aborted when the collector's shutdown grace period is over: calls still open end. */
  readonly shutdown: AbortSignal;
}

export interface GrpcProxy {
  /** Answers the routes' methods on `server`; throws GrpcRouteConflictError on a shadowing route. */
  install(server: Server): void;
  /** Proxied calls in flight. */
  readonly activeCalls: number;
  /**
   * Refuses new calls, waits for the ones in flight to end (they do once `shutdown` is
   * aborted), closes the upstream channels. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Whether a service prefix of the pipeline file takes a method path: "/acme.v1.Master/Get"
 * is taken by a prefix of "acme.v1.Master/Get" (such as "acme.v1." or "acme.v1.Master/") or of
 * "acme.v1.Master." (so "acme.v1.Master." names that service and no other).
 */
function prefixClaims(prefix: string, path: string): boolean {
  const match = /^\/([^/]+)\/([^/]+)$/.exec(path);
  if (match === null) return false;
  return `${match[1]}/${match[2]}`.startsWith(prefix) || `${match[1]}.`.startsWith(prefix);
}

const claimedBy = (route: GrpcProxyRoute, path: string) =>
  route.services.some((prefix) => prefixClaims(prefix, path));

const CHANNEL_OPTIONS = {
  // A gateway should notice a restarted upstream within seconds, not grpc-js's 2 minutes.
  "grpc.initial_reconnect_backoff_ms": 500,
  "grpc.max_reconnect_backoff_ms": 5000,
  // Per-call bookkeeping nobody reads: the collector serves no channelz.
  "grpc.enable_channelz": 0,
};

export function createGrpcProxy(options: GrpcProxyOptions): GrpcProxy {
  const { routes, tokens, logger } = options;
  const targets = new Map<string, ForwardTarget>();
  const routeTargets = routes.map((route) => {
    const key = `${route.tls ? "tls" : "plain"}:${route.upstream}`;
    let target = targets.get(key);
    if (target === undefined) {
      const channel = new Channel(
        route.upstream,
        route.tls ? credentials.createSsl() : credentials.createInsecure(),
        { ...CHANNEL_OPTIONS, "grpc.max_receive_message_length": options.maxMessageBytes },
      );
      target = { channel, upstream: route.upstream };
      targets.set(key, target);
    }
    return { route, target };
  });
  const active = new Set<Promise<StatusObject>>();
  let closing: Promise<void> | undefined;

  const targetFor = (path: string) =>
    routeTargets.find(({ route }) => claimedBy(route, path))?.target;

  function refuse(call: ServerDuplexStream<Buffer, Buffer>, code: status, details: string): void {
    call.emit("error", { code, details });
  }

  function handle(call: ServerDuplexStream<Buffer, Buffer>): void {
    const path = call.getPath();
    const target = targetFor(path);
    if (target === undefined) {
      refuse(call, status.UNIMPLEMENTED, `no route for ${path}`);
      return;
    }
    const auth = authenticate(tokens, call.metadata, path.slice(1), "proxy");
    if (!auth.ok) {
      logger.warn({ method: path, code: status[auth.code] }, "proxied call refused");
      refuse(call, auth.code, auth.details);
      return;
    }
    if (closing !== undefined) {
      refuse(call, status.UNAVAILABLE, "the collector is shutting down; retry the call");
      return;
    }
    if (active.size >= options.maxConcurrentCalls) {
      refuse(
        call,
        status.RESOURCE_EXHAUSTED,
        `the collector proxies at most ${options.maxConcurrentCalls} calls at once (MAX_CONCURRENT_STREAMS); retry later`,
      );
      return;
    }
    const metadata = upstreamRequestMetadata(call.metadata, {
      dropAuthorization: tokens.length > 0,
      peer: call.getPeer(),
    });
    const forwarding = forwardCall(call, target, metadata, {
      log: logger,
      shutdown: options.shutdown,
    });
    active.add(forwarding);
    // Per-call lines only at debug: a busy gateway proxies thousands of calls a second.
    const started = logger.isLevelEnabled("debug") ? performance.now() : undefined;
    void forwarding.then((relayed) => {
      active.delete(forwarding);
      if (started === undefined) return;
      const ms = Math.round(performance.now() - started);
      logger.debug(
        { method: path, client: auth.name, code: status[relayed.code], ms },
        "proxied call done",
      );
    });
  }

  return {
    install(server) {
      if (routes.length === 0) return;
      const own = installCatchAll(server, (path) => targetFor(path) !== undefined, handle);
      for (const prefix of routes.flatMap((route) => route.services)) {
        const shadowed = own.find((path) => prefixClaims(prefix, path));
        if (shadowed === undefined) continue;
        for (const { channel } of targets.values()) channel.close();
        throw new GrpcRouteConflictError(prefix, shadowed);
      }
      logger.info(
        { routes: routes.map((r) => ({ services: r.services, upstream: r.upstream, tls: r.tls })) },
        "grpc proxy routes",
      );
    },
    get activeCalls() {
      return active.size;
    },
    close() {
      closing ??= (async () => {
        await Promise.allSettled([...active]);
        for (const { channel } of targets.values()) channel.close();
      })();
      return closing;
    },
  };
}
