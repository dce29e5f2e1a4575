// The `eventpipe-hosts:host1:port,host2:port` target: each listed host is looked up with the
// system resolver (getaddrinfo: /etc/hosts, then DNS) and becomes ONE endpoint holding all of
// its addresses, so round_robin takes turns between hosts (collectors), not between the IPv4
// and IPv6 addresses of one of them. grpc-js resolves a single name per `dns:` target and has
// no resolver for a list of names; this one uses its resolver API (`experimental`, checked
// against grpc-js 1.14).
//
// Names are looked up again when the channel asks (a connection failed or got a GOAWAY), at
// most once per grpc.dns_min_time_between_resolutions_ms (30 s), so a host whose address
// changes is followed. A host that does not resolve is left out while
// the others are used; only when none resolves does the channel see an error.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { type ChannelOptions, experimental, Metadata, status } from "@grpc/grpc-js";
import { HOST_LIST_SCHEME, type HostPort, parseHostPort } from "./targets.js";

type Endpoint = experimental.Endpoint;

/** As grpc-js's dns: resolver: at most one lookup of the list per this long, by default. */
const DEFAULT_MIN_TIME_BETWEEN_RESOLUTIONS_MS = 30_000;

class HostListResolver implements experimental.Resolver {
  private readonly hosts: readonly HostPort[] = [];
  private readonly parseError: string | undefined;
  private readonly minIntervalMs: number;
  /** Bumped by destroy(): a lookup or timer from before reports nothing. */
  private generation = 0;
  private resolving = false;
  private lastStartedAt = Number.NEGATIVE_INFINITY;
  private deferred: NodeJS.Timeout | undefined;

  constructor(
    target: experimental.GrpcUri,
    private readonly listener: experimental.ResolverListener,
    options: ChannelOptions,
  ) {
    this.minIntervalMs = Number(
      options["grpc.dns_min_time_between_resolutions_ms"] ??
        DEFAULT_MIN_TIME_BETWEEN_RESOLUTIONS_MS,
    );
    try {
      this.hosts = target.path.split(",").map((entry) => parseHostPort(target.path, entry.trim()));
    } catch (error) {
      this.parseError = (error as Error).message;
    }
  }

  updateResolution(): void {
    if (this.resolving || this.deferred !== undefined) return;
    // The channel asks again after every lost connection: rate-limited, the way grpc-js's own
    // dns: resolver is, so a collector that keeps refusing does not make a lookup storm.
    const wait = this.lastStartedAt + this.minIntervalMs - performance.now();
    if (wait > 0) {
      const generation = this.generation;
      this.deferred = setTimeout(() => {
        this.deferred = undefined;
        if (generation === this.generation) this.updateResolution();
      }, wait);
      this.deferred.unref();
      return;
    }
    this.resolving = true;
    this.lastStartedAt = performance.now();
    const generation = this.generation;
    void this.resolve().then((result) => {
      if (generation !== this.generation) return;
      this.resolving = false;
      if (typeof result === "string") {
        this.listener(
          experimental.statusOrFromError({
            code: status.UNAVAILABLE,
            details: result,
            metadata: new Metadata(),
          }),
          {},
          null,
          result,
        );
      } else {
        this.listener(experimental.statusOrFromValue(result), {}, null, "");
      }
    });
  }

  destroy(): void {
    this.generation++;
    this.resolving = false;
    clearTimeout(this.deferred);
    this.deferred = undefined;
  }

  static getDefaultAuthority(target: experimental.GrpcUri): string {
    // The first host names the channel (TLS server name): list hosts one certificate covers.
    return target.path.split(",")[0]!.trim();
  }

  /** The endpoints, or why there are none. Always asynchronous, as grpc-js requires. */
  private async resolve(): Promise<Endpoint[] | string> {
    if (this.parseError !== undefined) return this.parseError;
    const failures: string[] = [];
    const endpoints = await Promise.all(
      this.hosts.map(async ({ host, port }): Promise<Endpoint | undefined> => {
        if (isIP(host) !== 0) return { addresses: [{ host, port }] };
        try {
          const found = await lookup(host, { all: true });
          return { addresses: found.map(({ address }) => ({ host: address, port })) };
        } catch (error) {
          failures.push(`${host}: ${(error as NodeJS.ErrnoException).code ?? error}`);
          return undefined;
        }
      }),
    );
    const resolved = endpoints.filter((e): e is Endpoint => e !== undefined);
    if (resolved.length === 0) return `no collector host resolved (${failures.join("; ")})`;
    return resolved;
  }
}

let registered = false;

/** Makes grpc-js understand `eventpipe-hosts:` targets; idempotent. */
export function registerHostListResolver(): void {
  if (registered) return;
  experimental.registerResolver(HOST_LIST_SCHEME, HostListResolver);
  registered = true;
}
