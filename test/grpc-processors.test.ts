// A gRPC processor end to end: the echo processor as a process, killed mid-run and restarted,
// and every event id accounted for by the ledger and the results queue.
import { describe, expect, it } from "vitest";
import { queueKeys, readQueueStats } from "../packages/queue/src/index.js";
import { usePipelineRun } from "../test-support/pipeline-run.js";
import { expectNothingHeld, loginEvents } from "../test-support/processor-fixtures.js";
import { freePort } from "../test-support/redis-server.js";

const run = usePipelineRun();

describe("gRPC processor, end to end", () => {
  it("the echo processor killed with SIGKILL mid-run and restarted on its port loses nothing", async () => {
    const r = run();
    const port = await freePort();
    const queue = r.queueName("echo_events");
    const results = r.queueName("echo_results");
    const file = r.writePipeline(
      "echo.yaml",
      `routes:
  - { name: default, types: ["*"], queue: ${queue} }
processors:
  - route: default
    grpc: { address: "127.0.0.1:${port}", timeoutMs: 10000 }
    concurrency: 10
    results: { queue: ${results}, when: [onSuccess] }
`,
    );
    let echo = await r.startEchoProcessor(port);
    const [{ address }] = await Promise.all([
      r.startCollector(file),
      // Attempts to spare: while the processor is down every call fails at once, and an event
      // may go round many times; the test is about losing nothing, not about giving up.
      r.startWorker("echo", file, {
        MAX_ATTEMPTS: "100",
        RETRY_BASE_DELAY_MS: "50",
        RETRY_MAX_DELAY_MS: "500",
      }),
    ]);

    const total = 500;
    // Each answer takes 50 ms and the worker asks 10 at a time: the run lasts long enough for
    // the processor to die in the middle of it.
    const events = loginEvents(total).map((event, i) => ({
      ...event,
      type: i % 2 === 0 ? "page_view" : "user_login",
      attributes: { "echo.delay-ms": "50", "content-type": "application/json" },
    }));
    const sending = r.send(address, events);
    await r.until("100 results", async () => (await r.redis.llen(results)) >= 100, 30_000);
    echo.signal("SIGKILL");
    await echo.exited;
    // Answers still on their way may land after the kill, but no new ones: events remain.
    expect(await r.redis.llen(results)).toBeLessThan(total);
    echo = await r.startEchoProcessor(port);

    const sent = await sending;
    expect(sent.acknowledged).toEqual(new Set(sent.sent));
    await r.waitUntilDrained(queue, 45_000);

    const stored = await r.readQueue(results);
    const resultIds = stored.map((event) => event.eventId);
    const { verdict } = await r.account(queue, sent, resultIds);
    expect(verdict.problems).toEqual([]);
    // Exactly once in the results queue: the ack and the result are one step.
    expect(verdict.counts).toMatchObject({
      acknowledged: total,
      handled: total,
      duplicates: 0,
      deadLettered: 0,
    });
    expect(new Set(resultIds)).toEqual(sent.acknowledged);
    const payloads = new Map(events.map((event) => [event.eventId, event.payload]));
    for (const result of stored) {
      expect(Buffer.from(result.payload)).toEqual(payloads.get(result.eventId));
      expect(result.attributes).toMatchObject({
        "eventpipe.outcome": "success",
        "eventpipe.route": "default",
      });
    }
    await expectNothingHeld(r, queue);
    // The kill really cut calls off: some events went round again.
    const stats = await readQueueStats(r.redis, queueKeys(queue));
    expect(stats.retried).toBeGreaterThan(0);
    expect(stats.processed).toBe(total);
  });
});
