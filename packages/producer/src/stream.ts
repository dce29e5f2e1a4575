// One-shot client streams (StreamEvents, StreamEventBatches): write everything, honouring
// write() returning false, then wait for the collector's summary.
import { once } from "node:events";
import type { Event, EventServiceClient, StreamSummary } from "@eventpipe/proto";
import { type ClientWritableStream, Metadata, type ServiceError } from "@grpc/grpc-js";

export type StreamRpc = "single" | "batch";

async function pump<T>(
  call: ClientWritableStream<T>,
  messages: AsyncIterable<T> | Iterable<T>,
  failed: Promise<never>,
): Promise<void> {
  for await (const message of messages) {
    if (!call.write(message)) await Promise.race([once(call, "drain"), failed]);
  }
  call.end();
}

/**
 * Streams `events` and resolves the collector's summary. `batchSize` > 1 uses the batch RPC.
 * Rejects with the gRPC error (UNAVAILABLE, RESOURCE_EXHAUSTED...) if the call fails.
 */
export function streamEvents(
  client: EventServiceClient,
  events: AsyncIterable<Event> | Iterable<Event>,
  {
    rpc = "batch",
    batchSize = 100,
    token,
  }: { rpc?: StreamRpc; batchSize?: number /** Bearer token. */; token?: string } = {},
): Promise<StreamSummary> {
  const metadata = new Metadata();
  if (token !== undefined) metadata.set("authorization", `Bearer ${token}`);
  return new Promise<StreamSummary>((resolve, reject) => {
    let rejectFailed: (error: ServiceError) => void = () => {};
    const failed = new Promise<never>((_, r) => {
      rejectFailed = r;
    });
    failed.catch(() => undefined);
    const done = (error: ServiceError | null, summary?: StreamSummary) => {
      if (error) {
        rejectFailed(error);
        reject(error);
      } else resolve(summary!);
    };
    if (rpc === "single") {
      const call = client.streamEvents(metadata, done);
      pump(call, events, failed).catch((error: unknown) => {
        call.cancel();
        reject(error);
      });
    } else {
      const call = client.streamEventBatches(metadata, done);
      pump(call, batches(events, batchSize), failed).catch((error: unknown) => {
        call.cancel();
        reject(error);
      });
    }
  });
}

async function* batches(
  events: AsyncIterable<Event> | Iterable<Event>,
  size: number,
): AsyncGenerator<{ events: Event[] }> {
  let batch: Event[] = [];
  for await (const event of events) {
    batch.push(event);
    if (batch.length >= size) {
      yield { events: batch };
      batch = [];
    }
  }
  if (batch.length > 0) yield { events: batch };
}
