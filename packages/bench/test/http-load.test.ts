// The bench's HTTP load generator as `pnpm bench` runs it (dist/http-load.js in a child
// process): its bodies are what the collector's HTTP door accepts, every event exactly once, and
// it fails loudly when an answer is not a 200 that accepted the whole batch.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startTestCollector,
  type TestCollector,
  uniqueQueueName,
} from "../../../test-support/collector.js";
import { useSharedRedis } from "../../../test-support/shared-redis.js";
import { freePort, startNodeProcess, waitForOutput } from "../../testkit/src/index.js";

const { redisUrl, redis } = useSharedRedis();
const LOAD = fileURLToPath(new URL("../dist/http-load.js", import.meta.url));
const SINK = fileURLToPath(new URL("../dist/http-sink-server.js", import.meta.url));

async function runLoad(url: string, count: number) {
  const load = startNodeProcess(
    LOAD,
    ["--url", url, "--count", String(count), "--batch-size", "100", "--in-flight", "2"],
    {},
  );
  const code = await load.exited;
  const output = load.output();
  const last = output.trim().split("\n").pop() ?? "";
  return { code, output, summary: code === 0 ? JSON.parse(last) : undefined };
}

/** A server that answers every request with `status` and `body`. */
async function fakeServer(status: number, body: unknown): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1/events`, server };
}

describe("http-load", () => {
  let collector: TestCollector;
  let queue: string;
  beforeAll(async () => {
    queue = uniqueQueueName("bench_http_load");
    collector = await startTestCollector(redisUrl, queue);
  });
  afterAll(async () => {
    await collector.close();
    await redis.del(queue);
  });

  it("sends every event once to the collector's HTTP door, in batches", async () => {
    const { code, output, summary } = await runLoad(`${collector.httpUrl}/v1/events`, 250);
    expect(code, output).toBe(0);
    expect(summary).toMatchObject({ ok: true, sent: 250, accepted: 250, requests: 3 });
    expect(await redis.llen(queue)).toBe(250);
  });

  it("counts what the no-op fastify sink accepts", async () => {
    const port = await freePort();
    const sink = startNodeProcess(SINK, [String(port)], {});
    try {
      await waitForOutput(sink, "http sink listening");
      const { code, output, summary } = await runLoad(`http://127.0.0.1:${port}/v1/events`, 250);
      expect(code, output).toBe(0);
      expect(summary).toMatchObject({ accepted: 250, requests: 3 });
    } finally {
      await sink.stop();
    }
  });

  it("fails when an answer is not a 200, or accepted less than the batch", async () => {
    for (const [status, body, says] of [
      [503, { error: "busy" }, "HTTP 503"],
      [200, { accepted: 99, rejected: 1, duplicates: 0 }, "accepted 99 of 100"],
    ] as const) {
      const { url, server } = await fakeServer(status, body);
      try {
        const { code, output } = await runLoad(url, 200);
        expect(code).toBe(1);
        expect(output).toContain(says);
      } finally {
        server.closeAllConnections();
        server.close();
      }
    }
  });
});
