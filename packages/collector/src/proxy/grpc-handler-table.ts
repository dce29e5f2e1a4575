// A catch-all for the gRPC server: method paths no service of the collector registered, and
// that a proxy route claims, are answered by one pass-through handler.
//
// grpc-js looks every incoming call up by its exact path in the server's handler table (a Map,
// `Server.handlers`, read by `Server._retrieveHandler` once per call) and answers UNIMPLEMENTED
// when it finds nothing; it has no public hook for "any other method". This file swaps that
// Map for a subclass whose `get` falls back to the proxy for the paths a route claims, so:
// - the collector's own services always win (they are found first);
// - every other path keeps grpc-js's UNIMPLEMENTED;
// - nothing is registered per method: no list of upstream methods to learn or keep fresh.
// The table is a private field of grpc-js. installCatchAll checks its shape and then proves
// the hook through grpc-js's own lookup, and throws GrpcProxyUnsupportedError at start if a
// future grpc-js version changed either, rather than letting proxied calls silently become
// UNIMPLEMENTED. test/grpc-proxy.test.ts exercises it against the installed grpc-js.
import type { Server, ServerDuplexStream } from "@grpc/grpc-js";

/** The record grpc-js keeps per registered method (server.ts `UntypedHandler`). */
export interface HandlerRecord {
  readonly func: (call: ServerDuplexStream<Buffer, Buffer>) => void;
  readonly serialize: (message: Buffer) => Buffer;
  readonly deserialize: (bytes: Buffer) => Buffer;
  readonly type: "bidi";
  readonly path: string;
}

export class GrpcProxyUnsupportedError extends Error {
  override readonly name = "GrpcProxyUnsupportedError";
  readonly code = "EP_GRPC_PROXY_UNSUPPORTED";
  constructor(reason: string) {
    super(
      `the gRPC proxy cannot hook into this @grpc/grpc-js version (${reason}); it is built and tested for @grpc/grpc-js 1.14: pin that version, or remove proxy.grpc from the pipeline file`,
    );
  }
}

/** Payloads cross the proxy as the bytes they arrived as. */
const identity = (bytes: Buffer): Buffer => bytes;

/** Bytes on the wire look the same for the four kinds of call; see grpc-forward.ts. */
function passThrough(path: string, func: HandlerRecord["func"]): HandlerRecord {
  return { func, serialize: identity, deserialize: identity, type: "bidi", path };
}

class ProxyingHandlers extends Map<string, unknown> {
  /** A path answered once, to prove grpc-js's lookup goes through this table. */
  probe: string | undefined;

  constructor(
    entries: Iterable<readonly [string, unknown]>,
    private readonly claims: (path: string) => boolean,
    private readonly func: HandlerRecord["func"],
  ) {
    super(entries);
  }

  override get(path: string): unknown {
    const own = super.get(path);
    if (own !== undefined || (path !== this.probe && !this.claims(path))) return own;
    // A fresh record per call: caching one per path would let callers grow a map without bound.
    return passThrough(path, this.func);
  }
}

interface ServerInternals {
  handlers?: unknown;
  _retrieveHandler?: (path: string) => unknown;
}

/**
 * Makes `server` answer every path `claims` accepts, and no registered service owns, with
 * `func`. Call it once per server, before or after addService and bindAsync (grpc-js reads
 * the table per call). Returns the paths the server had registered, to check routes against.
 */
export function installCatchAll(
  server: Server,
  claims: (path: string) => boolean,
  func: HandlerRecord["func"],
): readonly string[] {
  const internals = server as unknown as ServerInternals;
  const table = internals.handlers;
  if (!(table instanceof Map)) throw new GrpcProxyUnsupportedError("no handler table");
  if (table instanceof ProxyingHandlers) throw new Error("installCatchAll: already installed");
  if (typeof internals._retrieveHandler !== "function") {
    throw new GrpcProxyUnsupportedError("no handler lookup");
  }
  const hooked = new ProxyingHandlers(table.entries(), claims, func);
  internals.handlers = hooked;
  // The proof: grpc-js's own lookup, on a path only the hook answers.
  hooked.probe = "/eventpipe.proxy.Probe/Probe";
  const answered = internals._retrieveHandler.call(server, hooked.probe) as HandlerRecord | null;
  hooked.probe = undefined;
  if (answered?.func !== func) {
    internals.handlers = table;
    throw new GrpcProxyUnsupportedError("its handler lookup does not read the handler table");
  }
  return [...table.keys()] as string[];
}
