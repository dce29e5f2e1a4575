// The gRPC channel to the collector, with keepalive settings that agree with the server's
// (the server accepts pings every 10 s or slower; we send one every 30 s on an idle stream).
import { EventServiceClient } from "@eventpipe/proto";
import { type ChannelCredentials, credentials as grpcCredentials } from "@grpc/grpc-js";

export const DEFAULT_COLLECTOR_ADDRESS = "localhost:50051";

export interface ClientOptions {
  readonly address?: string;
  /** Default: plaintext. Use credentials.createSsl(...) for TLS or mutual TLS. */
  readonly credentials?: ChannelCredentials;
  readonly maxMessageBytes?: number;
}

export function createEventClient(options: ClientOptions = {}): EventServiceClient {
  return new EventServiceClient(
    options.address ?? DEFAULT_COLLECTOR_ADDRESS,
    options.credentials ?? grpcCredentials.createInsecure(),
    {
      "grpc.keepalive_time_ms": 30_000,
      "grpc.keepalive_timeout_ms": 10_000,
      "grpc.max_send_message_length": options.maxMessageBytes ?? 4 * 1024 * 1024,
    },
  );
}
