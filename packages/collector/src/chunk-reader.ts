// Reads a gRPC client stream in chunks: everything already buffered, up to a bound, without
// waiting for more. The caller awaits its Redis write before asking for the next chunk, so
// grpc-js stops pulling from HTTP/2 and flow control pushes back on the client.
import type { Readable } from "node:stream";
import { ShuttingDownError, StreamCancelledError, StreamIdleError } from "./errors.js";

export async function* readChunks<T>(
  stream: Readable,
  maxWeight: number,
  weightOf: (item: T) => number,
  idleTimeoutMs: number,
  shutdown: AbortSignal,
): AsyncGenerator<T[]> {
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => wake?.();
  const onEnd = () => {
    ended = true;
    notify();
  };
  const onError = (error: Error) => {
    failure = error;
    notify();
  };
  // A cancelled call closes the stream without 'end'.
  const onClose = () => {
    if (!ended) failure ??= new StreamCancelledError();
    notify();
  };
  const onShutdown = () => {
    failure ??= new ShuttingDownError(0);
    notify();
  };
  shutdown.addEventListener("abort", onShutdown);
  if (shutdown.aborted) onShutdown();
  stream.on("readable", notify);
  stream.on("end", onEnd);
  stream.on("error", onError);
  stream.on("close", onClose);
  try {
    for (;;) {
      // Past the grace period, stop reading even if the client keeps sending.
      if (failure instanceof ShuttingDownError) throw failure;
      const chunk: T[] = [];
      let weight = 0;
      while (weight < maxWeight) {
        const item = stream.read() as T | null;
        if (item === null) break;
        chunk.push(item);
        weight += weightOf(item);
      }
      if (chunk.length > 0) {
        yield chunk;
        continue;
      }
      if (failure !== undefined) throw failure;
      if (ended || stream.readableEnded) return;
      // read() returned null, so Node emits 'readable' once more data or the end arrives.
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(() => {
          failure ??= new StreamIdleError(idleTimeoutMs);
          resolve();
        }, idleTimeoutMs);
      });
      clearTimeout(timer);
      wake = undefined;
    }
  } finally {
    shutdown.removeEventListener("abort", onShutdown);
    stream.off("readable", notify);
    stream.off("end", onEnd);
    stream.off("error", onError);
    stream.off("close", onClose);
  }
}
