// The producer over several collectors, against in-process gRPC servers on 127.0.0.1 that
// answer Publish the way the collector does (an ack per batch, OK after the client's
// half-close): calls take turns between the servers (round_robin plus call turnover), a call
// cut before its acks has only its own batches sent again, and every event id is accounted
// for. The real collector processes, SIGKILL and GOAWAY are in test/many-collectors.test.ts.
import {
  type Event,
  EventServiceService,
  type PublishAck,
  type PublishRequest,
} from "@eventpipe/proto";
import { Server, ServerCredentials, type ServerDuplexStream, status } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { createProducer, type Producer, sampleEvents } from "../src/index.js";

interface StubCollector {
  readonly port: number;
  /** Publish calls it was given. */
  calls: number;
  /** Every event id it read, resends included. */
  readonly received: string[];
  stop(): Promise<void>;
}

/**
 * A Publish server. `cutAfter`: its first call ends with UNAVAILABLE when that many batches
 * have been read, the last one unacknowledged (a collector killed, or a GOAWAY's grace over).
 */
async function startStub(host: string, cutAfter = 0): Promise<StubCollector> {
  const server = new Server();
  const stub = { calls: 0, received: [] as string[] };
  server.addService(EventServiceService, {
    publish(call: ServerDuplexStream<PublishRequest, PublishAck>) {
      const callNumber = ++stub.calls;
      let batches = 0;
      call.on("data", (request: PublishRequest) => {
        stub.received.push(...request.events.map((event) => event.eventId));
        if (callNumber === 1 && ++batches === cutAfter) {
          call.emit("error", { code: status.UNAVAILABLE, details: "cut" });
          return;
        }
        call.write({
          sequence: request.sequence,
          accepted: request.events.length,
          rejected: 0,
          duplicates: 0,
          rejections: [],
        });
      });
      call.on("end", () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:0`, ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return Object.assign(stub, {
    port,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  });
}

const running: { stubs: StubCollector[]; producers: Producer[] } = { stubs: [], producers: [] };
afterEach(async () => {
  await Promise.all(running.producers.map((p) => p.close().catch(() => undefined)));
  await Promise.all(running.stubs.map((stub) => stub.stop()));
  running.stubs = [];
  running.producers = [];
});

async function stubs(count: number, cutAfter = 0): Promise<StubCollector[]> {
  const started = await Promise.all(
    Array.from({ length: count }, () => startStub("127.0.0.1", cutAfter)),
  );
  running.stubs.push(...started);
  return started;
}

/** A producer that counts every acknowledgement of each id. */
function producer(address: string, callLifetimeMs: number) {
  const acks = new Map<string, number>();
  const events = createProducer({
    address,
    batchSize: 10,
    callLifetimeMs,
    onAck(batch, rejections) {
      expect(rejections).toEqual([]);
      for (const event of batch) acks.set(event.eventId, (acks.get(event.eventId) ?? 0) + 1);
    },
  });
  running.producers.push(events);
  return { events, acks };
}

/** Sends until `done` holds (at most `limit` events); returns the ids sent. */
async function sendUntil(events: Producer, done: () => boolean, limit: number): Promise<string[]> {
  const sent: string[] = [];
  const source = sampleEvents(limit);
  for (let next = source.next(); !next.done && !done(); next = source.next()) {
    const event: Event = next.value;
    sent.push(event.eventId);
    await events.send(event);
  }
  return sent;
}

const counts = (ids: Iterable<string>) => {
  const seen = new Map<string, number>();
  for (const id of ids) seen.set(id, (seen.get(id) ?? 0) + 1);
  return seen;
};

describe("a producer over several collectors", () => {
  it("a list of host names: calls turn over and take turns, each id sent and acknowledged once", async () => {
    const collectors = await stubs(3);
    const address = collectors.map((c) => `localhost:${c.port}`).join(",");
    const { events, acks } = producer(address, 20);
    const everyOneCalled = () => collectors.every((c) => c.calls >= 2);
    const sent = await sendUntil(events, everyOneCalled, 500_000);
    const totals = await events.close();

    expect(everyOneCalled()).toBe(true);
    expect(totals).toMatchObject({ sent: sent.length, stored: sent.length, reconnects: 0 });
    expect(totals.calls).toBe(collectors.reduce((sum, c) => sum + c.calls, 0));
    const received = counts(collectors.flatMap((c) => c.received));
    expect([...received.keys()].sort()).toEqual([...sent].sort());
    expect([...received.values()].every((n) => n === 1)).toBe(true);
    expect([...acks.values()].every((n) => n === 1)).toBe(true);
    expect(acks.size).toBe(sent.length);
    process.stdout.write(
      `[balancing] ${sent.length} events in ${totals.calls} calls: ${collectors
        .map((c) => `:${c.port} ${c.calls} calls ${c.received.length} events`)
        .join(", ")}\n`,
    );
  });

  it("a call cut before its acks: only its batches go out again, and every id is acknowledged once", async () => {
    // Each collector cuts its first call at its third batch, unacknowledged.
    const collectors = await stubs(2, 3);
    const address = collectors.map((c) => `127.0.0.1:${c.port}`).join(",");
    const { events, acks } = producer(address, 20);
    const bothCut = () => collectors.every((c) => c.calls >= 2);
    const sent = await sendUntil(events, bothCut, 500_000);
    const totals = await events.close();

    expect(bothCut()).toBe(true);
    expect(totals.reconnects).toBeGreaterThanOrEqual(1);
    expect(totals).toMatchObject({ sent: sent.length, stored: sent.length });
    expect(acks.size).toBe(sent.length);
    expect([...acks.values()].every((n) => n === 1)).toBe(true);
    const received = counts(collectors.flatMap((c) => c.received));
    expect(sent.every((id) => (received.get(id) ?? 0) >= 1)).toBe(true);
    // What was sent twice is the cut batches and, at most, what the cut calls carried after
    // them: never a batch another call had acknowledged.
    const twice = [...received].filter(([, n]) => n > 1).map(([id]) => id);
    expect(twice.length).toBeGreaterThanOrEqual(1);
    expect(twice.length).toBeLessThanOrEqual(2 * 32 * 10);
  });

  it("without call turnover, one long call sends everything to one collector", async () => {
    const collectors = await stubs(2);
    const address = collectors.map((c) => `127.0.0.1:${c.port}`).join(",");
    const { events } = producer(address, 0);
    const sent = await sendUntil(events, () => false, 2000);
    const totals = await events.close();

    expect(totals).toMatchObject({ sent: 2000, stored: 2000, calls: 1 });
    expect(collectors.map((c) => c.received.length).sort()).toEqual([0, sent.length]);
  });
});
