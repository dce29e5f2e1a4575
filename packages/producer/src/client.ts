// The gRPC channel to the collector, with keepalive settings that agree with the server's
// (the server accepts pings every 10 s or slower; we send one every 30 s on an idle stream).
// The address may name several collectors (targets.ts); calls take turns among them by the
// round_robin policy.
import { readFileSync } from "node:fs";
import { EventServiceClient } from "@eventpipe/proto";
import { type ChannelCredentials, credentials as grpcCredentials } from "@grpc/grpc-js";
import { registerHostListResolver } from "./host-list-resolver.js";
import { parseCollectorTarget } from "./targets.js";

export const DEFAULT_COLLECTOR_ADDRESS = "localhost:50051";

/**
 * Each call (not each message) goes to the next ready collector of the target. pick_first, the
 * grpc-js default, would send everything to the first address that answers.
 */
export const ROUND_ROBIN_SERVICE_CONFIG = JSON.stringify({
  loadBalancingConfig: [{ round_robin: {} }],
});

export interface ClientOptions {
  /**
   * host:port; a comma list host1:port,host2:port of collectors; or a gRPC target such as
   * dns:///name:port (every address of the name is a collector). Default localhost:50051.
   */
  readonly address?: string;
  /** Default: plaintext. Use credentials.createSsl(...) for TLS or mutual TLS. */
  readonly credentials?: ChannelCredentials;
  readonly maxMessageBytes?: number;
}

/** Throws InvalidCollectorAddressError for an address that names no collector. */
export function createEventClient(options: ClientOptions = {}): EventServiceClient {
  const { target, kind } = parseCollectorTarget(options.address ?? DEFAULT_COLLECTOR_ADDRESS);
  if (kind === "host-list") registerHostListResolver();
  return new EventServiceClient(target, options.credentials ?? grpcCredentials.createInsecure(), {
    "grpc.service_config": ROUND_ROBIN_SERVICE_CONFIG,
    "grpc.keepalive_time_ms": 30_000,
    "grpc.keepalive_timeout_ms": 10_000,
    "grpc.max_send_message_length": options.maxMessageBytes ?? 4 * 1024 * 1024,
    // A channel of its own connections: a producer that gives up on a silent link replaces
    // its channel, and the new one must not reuse the old one's connection from the
    // process-wide pool.
    "grpc.use_local_subchannel_pool": 1,
  });
}

/**
 * Channel credentials from the environment: plaintext by default; TLS when
 * COLLECTOR_TLS_CA_FILE (a CA to trust) or COLLECTOR_TLS=true (system roots) is set; mutual
 * TLS when PRODUCER_TLS_CERT_FILE and PRODUCER_TLS_KEY_FILE are set too.
 */
export function channelCredentialsFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): ChannelCredentials {
  const ca = env.COLLECTOR_TLS_CA_FILE || undefined;
  const cert = env.PRODUCER_TLS_CERT_FILE || undefined;
  const key = env.PRODUCER_TLS_KEY_FILE || undefined;
  const tls =
    ca !== undefined || cert !== undefined || /^(1|true|yes)$/i.test(env.COLLECTOR_TLS ?? "");
  if (!tls) return grpcCredentials.createInsecure();
  if ((cert === undefined) !== (key === undefined)) {
    throw new TypeError("PRODUCER_TLS_CERT_FILE and PRODUCER_TLS_KEY_FILE go together");
  }
  return grpcCredentials.createSsl(
    ca === undefined ? null : readFileSync(ca),
    key === undefined ? null : readFileSync(key),
    cert === undefined ? null : readFileSync(cert),
  );
}
