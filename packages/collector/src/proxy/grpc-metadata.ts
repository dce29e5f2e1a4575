// Which metadata crosses the gRPC proxy. Application metadata goes through unchanged, both
// ways; what describes one HTTP/2 hop (connection headers, content type, compression, the
// timeout grpc-js turns into a deadline, the status it writes itself) stays behind, because
// grpc-js sets it anew on the next hop and a copied value would contradict or duplicate it.
import { Metadata } from "@grpc/grpc-js";

/** Per-hop headers: never copied from one side of the proxy to the other. */
const HOP_HEADERS = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "host",
  "content-type",
  "content-length",
  "user-agent",
  "date",
  "accept-encoding",
  "grpc-encoding",
  "grpc-accept-encoding",
  "grpc-timeout",
  "grpc-status",
  "grpc-message",
  "grpc-previous-rpc-attempts",
]);

function copyWithout(source: Metadata, drop: (key: string) => boolean): Metadata {
  const copy = new Metadata();
  for (const [key, values] of Object.entries(source.toJSON())) {
    if (key.startsWith(":") || HOP_HEADERS.has(key) || drop(key)) continue;
    for (const value of values) copy.add(key, value);
  }
  return copy;
}

/** The peer's address without its port: "ipv4:1.2.3.4:5" or "[::1]:5" -> "1.2.3.4", "::1". */
function peerAddress(peer: string): string | undefined {
  const match = /^(?:ipv[46]:)?\[?([^\]]*?)\]?:\d+$/.exec(peer);
  return match?.[1] || undefined;
}

/**
 * What the caller sent, as the upstream receives it: without the gateway's own bearer token
 * when the collector checks tokens (it proved the caller may use the proxy, and means nothing
 * to the master API), and with the caller's address appended to `x-forwarded-for`.
 */
export function upstreamRequestMetadata(
  incoming: Metadata,
  { dropAuthorization, peer }: { readonly dropAuthorization: boolean; readonly peer: string },
): Metadata {
  const outgoing = copyWithout(incoming, (key) => dropAuthorization && key === "authorization");
  const address = peerAddress(peer);
  if (address !== undefined) {
    const before = outgoing.get("x-forwarded-for").map(String).join(", ");
    outgoing.set("x-forwarded-for", before ? `${before}, ${address}` : address);
  }
  return outgoing;
}

/** The upstream's response headers or trailers, as the caller receives them. */
export function callerResponseMetadata(upstream: Metadata): Metadata {
  return copyWithout(upstream, () => false);
}
