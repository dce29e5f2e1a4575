// CloudEvents in and out, end to end: the official SDK's HTTP emitter sends CloudEvents
// (structured and binary mode) to a collector process; a worker process delivers each route's
// events as CloudEvents (binary for one route, structured for the other) to a receiver that
// parses them with the SDK's HTTP.toEvent. Every id is accounted for: acknowledged by the
// collector, stored, received once, with its type, source, data and extensions intact.
import { randomUUID } from "node:crypto";
import { CloudEvent, type CloudEventV1, emitterFor, HTTP, httpTransport, Mode } from "cloudevents";
import { describe, expect, it } from "vitest";
import { newEvent } from "../packages/producer/src/index.js";
import { verifyWebhook } from "../packages/worker/src/index.js";
import { repeated, usePipelineRun } from "../test-support/pipeline-run.js";
import { SECRET } from "../test-support/processor-fixtures.js";
import { freePort } from "../test-support/redis-server.js";

const run = usePipelineRun();

interface Delivered {
  readonly route: string;
  readonly event: CloudEventV1<unknown>;
  readonly signed: boolean;
}

describe("CloudEvents through the pipeline", () => {
  it("SDK events in (structured and binary), CloudEvents out (binary and structured), every id once", async () => {
    const r = run();
    const delivered: Delivered[] = [];
    const receiver = await r.startHttpServer((request, res) => {
      const type = request.headers["content-type"] ?? "";
      let event: CloudEventV1<unknown>;
      try {
        event = HTTP.toEvent({
          headers: request.headers,
          body: type.includes("json") ? request.body.toString("utf8") : request.body,
        }) as CloudEventV1<unknown>;
      } catch (error) {
        res.writeHead(400).end(String(error));
        return;
      }
      delivered.push({
        route: request.url,
        event,
        signed: verifyWebhook(SECRET, request.headers, request.body),
      });
      res.writeHead(204).end();
    });

    const binaryQueue = r.queueName("ce_binary");
    const structuredQueue = r.queueName("ce_structured");
    const otherQueue = r.queueName("ce_default");
    const target = (path: string, format: string) =>
      JSON.stringify({ url: `${receiver.origin}${path}`, format, signingSecret: SECRET });
    const file = r.writePipeline(
      "cloudevents.yaml",
      `routes:
  - { name: binary, types: ["ce.binary.*"], queue: ${binaryQueue} }
  - { name: structured, types: ["ce.structured.*"], queue: ${structuredQueue} }
  - { name: default, types: ["*"], queue: ${otherQueue} }
processors:
  - route: binary
    http: ${target("/binary", "cloudevents-binary")}
  - route: structured
    http: ${target("/structured", "cloudevents-structured")}
`,
    );
    const httpPort = await freePort();
    const [{ address }] = await Promise.all([
      r.startCollector(file, { COLLECTOR_HTTP_LISTEN: `127.0.0.1:${httpPort}` }),
      r.startWorker("cloudevents", file),
    ]);
    const sink = `http://127.0.0.1:${httpPort}/v1/events`;
    const emitters = {
      structured: emitterFor(httpTransport(sink), { mode: Mode.STRUCTURED }),
      binary: emitterFor(httpTransport(sink), { mode: Mode.BINARY }),
    };

    // 40 events: each route gets events sent in both modes.
    const sent = new Map<string, CloudEvent<{ n: number; id: string }>>();
    const acknowledged = new Set<string>();
    for (let n = 0; n < 40; n++) {
      const id = `ce-e2e-${randomUUID()}`;
      const event = new CloudEvent({
        id,
        type: n % 2 === 0 ? "ce.binary.order" : "ce.structured.order",
        source: `/shop/${n}`,
        subject: `order-${n}`,
        region: n % 4 < 2 ? "eu" : "us",
        data: { n, id },
      });
      sent.set(id, event);
      const emit = n % 4 < 2 ? emitters.structured : emitters.binary;
      const answer = (await emit(event)) as { body: string };
      if ((JSON.parse(answer.body) as { accepted: number }).accepted === 1) acknowledged.add(id);
    }
    expect(acknowledged).toEqual(new Set(sent.keys()));

    // One more over gRPC, without a source: it goes out with the documented default.
    const plain = newEvent("ce.binary.plain", { payload: Buffer.from('{"plain":true}') });
    const grpc = await r.send(address, [plain]);
    expect(grpc.acknowledged).toEqual(new Set([plain.eventId]));

    await r.waitUntilDrained(binaryQueue);
    await r.waitUntilDrained(structuredQueue);

    const ids = delivered.map(({ event }) => event.id);
    expect(repeated(ids)).toEqual([]);
    expect(new Set(ids)).toEqual(new Set([...sent.keys(), plain.eventId]));
    for (const { route, event, signed } of delivered) {
      expect(signed).toBe(true);
      if (event.id === plain.eventId) {
        expect(route).toBe("/binary");
        expect(event).toMatchObject({
          type: "ce.binary.plain",
          source: `/eventpipe/${binaryQueue}`,
          datacontenttype: "application/json",
          data: { plain: true },
        });
        continue;
      }
      const original = sent.get(event.id)!;
      expect(route).toBe(original.type === "ce.binary.order" ? "/binary" : "/structured");
      expect(event).toMatchObject({
        specversion: "1.0",
        type: original.type,
        source: original.source,
        subject: original.subject,
        region: original.region,
        time: original.time,
        data: original.data,
      });
    }

    for (const [queue, prefix] of [
      [binaryQueue, "ce.binary."],
      [structuredQueue, "ce.structured."],
    ] as const) {
      const mine = [...sent.values()].filter((event) => event.type.startsWith(prefix));
      const handled = delivered
        .filter(({ event }) => event.type.startsWith(prefix))
        .map(({ event }) => event.id);
      const queueIds = mine.map((event) => event.id);
      if (queue === binaryQueue) queueIds.push(plain.eventId);
      const { verdict } = await r.account(
        queue,
        { sent: queueIds, acknowledged: queueIds },
        handled,
      );
      expect(verdict.problems).toEqual([]);
    }
    expect((await r.audit(otherQueue)).stored.size).toBe(0);
  });
});
