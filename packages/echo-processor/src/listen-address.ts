// ECHO_LISTEN parsing for main.ts: "host:port", "[::1]:port" or ":port" (all interfaces).

export const DEFAULT_ECHO_LISTEN = "127.0.0.1:50061";

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** Throws a TypeError naming `name` and the value when it is not a usable host:port. */
export function parseListenAddress(value: string, name = "ECHO_LISTEN"): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value.trim());
  const port = match === null ? Number.NaN : Number(match[3]);
  if (match === null || port > 65_535) {
    throw new TypeError(
      `${name}="${value}" is not host:port (e.g. ${DEFAULT_ECHO_LISTEN}, [::1]:50061 or :50061)`,
    );
  }
  return { host: match[1] ?? (match[2] || "0.0.0.0"), port };
}
