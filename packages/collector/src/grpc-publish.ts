// The gRPC door's Publish RPC: acknowledged streaming. Each PublishRequest is stored and
// answered with a PublishAck carrying its sequence, so a producer keeps unacknowledged batches
// and resends them after a failure (deduplication absorbs what was stored after all).
import { once } from "node:events";
import type { PublishAck } from "@eventpipe/proto";
import { type ServerDuplexStream, type ServiceError, status } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { readChunks } from "./chunk-reader.js";
import type { CollectorConfig } from "./config.js";
import type { IngestCore } from "./core.js";
import type { IncomingPublish } from "./incoming.js";
import { MAX_REPORTED_REJECTIONS } from "./ingest.js";
import { MalformedMessage } from "./service-definition.js";

export interface PublishDependencies {
  readonly writer: IngestCore["writer"];
  readonly budget: IngestCore["budget"];
  readonly config: CollectorConfig;
  /** The door's: aborted when its grace period is over. */
  readonly shutdown: AbortSignal;
  readonly log: Logger;
  /** The door's mapping of an error to the status the call ends with (and its logging). */
  readonly fail: (log: Logger, error: unknown) => Partial<ServiceError>;
}

export async function answerPublish(
  call: ServerDuplexStream<IncomingPublish | MalformedMessage, PublishAck>,
  { writer, budget, config, shutdown, log, fail }: PublishDependencies,
): Promise<void> {
  try {
    const chunks = readChunks<IncomingPublish | MalformedMessage>(
      call,
      config.chunkSize,
      (request) => (request instanceof MalformedMessage ? 1 : request.events.length || 1),
      config.streamIdleTimeoutMs,
      shutdown,
    );
    for await (const chunk of chunks) {
      // A malformed request has no sequence to answer: store and ack what came before it,
      // then end the call.
      const firstMalformed = chunk.findIndex((request) => request instanceof MalformedMessage);
      const requests = (
        firstMalformed < 0 ? chunk : chunk.slice(0, firstMalformed)
      ) as IncomingPublish[];
      const events = requests.reduce((sum, request) => sum + request.events.length, 0);
      const taken = await budget.acquire(events);
      // Every request is written at once (pipelined, in order), then acknowledged.
      const results = await Promise.allSettled(
        requests.map((request) => writer.write(request.events, 0)),
      ).finally(() => budget.release(taken));
      // Ack every batch that was stored, even after one that failed (a worker may have
      // made room in between), so the producer resends only what really was not stored.
      let failure: { reason: unknown } | undefined;
      for (let i = 0; i < results.length; i++) {
        const result = results[i]!;
        if (result.status === "rejected") {
          failure ??= { reason: result.reason };
          continue;
        }
        const ack: PublishAck = {
          sequence: requests[i]!.sequence,
          accepted: result.value.stored,
          rejected: result.value.rejections.length,
          duplicates: result.value.duplicates,
          rejections: result.value.rejections.slice(0, MAX_REPORTED_REJECTIONS),
        };
        if (!call.write(ack)) await once(call, "drain");
      }
      if (failure !== undefined) throw failure.reason;
      if (firstMalformed >= 0) {
        throw Object.assign(new Error("malformed PublishRequest"), {
          malformed: chunk[firstMalformed],
        });
      }
    }
    call.end();
  } catch (error) {
    const malformed = (error as { malformed?: MalformedMessage }).malformed;
    const grpcError = malformed
      ? {
          code: status.INVALID_ARGUMENT,
          details: `a PublishRequest of ${malformed.bytes} bytes is not valid protobuf`,
        }
      : fail(log, error);
    call.emit("error", grpcError);
  }
}
