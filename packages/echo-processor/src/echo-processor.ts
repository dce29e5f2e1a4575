// The example gRPC processor (event.Processor): one bidirectional stream per worker, every
// ProcessRequest answered with its own payload. Copy this file to write your own processor:
// replace answerOf (answer.ts) and keep the stream handling, which honours backpressure.
import type { ProcessorServer, ProcessRequest, ProcessResult } from "@eventpipe/proto";
import { ProcessorService } from "@eventpipe/proto";
import { Server, ServerCredentials, type ServerDuplexStream } from "@grpc/grpc-js";
import { answerOf } from "./answer.js";

export interface EchoProcessorOptions {
  /** Default "127.0.0.1": only this machine can connect. */
  readonly host?: string;
  /** Default 0: any free port. */
  readonly port?: number;
}

export interface EchoProcessor {
  /** "host:port" actually bound. */
  readonly address: string;
  readonly port: number;
  /** ProcessRequests seen since the start, over every stream. */
  readonly received: number;
  /** Refuses new streams, lets open ones finish for a moment, then cuts them. Idempotent. */
  close(): Promise<void>;
}

/** Workers hold their stream open for good, so a graceful close can only wait this long. */
const CLOSE_GRACE_MS = 1_000;

export async function startEchoProcessor(
  options: EchoProcessorOptions = {},
): Promise<EchoProcessor> {
  const host = options.host ?? "127.0.0.1";
  let received = 0;

  const server = new Server({
    // Agree with the worker's keepalive (a ping every 30 s on its long-lived stream).
    "grpc.keepalive_time_ms": 60_000,
    "grpc.keepalive_timeout_ms": 20_000,
    "grpc.keepalive_permit_without_calls": 1,
    "grpc.http2.min_ping_interval_without_data_ms": 10_000,
  });
  const implementation: ProcessorServer = {
    process(call) {
      serveStream(call, () => {
        received++;
      });
    },
  };
  server.addService(ProcessorService, implementation);

  const hostPart = host.includes(":") ? `[${host}]` : host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      `${hostPart}:${options.port ?? 0}`,
      ServerCredentials.createInsecure(),
      (error, bound) => (error ? reject(error) : resolve(bound)),
    );
  });

  let closing: Promise<void> | undefined;
  return {
    address: `${hostPart}:${port}`,
    port,
    get received() {
      return received;
    },
    close() {
      closing ??= (async () => {
        const drained = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, CLOSE_GRACE_MS);
        });
        await Promise.race([drained, grace]);
        clearTimeout(timer);
        // Cancels the streams still open; their delayed answers are dropped (serveStream).
        server.forceShutdown();
      })();
      return closing;
    },
  };
}

/**
 * Answers every request of one stream, in any order (delayed answers come later). When the
 * response stream is full, results wait in a backlog and reading pauses until 'drain', so a
 * worker that does not read cannot make the processor buffer without bound.
 */
function serveStream(
  call: ServerDuplexStream<ProcessRequest, ProcessResult>,
  onRequest: () => void,
): void {
  const timers = new Set<NodeJS.Timeout>();
  const backlog: ProcessResult[] = [];
  let blocked = false;
  let unanswered = 0;
  let readEnded = false;
  let finished = false;

  const endIfDone = (): void => {
    if (!finished && readEnded && unanswered === 0) {
      finished = true;
      call.end();
    }
  };
  const write = (result: ProcessResult): void => {
    unanswered--;
    if (!call.write(result)) {
      blocked = true;
      call.pause();
      call.once("drain", flush);
    }
  };
  const flush = (): void => {
    if (finished) return;
    blocked = false;
    let written = 0;
    while (written < backlog.length && !blocked) write(backlog[written++]!);
    backlog.splice(0, written);
    if (!blocked) call.resume();
    endIfDone();
  };
  const send = (result: ProcessResult): void => {
    if (finished) return;
    if (blocked) {
      backlog.push(result);
      return;
    }
    write(result);
    endIfDone();
  };
  const abandon = (): void => {
    finished = true;
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    backlog.length = 0;
  };

  call.on("data", (request: ProcessRequest) => {
    onRequest();
    unanswered++;
    const { result, delayMs } = answerOf(request);
    if (delayMs === 0) {
      send(result);
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      send(result);
    }, delayMs);
    timers.add(timer);
  });
  // The worker half-closed: answer what is still due, then end our side.
  call.on("end", () => {
    readEnded = true;
    endIfDone();
  });
  call.on("cancelled", abandon);
  call.on("error", abandon);
}
