// The collector's gRPC door: the EventService RPCs and grpc.health.v1, over the shared core
// (validation, schemas, deduplication, enqueue). createCollector (collector.ts) opens it.
import { setMaxListeners } from "node:events";
import {
  type CallReply,
  HealthService,
  type PublishAck,
  type Rejection,
  type StreamSummary,
} from "@eventpipe/proto";
import {
  type Metadata,
  Server,
  type ServerCredentials,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServiceError,
  type sendUnaryData,
  status,
} from "@grpc/grpc-js";
import type { Logger } from "pino";
import { authenticate } from "./auth.js";
import type { Caller } from "./call/caller.js";
import { answerCall } from "./call/grpc-call.js";
import { readChunks } from "./chunk-reader.js";
import type { CollectorConfig } from "./config.js";
import type { IngestCore } from "./core.js";
import { ShuttingDownError, toGrpcStatus } from "./errors.js";
import { GroupWriter } from "./group-writer.js";
import { answerPublish } from "./grpc-publish.js";
import type { IncomingBatch, IncomingEvent, IncomingPublish } from "./incoming.js";
import { addToTally, emptyTally, summaryOf } from "./ingest.js";
import { createGrpcProxy } from "./proxy/grpc-proxy.js";
import { addReflection } from "./reflection.js";
import {
  eventServiceDefinition,
  MalformedMessage,
  rejectionOfMalformed,
} from "./service-definition.js";
import { serverCredentials } from "./tls.js";

export interface GrpcDoorDependencies {
  readonly config: CollectorConfig;
  readonly logger: Logger;
  /** Default: built from config.tls (plaintext when unset). */
  readonly credentials?: ServerCredentials;
  /** Answers the Call RPC. */
  readonly caller: Caller;
}

export interface GrpcDoor {
  /** Binds config.listen (port 0 picks a free one) and starts serving; resolves the port. */
  listen(): Promise<number>;
  /** Streams being served right now. */
  readonly activeStreams: number;
  /**
   * Stops accepting streams, lets the active ones finish for up to the grace period, then
   * ends the rest with UNAVAILABLE and the count each stored. Idempotent.
   */
  close(graceMs: number): Promise<void>;
}

export function createGrpcDoor(
  { writerFor, budget, health }: IngestCore,
  { config, logger, credentials = serverCredentials(config.tls), caller }: GrpcDoorDependencies,
): GrpcDoor {
  const shutdown = new AbortController();
  // Every waiting Call listens to it (call/grpc-call.ts): no leak warning past 10 of them.
  setMaxListeners(0, shutdown.signal);
  const active = new Set<Promise<void>>();
  let streamCounter = 0;

  const server = new Server({
    "grpc.max_receive_message_length": config.maxMessageBytes,
    // Agree with the producer's keepalive (30 s): accept its pings, drop dead peers.
    "grpc.keepalive_time_ms": 60_000,
    "grpc.keepalive_timeout_ms": 20_000,
    "grpc.keepalive_permit_without_calls": 1,
    "grpc.http2.min_ping_interval_without_data_ms": 10_000,
    // Client-side load balancing (round_robin over many collectors) chooses per connection:
    // an aged connection gets a GOAWAY so its client reconnects and spreads its calls over
    // the collectors there are now, new ones included. Calls still open after the grace are
    // cut; the producer resends their unacknowledged batches and deduplication absorbs them.
    ...(config.maxConnectionAgeMs > 0
      ? {
          "grpc.max_connection_age_ms": config.maxConnectionAgeMs,
          "grpc.max_connection_age_grace_ms": config.maxConnectionAgeGraceMs,
        }
      : {}),
  });

  /** Runs one call's work, refusing it unauthenticated, during shutdown or past the stream cap. */
  function admit(
    kind: string,
    metadata: Metadata,
    onRefused: (error: Partial<ServiceError>) => void,
    work: (log: Logger) => Promise<void>,
  ): void {
    const auth = authenticate(config.tokens, metadata, kind);
    if (!auth.ok) {
      logger.warn({ rpc: kind, code: status[auth.code] }, "call refused");
      onRefused({ code: auth.code, details: auth.details });
      return;
    }
    if (shutdown.signal.aborted) {
      onRefused(toGrpcStatus(new ShuttingDownError(0), config.retryAfterMs).error);
      return;
    }
    if (active.size >= config.maxConcurrentStreams) {
      onRefused({
        code: status.RESOURCE_EXHAUSTED,
        details: `the collector serves at most ${config.maxConcurrentStreams} streams at once (MAX_CONCURRENT_STREAMS); retry later`,
      });
      return;
    }
    const log = logger.child({ stream: ++streamCounter, rpc: kind, client: auth.name });
    const running = work(log).catch((error: unknown) => {
      log.error({ err: error }, "stream handler failed");
    });
    active.add(running);
    void running.finally(() => active.delete(running));
  }

  function fail(log: Logger, error: unknown): Partial<ServiceError> {
    const { error: grpcError, unexpected } = toGrpcStatus(error, config.retryAfterMs);
    if (unexpected) log.error({ err: error }, "stream failed");
    else log.warn({ code: status[grpcError.code ?? 0], reason: grpcError.details }, "stream ended");
    return grpcError;
  }

  /** Shared by the two client-streaming RPCs: store every chunk, then reply once. */
  async function ingestClientStream<M>(
    call: ServerReadableStream<M | MalformedMessage, StreamSummary>,
    callback: sendUnaryData<StreamSummary>,
    log: Logger,
    rpc: string,
    eventsOf: (message: M) => readonly IncomingEvent[],
  ): Promise<void> {
    const tally = emptyTally();
    const group = new GroupWriter(writerFor(rpc), config.chunkSize, tally, budget);
    let index = 0;
    try {
      const chunks = readChunks<M | MalformedMessage>(
        call,
        config.chunkSize,
        (message) => (message instanceof MalformedMessage ? 1 : eventsOf(message).length || 1),
        config.streamIdleTimeoutMs,
        shutdown.signal,
      );
      for await (const messages of chunks) {
        const events: IncomingEvent[] = [];
        const firstIndex = index;
        const malformed: Rejection[] = [];
        for (const message of messages) {
          if (message instanceof MalformedMessage) {
            malformed.push(rejectionOfMalformed(index++, message));
            continue;
          }
          for (const event of eventsOf(message)) {
            events.push(event);
            index++;
          }
        }
        if (malformed.length > 0) {
          addToTally(tally, { stored: 0, duplicates: 0, rejections: malformed });
        }
        // Indexes after a malformed message in the same read shift by one; ids still name them.
        await group.add(events, firstIndex);
      }
      await group.drain();
    } catch (error) {
      await group.drain().catch(() => undefined);
      const reported =
        error instanceof ShuttingDownError ? new ShuttingDownError(tally.stored) : error;
      callback(fail(log, reported));
      return;
    }
    log.debug({ stored: tally.stored, rejected: tally.rejected }, "stream done");
    callback(null, summaryOf(tally));
  }

  server.addService(eventServiceDefinition, {
    streamEvents(
      call: ServerReadableStream<IncomingEvent | MalformedMessage, StreamSummary>,
      callback: sendUnaryData<StreamSummary>,
    ) {
      admit(
        "StreamEvents",
        call.metadata,
        (e) => callback(e),
        (log) =>
          ingestClientStream<IncomingEvent>(call, callback, log, "StreamEvents", (event) => [
            event,
          ]),
      );
    },
    streamEventBatches(
      call: ServerReadableStream<IncomingBatch | MalformedMessage, StreamSummary>,
      callback: sendUnaryData<StreamSummary>,
    ) {
      admit(
        "StreamEventBatches",
        call.metadata,
        (e) => callback(e),
        (log) =>
          ingestClientStream<IncomingBatch>(
            call,
            callback,
            log,
            "StreamEventBatches",
            (batch) => batch.events,
          ),
      );
    },
    publish(call: ServerDuplexStream<IncomingPublish | MalformedMessage, PublishAck>) {
      admit(
        "Publish",
        call.metadata,
        (e) => call.emit("error", e),
        (log) =>
          answerPublish(call, {
            writer: writerFor("Publish"),
            budget,
            config,
            shutdown: shutdown.signal,
            log,
            fail,
          }),
      );
    },
    call(
      call: ServerUnaryCall<IncomingBatch | MalformedMessage, CallReply>,
      callback: sendUnaryData<CallReply>,
    ) {
      admit(
        "Call",
        call.metadata,
        (e) => callback(e),
        (log) => answerCall(call, callback, caller, config, log, shutdown.signal),
      );
    },
  });
  server.addService(HealthService, health.implementation);
  addReflection(server);
  // Methods of the master API (proxy.grpc in the pipeline file), forwarded to its upstream.
  const proxy = createGrpcProxy({
    routes: config.pipeline.proxy.grpc,
    tokens: config.tokens,
    maxMessageBytes: config.maxMessageBytes,
    maxConcurrentCalls: config.maxConcurrentStreams,
    logger,
    shutdown: shutdown.signal,
  });
  proxy.install(server);

  let closing: Promise<void> | undefined;
  return {
    get activeStreams() {
      return active.size + proxy.activeCalls;
    },
    listen() {
      return new Promise((resolve, reject) => {
        const listen = config.listen ?? "127.0.0.1:0";
        server.bindAsync(listen, credentials, (error, port) => {
          if (error) reject(error);
          else {
            logger.info({ listen, port }, "grpc listening");
            resolve(port);
          }
        });
      });
    },
    close(graceMs) {
      closing ??= (async () => {
        // tryShutdown refuses new calls at once and waits for the active ones.
        const drained = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
        const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
        await Promise.race([drained, grace]);
        // Past the grace period: interrupt readers; each replies with what it stored.
        shutdown.abort();
        await Promise.allSettled([...active, proxy.close()]);
        server.forceShutdown();
      })();
      return closing;
    },
  };
}
