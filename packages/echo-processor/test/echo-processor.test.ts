import { type Event, ProcessAction, ProcessorClient, type ProcessResult } from "@eventpipe/proto";
import { credentials, type StatusObject, status } from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type EchoProcessor, startEchoProcessor } from "../src/index.js";

function eventOf(payload: string, attributes: Record<string, string> = {}): Event {
  return {
    eventId: `e-${payload.slice(0, 20)}`,
    type: "test.echo",
    timestamp: BigInt(Date.now()),
    payload: Buffer.from(payload),
    source: "echo-processor.test",
    attributes,
    schemaVersion: 0,
    partitionKey: "",
  };
}

/** A real grpc-js client stream to the processor, with answers looked up by correlation id. */
function openStream(address: string) {
  const client = new ProcessorClient(address, credentials.createInsecure());
  const call = client.process();
  const arrived: bigint[] = [];
  const waiters = new Map<bigint, (result: ProcessResult) => void>();
  call.on("data", (result: ProcessResult) => {
    arrived.push(result.correlationId);
    waiters.get(result.correlationId)?.(result);
    waiters.delete(result.correlationId);
  });
  call.on("error", () => {}); // the status promise reports it
  const ended = new Promise<StatusObject>((resolve) => call.on("status", resolve));
  let nextId = 0n;
  return {
    call,
    arrived,
    ended,
    send(event: Event | undefined): { id: bigint; answer: Promise<ProcessResult> } {
      const id = ++nextId;
      const answer = new Promise<ProcessResult>((resolve) => waiters.set(id, resolve));
      call.write({ correlationId: id, event, attempt: 1 });
      return { id, answer };
    },
    close() {
      call.cancel();
      client.close();
    },
  };
}

describe("echo processor", () => {
  let processor: EchoProcessor;
  let stream: ReturnType<typeof openStream>;

  beforeEach(async () => {
    processor = await startEchoProcessor({ port: 0 });
    stream = openStream(processor.address);
  });
  afterEach(async () => {
    stream.close();
    await processor.close();
  });

  it("binds 127.0.0.1 on a free port and says where", () => {
    expect(processor.port).toBeGreaterThan(0);
    expect(processor.address).toBe(`127.0.0.1:${processor.port}`);
  });

  it("answers each request with its payload, correlation id and content type", async () => {
    const plain = stream.send(eventOf("hello"));
    const json = stream.send(eventOf('{"a":1}', { "content-type": "application/json" }));
    const [first, second] = await Promise.all([plain.answer, json.answer]);
    expect(first).toMatchObject({
      correlationId: plain.id,
      action: ProcessAction.PROCESS_ACTION_SUCCESS,
      message: "",
      retryAfterMs: 0,
      headers: { "content-type": "application/octet-stream" },
    });
    expect(first.body.toString()).toBe("hello");
    expect(second.correlationId).toBe(json.id);
    expect(second.body.toString()).toBe('{"a":1}');
    expect(second.headers).toEqual({ "content-type": "application/json" });
    expect(processor.received).toBe(2);
  });

  it("answers the action that echo.action asks for", async () => {
    const retry = stream.send(
      eventOf("r", { "echo.action": "retry", "echo.retry-after-ms": "1500" }),
    );
    const dead = stream.send(eventOf("d", { "echo.action": "dead-letter" }));
    const error = stream.send(eventOf("e", { "echo.action": "error" }));
    const typo = stream.send(eventOf("t", { "echo.action": "retyr" }));
    expect(await retry.answer).toMatchObject({
      action: ProcessAction.PROCESS_ACTION_RETRY,
      message: "asked to retry",
      retryAfterMs: 1500,
    });
    expect(await dead.answer).toMatchObject({
      action: ProcessAction.PROCESS_ACTION_DEAD_LETTER,
      message: "asked to dead-letter",
    });
    const errorAnswer = await error.answer;
    expect(errorAnswer).toMatchObject({
      action: ProcessAction.PROCESS_ACTION_ERROR,
      message: "asked to error",
    });
    expect(errorAnswer.body.toString()).toBe("e");
    const typoAnswer = await typo.answer;
    expect(typoAnswer.action).toBe(ProcessAction.PROCESS_ACTION_ERROR);
    expect(typoAnswer.message).toMatch(/echo\.action="retyr" is not one of/);
  });

  it("dead-letters a request that carries no event", async () => {
    const empty = stream.send(undefined);
    expect(await empty.answer).toMatchObject({
      correlationId: empty.id,
      action: ProcessAction.PROCESS_ACTION_DEAD_LETTER,
      message: "the ProcessRequest carries no event",
    });
  });

  it("answers out of order: a delayed answer comes after a later immediate one", async () => {
    const slow = stream.send(eventOf("slow", { "echo.delay-ms": "300" }));
    const fast = stream.send(eventOf("fast"));
    const [slowAnswer, fastAnswer] = await Promise.all([slow.answer, fast.answer]);
    expect(slowAnswer.body.toString()).toBe("slow");
    expect(fastAnswer.body.toString()).toBe("fast");
    expect(stream.arrived).toEqual([fast.id, slow.id]);
  });

  it("loses nothing when the worker stops reading (backpressure) and then reads again", async () => {
    stream.call.pause();
    const chunk = "x".repeat(64 * 1024);
    const sent = Array.from({ length: 300 }, (_, i) => stream.send(eventOf(`${i}:${chunk}`)));
    // More answers than a paused reader buffers (16): the rest wait on the processor's side,
    // which stops reading (with the sizes here it stalls at 32 of 300 until the resume).
    await expect.poll(() => processor.received, { timeout: 10_000 }).toBeGreaterThan(16);
    stream.call.resume();
    const answers = await Promise.all(sent.map((request) => request.answer));
    answers.forEach((answer, i) => {
      expect(answer.correlationId).toBe(sent[i]!.id);
      expect(answer.body.toString()).toBe(`${i}:${chunk}`);
    });
    expect(processor.received).toBe(300);
  });

  it("answers what is due after the worker half-closes, then ends the stream OK", async () => {
    const late = stream.send(eventOf("late", { "echo.delay-ms": "100" }));
    stream.call.end();
    expect((await late.answer).body.toString()).toBe("late");
    expect((await stream.ended).code).toBe(status.OK);
  });

  it("close() cuts open streams, drops their pending answers, and frees the port", async () => {
    const pending = stream.send(eventOf("never", { "echo.delay-ms": "60000" }));
    await expect.poll(() => processor.received, { timeout: 10_000 }).toBe(1);
    const closing = processor.close();
    expect(processor.close()).toBe(closing); // idempotent
    await closing;
    expect((await stream.ended).code).not.toBe(status.OK);
    expect(stream.arrived).not.toContain(pending.id);

    // The same port can be bound again at once: how a restarted processor comes back.
    processor = await startEchoProcessor({ port: processor.port });
    stream.close();
    stream = openStream(processor.address);
    expect((await stream.send(eventOf("back")).answer).body.toString()).toBe("back");
  });
});
