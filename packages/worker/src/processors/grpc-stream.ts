// The one long-lived Process stream a worker keeps to a gRPC processor, shared by every
// handler call: each request carries a correlation id and waits for the result with that id.
// The stream opens on first use and again after it ends. It opens with waitForReady, so while
// the processor is down (restarting, say) requests wait for it, each up to its timeout, rather
// than fail at once: a failure spends one of the event's attempts, and a processor down for a
// few retry backoffs would otherwise see every event dead-lettered. Calls in flight when the
// stream breaks fail at once (retryable). Only a processor that ends stream after stream
// without answering is given a capped backoff before the next one.
import type { Event, ProcessorClient, ProcessRequest, ProcessResult } from "@eventpipe/proto";
import { type ClientDuplexStream, status as grpcStatus, Metadata } from "@grpc/grpc-js";
import type { Logger } from "pino";

/** Retryable: the stream is down or broke while the call waited. */
export class ProcessorUnavailableError extends Error {
  override readonly name = "ProcessorUnavailableError";
  readonly code = "PROCESSOR_UNAVAILABLE";
  constructor(
    readonly address: string,
    reason: string,
  ) {
    super(
      `processor ${address} is unavailable (${reason}); the event will be retried, check that the processor runs and is reachable`,
    );
  }
}

/** Retryable: the processor took longer than the worker's per-call timeout. */
export class ProcessorTimeoutError extends Error {
  override readonly name = "ProcessorTimeoutError";
  readonly code = "PROCESSOR_TIMEOUT";
  constructor(
    readonly address: string,
    readonly timeoutMs: number,
  ) {
    super(`processor ${address} did not answer within ${timeoutMs} ms`);
  }
}

/** Retryable: the worker gave up on the call (its shutdown grace period ran out). */
export class ProcessorCallAbortedError extends Error {
  override readonly name = "ProcessorCallAbortedError";
  readonly code = "PROCESSOR_CALL_ABORTED";
  constructor(
    readonly address: string,
    reason: unknown,
  ) {
    super(`call to processor ${address} abandoned: ${describe(reason)}`, { cause: reason });
  }
}

export interface ProcessorStreamOptions {
  readonly client: ProcessorClient;
  readonly address: string;
  readonly timeoutMs: number;
  readonly logger: Logger;
}

interface Waiter {
  resolve(result: ProcessResult): void;
  reject(error: Error): void;
}

interface OpenStream {
  readonly call: ClientDuplexStream<ProcessRequest, ProcessResult>;
  readonly waiting: Map<bigint, Waiter>;
  /** Requests held, in order, while the call's send buffer is full. */
  readonly backlog: ProcessRequest[];
  blocked: boolean;
  /** A result came back: the processor worked, so a break starts the backoff afresh. */
  answered: boolean;
  ended: boolean;
}

const REOPEN_BASE_MS = 100;
const REOPEN_MAX_MS = 5_000;

export class ProcessorStream {
  private current: OpenStream | undefined;
  private lastId = 0n;
  private failures = 0;
  private reopenAt = 0;
  private lastFailure = "";
  private closed = false;
  private readonly aborts = new AbortWatch();

  constructor(private readonly options: ProcessorStreamOptions) {}

  /** Calls waiting for their result right now. */
  get waiting(): number {
    return this.current?.waiting.size ?? 0;
  }

  request(event: Event, attempt: number, signal: AbortSignal): Promise<ProcessResult> {
    const { address, timeoutMs } = this.options;
    if (signal.aborted) {
      return Promise.reject(new ProcessorCallAbortedError(address, signal.reason));
    }
    let stream: OpenStream;
    try {
      stream = this.acquire();
    } catch (error) {
      return Promise.reject(error);
    }
    const correlationId = ++this.lastId;
    return new Promise<ProcessResult>((resolve, reject) => {
      // Every way out goes through settle, so no timer, listener or map entry outlives a call.
      const settle = (): void => {
        clearTimeout(timer);
        unwatch();
        stream.waiting.delete(correlationId);
      };
      const timer = setTimeout(() => {
        settle();
        reject(new ProcessorTimeoutError(address, timeoutMs));
      }, timeoutMs);
      const unwatch = this.aborts.watch(signal, () => {
        settle();
        reject(new ProcessorCallAbortedError(address, signal.reason));
      });
      stream.waiting.set(correlationId, {
        resolve(result) {
          settle();
          resolve(result);
        },
        reject(error) {
          settle();
          reject(error);
        },
      });
      this.send(stream, { correlationId, event, attempt });
    });
  }

  /** Rejects the calls still waiting (retryable) and cancels the stream. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const stream = this.current;
    this.current = undefined;
    if (stream === undefined) return;
    stream.ended = true;
    stream.backlog.length = 0;
    this.rejectAll(stream, "the worker is closing its connection");
    stream.call.cancel();
  }

  private acquire(): OpenStream {
    const { address } = this.options;
    if (this.closed)
      throw new ProcessorUnavailableError(address, "the worker closed its connection");
    if (this.current !== undefined) return this.current;
    const waitMs = this.reopenAt - Date.now();
    if (this.failures > 1 && waitMs > 0) {
      throw new ProcessorUnavailableError(
        address,
        `${this.lastFailure}; reconnecting in ${waitMs} ms`,
      );
    }
    return this.open();
  }

  private open(): OpenStream {
    // grpc-js takes wait-for-ready as an option of the call's metadata.
    const call = this.options.client.process(new Metadata({ waitForReady: true }));
    const stream: OpenStream = {
      call,
      waiting: new Map(),
      backlog: [],
      blocked: false,
      answered: false,
      ended: false,
    };
    call.on("data", (result: ProcessResult) => this.answer(stream, result));
    // 'status' ends every call; 'error' comes with a failed one. Either ends the stream.
    call.on("error", (error: { code: number; details: string }) => this.end(stream, error));
    call.on("status", (status: { code: number; details: string }) => this.end(stream, status));
    this.current = stream;
    this.options.logger.debug("processor stream opened");
    return stream;
  }

  private send(stream: OpenStream, request: ProcessRequest): void {
    if (stream.blocked) stream.backlog.push(request);
    else this.write(stream, request);
  }

  private write(stream: OpenStream, request: ProcessRequest): void {
    if (!stream.call.write(request)) {
      stream.blocked = true;
      stream.call.once("drain", () => this.flush(stream));
    }
  }

  private flush(stream: OpenStream): void {
    if (stream.ended) return;
    stream.blocked = false;
    let taken = 0;
    while (taken < stream.backlog.length && !stream.blocked) {
      const request = stream.backlog[taken++]!;
      // A call that timed out or was abandoned while held back is not sent at all.
      if (stream.waiting.has(request.correlationId)) this.write(stream, request);
    }
    stream.backlog.splice(0, taken);
  }

  private answer(stream: OpenStream, result: ProcessResult): void {
    stream.answered = true;
    const waiter = stream.waiting.get(result.correlationId);
    if (waiter === undefined) {
      // Most often the answer to a call that already timed out.
      this.options.logger.debug(
        { correlationId: result.correlationId.toString() },
        "result for no waiting call ignored",
      );
      return;
    }
    waiter.resolve(result);
  }

  private end(stream: OpenStream, { code, details }: { code: number; details: string }): void {
    if (stream.ended) return;
    stream.ended = true;
    stream.backlog.length = 0;
    if (this.current === stream) this.current = undefined;
    const reason =
      code === grpcStatus.OK
        ? "the processor ended the stream"
        : `stream failed with ${grpcStatus[code] ?? code}: ${details}`;
    this.failures = stream.answered ? 1 : this.failures + 1;
    const reopenInMs = backoffMs(this.failures);
    this.reopenAt = Date.now() + reopenInMs;
    this.lastFailure = reason;
    const fields = { reason, waiting: stream.waiting.size, reopenInMs };
    // One warning when a working stream breaks; repeated failed reopens only at debug.
    if (this.failures === 1) this.options.logger.warn(fields, "processor stream ended");
    else this.options.logger.debug(fields, "processor stream ended");
    this.rejectAll(stream, reason);
  }

  /** At once, not at each call's timeout: what makes a killed processor lose nothing. */
  private rejectAll(stream: OpenStream, reason: string): void {
    for (const waiter of [...stream.waiting.values()]) {
      waiter.reject(new ProcessorUnavailableError(this.options.address, reason));
    }
  }
}

/**
 * One 'abort' listener per signal, however many calls wait on it: the worker passes the same
 * shutdown signal to every event, and a listener per call would pile up past Node's warning.
 */
class AbortWatch {
  private readonly watched = new Map<AbortSignal, { fire(): void; calls: Set<() => void> }>();

  /** Runs onAbort when the signal aborts, unless the returned function was called first. */
  watch(signal: AbortSignal, onAbort: () => void): () => void {
    let entry = this.watched.get(signal);
    if (entry === undefined) {
      const calls = new Set<() => void>();
      const fire = (): void => {
        this.watched.delete(signal);
        for (const call of [...calls]) call();
      };
      entry = { fire, calls };
      this.watched.set(signal, entry);
      signal.addEventListener("abort", fire, { once: true });
    }
    const { fire, calls } = entry;
    calls.add(onAbort);
    return () => {
      calls.delete(onAbort);
      if (calls.size === 0 && this.watched.get(signal) === entry) {
        this.watched.delete(signal);
        signal.removeEventListener("abort", fire);
      }
    };
  }
}

/** Doubles per consecutive failure up to REOPEN_MAX_MS, jittered so workers spread out. */
function backoffMs(failures: number): number {
  const ceiling = Math.min(REOPEN_MAX_MS, REOPEN_BASE_MS * 2 ** Math.min(failures - 1, 30));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

function describe(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return reason === undefined ? "aborted" : String(reason);
}
