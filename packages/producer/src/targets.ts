// What the producer's address means to grpc-js. One collector address (`host:port`) or a gRPC
// target (`dns:///name:port`, `ipv4:...`, `unix:...`) passes through unchanged. A comma list of
// `host:port` names several collectors: grpc-js has no resolver for a list of names, so a list
// of IPv4 (or of IPv6) literals becomes its `ipv4:` (`ipv6:`) target, and any other list the
// `eventpipe-hosts:` target of host-list-resolver.ts, which looks each name up. Every target is
// balanced with round_robin (client.ts), so the producer's calls go to each collector in turn.
import { isIPv4, isIPv6 } from "node:net";

/** The scheme of host-list-resolver.ts. */
export const HOST_LIST_SCHEME = "eventpipe-hosts";

/** Schemes grpc-js resolves itself: such an address is passed through as it is. */
const GRPC_SCHEMES = /^(dns|ipv4|ipv6|unix|unix-abstract):/i;

export interface HostPort {
  /** A name or an IP address; IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
}

export type CollectorTargetKind =
  | "single"
  | "grpc-target"
  | "ipv4-list"
  | "ipv6-list"
  | "host-list";

export interface CollectorTarget {
  /** What grpc-js is given. */
  readonly target: string;
  readonly kind: CollectorTargetKind;
  /** The collectors a list names, in order; empty for a single address or a gRPC target. */
  readonly hosts: readonly HostPort[];
}

export class InvalidCollectorAddressError extends Error {
  override readonly name = "InvalidCollectorAddressError";
  readonly code = "EP_PRODUCER_BAD_ADDRESS";
  constructor(
    readonly address: string,
    reason: string,
  ) {
    super(
      `collector address "${address}" is invalid: ${reason}. Expected host:port, a comma list ` +
        "host1:port,host2:port ([v6]:port for IPv6), or a gRPC target such as dns:///name:port",
    );
  }
}

/** Maps a COLLECTOR_ADDRESS (or ClientOptions.address) to a grpc-js target. */
export function parseCollectorTarget(address: string): CollectorTarget {
  const text = address.trim();
  if (text === "") throw new InvalidCollectorAddressError(address, "it is empty");
  if (GRPC_SCHEMES.test(text)) {
    // grpc-js's dns: resolver looks up one name; several are a list without the scheme.
    if (/^dns:/i.test(text) && text.includes(",")) {
      throw new InvalidCollectorAddressError(
        address,
        "a dns: target names one host (its A/AAAA records are the collectors); list several hosts without the dns: scheme",
      );
    }
    return { target: text, kind: "grpc-target", hosts: [] };
  }
  if (!text.includes(",")) return { target: text, kind: "single", hosts: [] };

  const hosts = text.split(",").map((entry) => parseHostPort(address, entry.trim()));
  if (hosts.every((h) => isIPv4(h.host))) {
    return { target: `ipv4:${hosts.map(formatHostPort).join(",")}`, kind: "ipv4-list", hosts };
  }
  if (hosts.every((h) => isIPv6(h.host))) {
    return { target: `ipv6:${hosts.map(formatHostPort).join(",")}`, kind: "ipv6-list", hosts };
  }
  return {
    target: `${HOST_LIST_SCHEME}:${hosts.map(formatHostPort).join(",")}`,
    kind: "host-list",
    hosts,
  };
}

/** One entry of a list: `host:port` or `[v6]:port`; the port is required. */
export function parseHostPort(address: string, entry: string): HostPort {
  if (entry === "") throw new InvalidCollectorAddressError(address, "the list has an empty entry");
  let host: string;
  let portText: string;
  if (entry.startsWith("[")) {
    const end = entry.indexOf("]");
    host = end < 0 ? "" : entry.slice(1, end);
    if (end < 0 || !isIPv6(host) || entry[end + 1] !== ":") {
      throw new InvalidCollectorAddressError(address, `"${entry}" is not [ipv6]:port`);
    }
    portText = entry.slice(end + 2);
  } else {
    const colon = entry.lastIndexOf(":");
    if (colon < 0) {
      throw new InvalidCollectorAddressError(address, `"${entry}" has no port`);
    }
    host = entry.slice(0, colon);
    portText = entry.slice(colon + 1);
    if (host.includes(":")) {
      throw new InvalidCollectorAddressError(
        address,
        `"${entry}": put an IPv6 address in brackets, [${host}]:${portText}`,
      );
    }
    if (host === "" || !/^[A-Za-z0-9._-]+$/.test(host)) {
      throw new InvalidCollectorAddressError(address, `"${entry}" has no valid host name`);
    }
  }
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65_535) {
    throw new InvalidCollectorAddressError(address, `"${entry}" has no port from 1 to 65535`);
  }
  return { host, port };
}

export function formatHostPort({ host, port }: HostPort): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}
