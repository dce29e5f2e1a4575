import {
  type Event,
  ProcessAction,
  ProcessorClient,
  type ProcessorServer,
  ProcessorService,
  type ProcessRequest,
  type ProcessResult,
} from "@eventpipe/proto";
import { credentials, Server, ServerCredentials } from "@grpc/grpc-js";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type EchoProcessor, startEchoProcessor } from "../../echo-processor/src/index.js";
import { type EventContext, PermanentFailure, RetryLater } from "../src/handler.js";
import { createGrpcProcessor, type GrpcProcessor } from "../src/processors/grpc.js";
import {
  ProcessorCallAbortedError,
  ProcessorStream,
  ProcessorTimeoutError,
  ProcessorUnavailableError,
} from "../src/processors/grpc-stream.js";

const logger = pino({ level: "silent" });
let sequence = 0;

function eventOf(payload: string, attributes: Record<string, string> = {}): Event {
  return {
    eventId: `grpc-${++sequence}`,
    type: "test.grpc",
    timestamp: BigInt(Date.now()),
    payload: Buffer.from(payload),
    source: "grpc-processor.test",
    attributes,
    schemaVersion: 0,
    partitionKey: "",
  };
}

function contextOf(signal: AbortSignal = new AbortController().signal): EventContext {
  return {
    eventId: `ctx-${sequence}`,
    attempt: 1,
    redeliveries: 0,
    enqueuedAtMs: Date.now(),
    workerId: "grpc-processor.test",
    signal,
  };
}

/** Asserts the worker would retry it with its own backoff: not a RetryLater, not a verdict. */
function expectRetryable(error: unknown): void {
  expect(error).toBeInstanceOf(Error);
  expect(error).not.toBeInstanceOf(RetryLater);
  expect(error).not.toBeInstanceOf(PermanentFailure);
}

/** A hand-written processor for answers the echo processor never gives. */
async function startScriptedProcessor(
  answers: (request: ProcessRequest) => ProcessResult[],
): Promise<{ address: string; close(): void }> {
  const server = new Server();
  const implementation: ProcessorServer = {
    process(call) {
      call.on("data", (request: ProcessRequest) => {
        for (const result of answers(request)) call.write(result);
      });
      call.on("end", () => call.end());
      call.on("error", () => {});
    },
  };
  server.addService(ProcessorService, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return { address: `127.0.0.1:${port}`, close: () => server.forceShutdown() };
}

function resultOf(correlationId: bigint, fields: Partial<ProcessResult>): ProcessResult {
  return {
    correlationId,
    action: ProcessAction.PROCESS_ACTION_SUCCESS,
    body: Buffer.alloc(0),
    message: "",
    retryAfterMs: 0,
    headers: {},
    ...fields,
  };
}

describe("gRPC processor", () => {
  let echo: EchoProcessor;
  let processor: GrpcProcessor;

  beforeEach(async () => {
    echo = await startEchoProcessor({ port: 0 });
    processor = createGrpcProcessor({
      address: echo.address,
      timeoutMs: 30_000,
      tls: false,
      logger,
    });
  });
  afterEach(async () => {
    // The worker side first: the echo processor's close waits for open streams.
    await processor.close();
    await echo.close();
  });

  it("resolves a success with the processor's body and headers", async () => {
    const result = await processor.handler(
      eventOf('{"hello":1}', { "content-type": "application/json" }),
      contextOf(),
    );
    expect(result).toMatchObject({
      outcome: "success",
      headers: { "content-type": "application/json" },
    });
    expect(Buffer.from(result!.body).toString()).toBe('{"hello":1}');
  });

  it("maps error, retry and dead-letter answers", async () => {
    const error = await processor.handler(eventOf("e", { "echo.action": "error" }), contextOf());
    expect(error).toMatchObject({ outcome: "error" });
    expect(Buffer.from(error!.body).toString()).toBe("e");

    const retry = processor.handler(
      eventOf("r", { "echo.action": "retry", "echo.retry-after-ms": "1500" }),
      contextOf(),
    );
    await expect(retry).rejects.toBeInstanceOf(RetryLater);
    await expect(retry).rejects.toMatchObject({ message: "asked to retry", retryAfterMs: 1500 });

    const dead = processor.handler(eventOf("d", { "echo.action": "dead-letter" }), contextOf());
    await expect(dead).rejects.toBeInstanceOf(PermanentFailure);
    await expect(dead).rejects.toThrow("asked to dead-letter");
  });

  it("answers 1,000 concurrent calls, each with its own body", async () => {
    const payloads = Array.from({ length: 1000 }, (_, i) => `event ${i} ${"x".repeat(i % 97)}`);
    const results = await Promise.all(
      payloads.map((payload) => processor.handler(eventOf(payload), contextOf())),
    );
    results.forEach((result, i) => {
      expect(result?.outcome).toBe("success");
      expect(Buffer.from(result!.body).toString()).toBe(payloads[i]);
    });
    expect(echo.received).toBe(1000);
  });

  it("rejects waiting calls at once when the processor dies, and reopens when it is back", async () => {
    const waiting = Array.from({ length: 5 }, (_, i) =>
      processor.handler(eventOf(`held ${i}`, { "echo.delay-ms": "60000" }), contextOf()),
    );
    await expect.poll(() => echo.received, { timeout: 10_000 }).toBe(5);
    const { port } = echo;
    await echo.close(); // cuts the stream after its short grace

    for (const outcome of await Promise.allSettled(waiting)) {
      expect(outcome.status).toBe("rejected");
      const reason = (outcome as PromiseRejectedResult).reason;
      expectRetryable(reason);
      expect(reason).toBeInstanceOf(ProcessorUnavailableError);
      expect((reason as Error).message).toContain(`127.0.0.1:${port}`);
    }

    echo = await startEchoProcessor({ port });
    // Calls fail fast during the reopen backoff; one soon gets through on a new stream.
    await vi.waitFor(
      async () => {
        const result = await processor.handler(eventOf("back"), contextOf());
        expect(Buffer.from(result!.body).toString()).toBe("back");
      },
      { timeout: 20_000, interval: 50 },
    );
  });

  it("waits for a processor that is down, up to its timeout, and gets through once it is back", async () => {
    const { port } = echo;
    await processor.close();
    await echo.close();
    processor = createGrpcProcessor({
      address: `127.0.0.1:${port}`,
      timeoutMs: 300,
      tls: false,
      logger,
    });
    // Nobody listens: the call waits for the processor, then times out (retryable).
    const first = await processor.handler(eventOf("a"), contextOf()).catch((error) => error);
    expectRetryable(first);
    expect(first).toBeInstanceOf(ProcessorTimeoutError);

    // A call made while it is down goes through once it is back, without failing first.
    await processor.close();
    processor = createGrpcProcessor({
      address: `127.0.0.1:${port}`,
      timeoutMs: 30_000,
      tls: false,
      logger,
    });
    const waiting = processor.handler(eventOf("b"), contextOf());
    echo = await startEchoProcessor({ port });
    const result = await waiting;
    expect(Buffer.from(result!.body).toString()).toBe("b");
  });

  it("times out a call the processor is slow to answer, and keeps the stream", async () => {
    await processor.close();
    processor = createGrpcProcessor({ address: echo.address, timeoutMs: 200, tls: false, logger });
    const slow = processor.handler(eventOf("slow", { "echo.delay-ms": "1000" }), contextOf());
    await expect(slow).rejects.toThrow(`processor ${echo.address} did not answer within 200 ms`);
    await expect(slow).rejects.toBeInstanceOf(ProcessorTimeoutError);
    const next = await processor.handler(eventOf("next"), contextOf());
    expect(Buffer.from(next!.body).toString()).toBe("next");
  });

  it("abandons a call when the worker's signal aborts", async () => {
    const controller = new AbortController();
    const call = processor.handler(
      eventOf("held", { "echo.delay-ms": "60000" }),
      contextOf(controller.signal),
    );
    await expect.poll(() => echo.received, { timeout: 10_000 }).toBe(1);
    controller.abort(new Error("shutdown grace period over"));
    await expect(call).rejects.toBeInstanceOf(ProcessorCallAbortedError);
    await expect(call).rejects.toThrow("shutdown grace period over");
    // An already aborted signal never reaches the processor.
    await expect(processor.handler(eventOf("late"), contextOf(controller.signal))).rejects.toThrow(
      ProcessorCallAbortedError,
    );
    expect(echo.received).toBe(1);
  });

  it("close() rejects the calls still waiting and every later one", async () => {
    const held = processor.handler(eventOf("held", { "echo.delay-ms": "60000" }), contextOf());
    await expect.poll(() => echo.received, { timeout: 10_000 }).toBe(1);
    const closing = processor.close();
    expect(processor.close()).toBe(closing);
    await closing;
    await expect(held).rejects.toBeInstanceOf(ProcessorUnavailableError);
    await expect(processor.handler(eventOf("after"), contextOf())).rejects.toBeInstanceOf(
      ProcessorUnavailableError,
    );
  });
});

describe("gRPC processor answers the echo processor never gives", () => {
  it("retries an answer without an action, and ignores results for unknown ids", async () => {
    const scripted = await startScriptedProcessor((request) => [
      resultOf(request.correlationId + 1_000_000n, { body: Buffer.from("stray") }),
      resultOf(request.correlationId, {
        action: ProcessAction.PROCESS_ACTION_UNSPECIFIED,
        body: request.event!.payload,
      }),
    ]);
    const processor = createGrpcProcessor({
      address: scripted.address,
      timeoutMs: 10_000,
      tls: false,
      logger,
    });
    try {
      const error = await processor.handler(eventOf("mine"), contextOf()).catch((e) => e);
      expectRetryable(error);
      expect((error as Error).message).toMatch(/without an action/);
    } finally {
      await processor.close();
      scripted.close();
    }
  });

  it("retries an action it does not know, and uses default messages", async () => {
    const scripted = await startScriptedProcessor((request) => {
      const kind = request.event!.attributes.kind;
      const action =
        kind === "retry"
          ? ProcessAction.PROCESS_ACTION_RETRY
          : kind === "dead-letter"
            ? ProcessAction.PROCESS_ACTION_DEAD_LETTER
            : (9 as ProcessAction);
      return [resultOf(request.correlationId, { action })];
    });
    const processor = createGrpcProcessor({
      address: scripted.address,
      timeoutMs: 10_000,
      tls: false,
      logger,
    });
    try {
      const unknown = await processor
        .handler(eventOf("u", { kind: "new" }), contextOf())
        .catch((error) => error);
      expectRetryable(unknown);
      expect(unknown.message).toContain("answered action 9");
      await expect(
        processor.handler(eventOf("r", { kind: "retry" }), contextOf()),
      ).rejects.toMatchObject({ message: "processor asked to retry", retryAfterMs: 0 });
      await expect(
        processor.handler(eventOf("d", { kind: "dead-letter" }), contextOf()),
      ).rejects.toThrow(new PermanentFailure("processor rejected the event"));
    } finally {
      await processor.close();
      scripted.close();
    }
  });
});

describe("processor stream bookkeeping", () => {
  it("leaves nothing waiting after 1,000 calls that succeed, time out or are abandoned", async () => {
    const echo = await startEchoProcessor({ port: 0 });
    const client = new ProcessorClient(echo.address, credentials.createInsecure());
    const stream = new ProcessorStream({ client, address: echo.address, timeoutMs: 1_000, logger });
    try {
      const aborted = new AbortController();
      const calls = Array.from({ length: 1000 }, (_, i) => {
        if (i % 10 === 0) return stream.request(eventOf("abandoned"), 1, aborted.signal);
        // Far past the timeout: these time out whatever the machine's speed.
        const attributes: Record<string, string> = i % 10 === 1 ? { "echo.delay-ms": "60000" } : {};
        return stream.request(eventOf(`${i}`, attributes), 1, new AbortController().signal);
      });
      expect(stream.waiting).toBe(1000);
      aborted.abort(new Error("stop"));
      const outcomes = await Promise.allSettled(calls);
      const count = (name: string) =>
        outcomes.filter((outcome, i) =>
          outcome.status === "fulfilled"
            ? name === "answered" && outcome.value.body.toString() === `${i}`
            : (outcome.reason as Error).name === name,
        ).length;
      expect(count("ProcessorCallAbortedError")).toBe(100);
      // The quick ones are answered, unless a very slow machine timed some of them out too.
      expect(count("ProcessorTimeoutError")).toBeGreaterThanOrEqual(100);
      expect(count("answered") + count("ProcessorTimeoutError")).toBe(900);
      expect(stream.waiting).toBe(0);
    } finally {
      stream.close();
      client.close();
      await echo.close();
    }
  });
});
