// The gRPC processor: another service as a consumer, over event.Processor
// (packages/proto/proto/event/processor.proto). Every event goes down one shared bidirectional
// stream (grpc-stream.ts); the processor's answer becomes a result, a retry or a dead letter.
import { ProcessAction, ProcessorClient, type ProcessResult } from "@eventpipe/proto";
import { type ChannelOptions, credentials } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { type EventHandler, type HandlerResult, PermanentFailure, RetryLater } from "../handler.js";
import { ProcessorStream } from "./grpc-stream.js";

export interface GrpcProcessorOptions {
  /** "host:port" (any grpc-js target). */
  readonly address: string;
  /** Bounds each event's wait for its result. */
  readonly timeoutMs: number;
  /** TLS with the system's root certificates; plaintext when false. */
  readonly tls: boolean;
  readonly logger: Logger;
}

export interface GrpcProcessor {
  readonly handler: EventHandler;
  /** Ends the stream (calls still waiting reject, retryable) and closes the channel; idempotent. */
  close(): Promise<void>;
}

/** A processor's message ends up in the dead-letter list; keep it readable. */
const MESSAGE_CHARS = 500;
/** setTimeout fires at once past this. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

const CHANNEL_OPTIONS: ChannelOptions = {
  // The stream lives for good: ping it every 30 s so a dead peer is noticed without traffic.
  "grpc.keepalive_time_ms": 30_000,
  "grpc.keepalive_timeout_ms": 10_000,
  // Reconnect about as soon as the stream's own backoff allows, not after grpc-js's default
  // of up to two minutes, so a restarted processor is found within seconds.
  "grpc.initial_reconnect_backoff_ms": 200,
  "grpc.max_reconnect_backoff_ms": 5_000,
};

export function createGrpcProcessor(options: GrpcProcessorOptions): GrpcProcessor {
  const { address, timeoutMs, tls, logger } = options;
  if (address.trim() === "") throw new TypeError("the gRPC processor address is empty");
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS) {
    throw new TypeError(
      `the gRPC processor timeout ${timeoutMs} is not a whole number of ms in 1..${MAX_TIMEOUT_MS}`,
    );
  }
  const client = new ProcessorClient(
    address,
    tls ? credentials.createSsl() : credentials.createInsecure(),
    CHANNEL_OPTIONS,
  );
  const stream = new ProcessorStream({
    client,
    address,
    timeoutMs,
    logger: logger.child({ processorAddress: address }),
  });

  const handler: EventHandler = async (event, ctx) =>
    toHandlerResult(address, await stream.request(event, ctx.attempt, ctx.signal));

  let closing: Promise<void> | undefined;
  return {
    handler,
    close() {
      closing ??= (async () => {
        stream.close();
        client.close();
      })();
      return closing;
    },
  };
}

function toHandlerResult(address: string, result: ProcessResult): HandlerResult {
  switch (result.action) {
    case ProcessAction.PROCESS_ACTION_UNSPECIFIED:
      // A processor that forgot to set the action: acknowledging would be a guess.
      throw new Error(`processor ${address} answered without an action; set SUCCESS or ERROR`);
    case ProcessAction.PROCESS_ACTION_SUCCESS:
      return { outcome: "success", body: result.body, headers: result.headers };
    case ProcessAction.PROCESS_ACTION_ERROR:
      return { outcome: "error", body: result.body, headers: result.headers };
    case ProcessAction.PROCESS_ACTION_RETRY:
      throw new RetryLater(clip(result.message) || "processor asked to retry", result.retryAfterMs);
    case ProcessAction.PROCESS_ACTION_DEAD_LETTER:
      throw new PermanentFailure(clip(result.message) || "processor rejected the event");
    default:
      // A newer processor's action: retrying gives an upgraded worker the chance to know it.
      throw new Error(
        `processor ${address} answered action ${result.action}, which this worker does not know`,
      );
  }
}

function clip(message: string): string {
  return message.length > MESSAGE_CHARS ? `${message.slice(0, MESSAGE_CHARS)}…` : message;
}
