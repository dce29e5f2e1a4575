// A TCP proxy on 127.0.0.1 that fault-injection tests put between a service and Redis, or
// between a gRPC producer and the collector, to delay, swallow or cut the traffic between them.
import { once } from "node:events";
import { createServer, type Socket } from "node:net";
import { Link, type WriteCallback } from "./fault-proxy-link.js";

export type FaultMode =
  /** Forward both ways untouched (the default). */
  | { readonly kind: "pass" }
  /** Delay every chunk, each direction, by `ms`; order is kept. */
  | { readonly kind: "latency"; readonly ms: number }
  /** Accept connections, forward nothing either way, never close them. */
  | { readonly kind: "blackhole" }
  /** One direction keeps flowing, nothing comes through the other. */
  | { readonly kind: "half-open"; readonly drop: FaultDirection };
// Traffic a fault holds back is not thrown away: like TCP retransmitting across a partition,
// it arrives once the fault lifts, unless resetAll() cuts the link first (a peer that lost the
// connection). Dropping bytes from the middle of a stream is something no network does.

export type FaultDirection = "to-target" | "to-client";

export interface FaultProxyStats {
  /** Connections accepted since start. */
  readonly accepted: number;
  /** Proxied connections not yet closed on both sides. */
  readonly open: number;
  /** Connections the proxy cut with a TCP RST (resetAll, resetAfterNextRequest). */
  readonly resets: number;
}

export interface FaultProxy {
  /** Listening port on 127.0.0.1. */
  readonly port: number;
  /** "127.0.0.1:<port>", the form a gRPC client takes. */
  readonly address: string;
  /** "<scheme>://127.0.0.1:<port>", e.g. a Redis URL. */
  url(scheme?: string): string;
  /** Applies to existing and new connections at once. */
  setMode(mode: FaultMode): void;
  /** Destroys every open connection with a TCP RST (socket.resetAndDestroy()), both sides. */
  resetAll(): void;
  /**
   * The connections open now stop delivering in `direction` for good, with no FIN or RST, as
   * when the far end forgot them without a word (a half-open link); connections made later
   * follow the mode as usual. Only resetAll() or close() ends them.
   */
  stallOpenConnections(direction: FaultDirection | "both"): void;
  /**
   * Forwards the next chunk a client sends to the target, then resets that connection (both
   * sides) before any reply can come back: "the command ran, its reply was lost". Resolves
   * when it has happened; rejects if the chunk never reached the target or the proxy closed.
   */
  resetAfterNextRequest(): Promise<void>;
  readonly stats: FaultProxyStats;
  /** Stops listening and destroys every connection; idempotent. */
  close(): Promise<void>;
}

export interface FaultProxyTarget {
  readonly host: string;
  readonly port: number;
}

export interface FaultProxyOptions {
  /** 0 (the default) picks a free port; a fixed one lets a test restart a proxy in place. */
  readonly port?: number;
}

const HOST = "127.0.0.1";

export async function startFaultProxy(
  target: FaultProxyTarget,
  options: FaultProxyOptions = {},
): Promise<FaultProxy> {
  const proxy = new FaultProxyServer(target);
  await proxy.listen(options.port ?? 0);
  return proxy;
}

class FaultProxyServer implements FaultProxy {
  mode: FaultMode = { kind: "pass" };
  port = 0;
  private readonly server = createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
  private readonly links = new Set<Link>();
  private readonly armed: WriteCallback[] = [];
  private accepted = 0;
  private resets = 0;
  private closing: Promise<void> | undefined;

  constructor(private readonly target: FaultProxyTarget) {}

  async listen(port: number): Promise<void> {
    this.server.listen({ host: HOST, port });
    await once(this.server, "listening");
    const address = this.server.address();
    this.port = typeof address === "object" && address ? address.port : port;
  }

  get address(): string {
    return `${HOST}:${this.port}`;
  }

  url(scheme = "redis"): string {
    return `${scheme}://${this.address}`;
  }

  get stats(): FaultProxyStats {
    return { accepted: this.accepted, open: this.links.size, resets: this.resets };
  }

  setMode(mode: FaultMode): void {
    if (mode.kind === "latency" && !(Number.isFinite(mode.ms) && mode.ms >= 0)) {
      throw new RangeError(`latency ms must be a finite number >= 0, got ${mode.ms}`);
    }
    this.mode = { ...mode };
    for (const link of [...this.links]) {
      const idle = !link.target && !link.client.destroyed && !this.closing;
      if (idle && mode.kind !== "blackhole") link.connect(this.target);
      link.up.pump();
      link.down?.pump();
    }
  }

  stallOpenConnections(direction: FaultDirection | "both"): void {
    for (const link of this.links) {
      link.stalled = direction;
      link.up.pump();
      link.down?.pump();
    }
  }

  resetAll(): void {
    for (const link of [...this.links]) {
      this.resets++;
      link.reset();
    }
  }

  resetAfterNextRequest(): Promise<void> {
    if (this.closing) return Promise.reject(new Error("fault proxy is closed"));
    return new Promise((resolve, reject) => {
      this.armed.push((error) => (error ? reject(error) : resolve()));
    });
  }

  /** Called for each chunk bound for the target: dooms its link if a reset is armed. */
  takeArmed(link: Link): WriteCallback | undefined {
    const settle = this.armed.shift();
    if (!settle) return undefined;
    link.doomed = true;
    return (error) => {
      this.resets++;
      link.reset();
      settle(error);
    };
  }

  forget(link: Link): void {
    this.links.delete(link);
    link.up.stop();
    link.down?.stop();
  }

  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const link of [...this.links]) {
        this.forget(link);
        link.client.destroy();
        link.target?.destroy();
      }
      for (const settle of this.armed.splice(0)) settle(new Error("fault proxy closed"));
    });
    return this.closing;
  }

  private accept(client: Socket): void {
    this.accepted++;
    client.on("error", () => {});
    if (this.closing) {
      client.destroy();
      return;
    }
    const link = new Link(this, client);
    this.links.add(link);
    // A connection accepted in blackhole mode is not connected onward until the mode allows.
    if (this.mode.kind !== "blackhole") link.connect(this.target);
  }
}
