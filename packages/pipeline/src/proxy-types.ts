// The `proxy:` section of the pipeline file: the collector as the front door to a backing
// "master API", over HTTP (prefix routes) and gRPC (full method name prefixes).

export interface HttpProxyRoute {
  /** A path prefix such as "/api"; requests under it are forwarded. */
  readonly prefix: string;
  /** An absolute http: or https: origin (and optional base path). */
  readonly upstream: string;
  /** What replaces `prefix` before forwarding ("/" keeps the rest of the path only). */
  readonly rewritePrefix: string;
  /** Longest wait for the upstream's answer; past it the caller gets 504. */
  readonly timeoutMs: number;
}

export interface GrpcProxyRoute {
  /** Full method name prefixes, such as "acme.master.v1." (matched against "package.Service/Method"). */
  readonly services: readonly string[];
  /** host:port of the upstream gRPC server. */
  readonly upstream: string;
  /** Speak TLS to the upstream (system CAs). */
  readonly tls: boolean;
}

export interface ProxySettings {
  readonly http: readonly HttpProxyRoute[];
  readonly grpc: readonly GrpcProxyRoute[];
}

/** No `proxy:` section: nothing is forwarded. */
export const NO_PROXY: ProxySettings = Object.freeze({
  http: Object.freeze([]),
  grpc: Object.freeze([]),
});

export const PROXY_DEFAULTS = Object.freeze({
  httpTimeoutMs: 30_000,
  rewritePrefix: "/",
} as const);
