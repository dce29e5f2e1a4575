// The pipeline on a real Redis Cluster (test-support/cluster-run.ts: three primaries and three
// replicas on loopback, six queue partitions) and the ledger by event id: WAIT reaching the
// node that ran the write; 100,000 events spread over every primary; Calls answered through
// the cluster's pub/sub; what needs one node refused at start; then a primary killed mid-run
// after its replica fell behind, with REDIS_WAIT_REPLICAS=1 (no acknowledged event may be
// lost) and without it (the test prints how many were: Redis replicates asynchronously, so a
// write acknowledged by a primary that dies before sending it on is gone with it).
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { spawnService } from "../packages/faults/src/index.js";
import { newEvent } from "../packages/producer/src/index.js";
import { connectRedis, createEnqueuer, readRedisConnection } from "../packages/queue/src/index.js";
import { askNode, until } from "../packages/testkit/src/index.js";
import {
  drainAndCheck,
  producerFor,
  replicaOf,
  replicationOf,
  startCollector,
  startWorker,
  useClusterRun,
} from "../test-support/cluster-run.js";
import { freePort } from "../test-support/redis-server.js";

const run = useClusterRun();

describe("Redis Cluster", () => {
  it("WAIT reaches the primary that ran the write: a stopped replica leaves it unconfirmed, even after the script cache was flushed", async () => {
    const current = run();
    const writer = connectRedis(readRedisConnection(current.env), "writer");
    writer.on("error", () => {});
    // The writer has no offline queue: commands before the cluster is ready fail at once.
    await once(writer, "ready", { signal: AbortSignal.timeout(10_000) });
    const keys = current.layout[0]!;
    const primary = await current.cluster.primaryFor(keys.pending);
    const replica = await replicaOf(current, primary.port);
    const enqueuer = createEnqueuer(writer, [keys]);
    let sequence = 0;
    const store = () =>
      enqueuer.enqueue([{ eventId: `wait-${sequence++}`, envelope: Buffer.from("e") }], {
        dedupWindowMs: 0,
        maxBacklog: 0,
        waitReplicas: { count: 1, timeoutMs: 300 },
      });
    try {
      expect(await store()).toMatchObject({ stored: 1, replicas: 1 });
      replica.server.signal("SIGSTOP");
      expect(await store()).toMatchObject({ stored: 1, replicas: 0 });
      // The script is loaded again after NOSCRIPT; WAIT must still follow the write.
      await askNode(primary.port, (redis) => redis.script("FLUSH"));
      expect(await store()).toMatchObject({ stored: 1, replicas: 0 });
      replica.server.signal("SIGCONT");
      expect(await store()).toMatchObject({ stored: 1, replicas: 1 });
    } finally {
      replica.server.signal("SIGCONT");
      writer.disconnect();
    }
  }, 60_000);

  it("six partitions over three primaries: 100,000 events, every id stored and handled once", async () => {
    const current = run();
    const total = 100_000;
    const primaries = new Set(
      await Promise.all(
        current.layout.map(async (keys) => (await current.cluster.primaryFor(keys.pending)).port),
      ),
    );
    expect(primaries.size).toBe(3);

    const port = await startCollector(current);
    startWorker(current, "w1");
    const producer = producerFor(current, port);
    for (let i = 0; i < total; i++) {
      const event = newEvent("order.placed", { partitionKey: `account-${i % 64}` });
      current.ledger.sent.add(event.eventId);
      await producer.send(event);
    }
    const totals = await producer.close();
    expect(totals).toMatchObject({ sent: total, rejected: 0 });

    const verdict = await drainAndCheck(current, "cluster, 6 partitions");
    expect(verdict.problems).toEqual([]);
    expect(verdict.counts).toMatchObject({
      sent: total,
      acknowledged: total,
      stored: total,
      handled: total,
    });
  }, 240_000);

  it("what needs one Redis node is refused at start with a clear error, not at each write", async () => {
    const current = run();
    const pipeline = join(current.dir, "pipeline.yaml");
    writeFileSync(
      pipeline,
      [
        "routes:",
        `  - { name: orders, types: ["order.*"], queues: [${current.queue}_a, ${current.queue}_b] }`,
        `  - { name: default, types: ["*"], queue: ${current.queue} }`,
        "processors:",
        "  - route: default",
        `    http: { url: "http://127.0.0.1:9/", timeoutMs: 1000 }`,
        `    results: { queue: ${current.queue}_results, when: [onSuccess] }`,
      ].join("\n"),
    );
    const env = { ...current.env, EVENTPIPE_CONFIG: pipeline, LOG_LEVEL: "warn" };
    const collector = spawnService("collector", {
      ...env,
      COLLECTOR_LISTEN: "127.0.0.1:0",
      COLLECTOR_HTTP_LISTEN: "",
    });
    const worker = spawnService("worker", env);
    current.processes.push(collector, worker);
    expect(await collector.exited).not.toBe(0);
    expect(collector.output()).toContain('route "orders" fans out to');
    expect(await worker.exited).not.toBe(0);
    expect(worker.output()).toContain("results queues need a single Redis node");
  }, 60_000);

  it("request and reply across partitions: every Call is answered through the cluster's pub/sub", async () => {
    const current = run();
    const handler = join(current.dir, "answer.mjs");
    writeFileSync(
      handler,
      'export default async (event) => ({ outcome: "success", body: Buffer.from("answer " + event.eventId) });\n',
    );
    const httpPort = await freePort();
    await startCollector(current, { COLLECTOR_HTTP_LISTEN: `127.0.0.1:${httpPort}` });
    const worker = spawnService("worker", { ...current.env, WORKER_HANDLER: handler });
    current.processes.push(worker);
    const calls = Array.from({ length: 60 }, async (_, i) => {
      const response = await fetch(`http://127.0.0.1:${httpPort}/v1/call`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ eventId: `call-${i}`, type: "quote.requested" }),
        signal: AbortSignal.timeout(30_000),
      });
      return [response.status, await response.text()] as const;
    });
    const answers = await Promise.all(calls);
    expect(answers).toEqual(answers.map((_, i) => [200, `answer call-${i}`]));
  }, 60_000);

  for (const waitReplicas of [1, 0]) {
    it(`a primary killed mid-run, its replica promoted, REDIS_WAIT_REPLICAS=${waitReplicas}`, async () => {
      const current = run();
      const total = 30_000;
      const victim = await current.cluster.primaryFor(current.layout[0]!.pending);
      const port = await startCollector(current, {
        REDIS_WAIT_REPLICAS: String(waitReplicas),
        REDIS_WAIT_TIMEOUT_MS: "1000",
      });
      startWorker(current, "w1");
      const producer = producerFor(current, port);
      // 2 KiB payloads: the writes a paused replica misses then outgrow the socket buffers
      // between it and its primary, which would otherwise still hand them over after the kill.
      const payload = Buffer.alloc(2048, 0x61);
      const sending = (async () => {
        for (let i = 0; i < total; i++) {
          const event = newEvent("order.placed", { partitionKey: `account-${i % 64}`, payload });
          current.ledger.sent.add(event.eventId);
          await producer.send(event);
          // A steady flow, so that the kill lands with writes in flight.
          if (i % 1000 === 999) await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return producer.close();
      })();
      await until(
        "a third of the events acknowledged",
        () => current.ledger.acknowledged.size >= total / 3,
        60_000,
      );
      // The replica falls behind before its primary dies: with WAIT the collector stops
      // acknowledging (its WAITs time out and the producer starts resending); without it the
      // writes go on and are acknowledged, 10,000 of them past what the replica's socket
      // buffers could hold, and the failover then loses them.
      const ackedAtPause = { count: 0 };
      const promoted = await current.cluster.killPrimary(victim, {
        whileReplicasPaused: async () => {
          ackedAtPause.count = current.ledger.acknowledged.size;
          await until(
            "writes the replica has not got",
            () =>
              waitReplicas > 0
                ? producer.totals.reconnects > 0
                : current.ledger.acknowledged.size >= ackedAtPause.count + 10_000,
            30_000,
          );
        },
      });
      // The old primary comes back as the new one's replica, as an orchestrator would restart
      // it. Until then the shard has no replica, and with REDIS_WAIT_REPLICAS=1 the collector
      // refuses writes (UNAVAILABLE; the producer resends) rather than acknowledge unreplicated ones.
      await victim.server.start();
      await until(
        "the old primary replicating from the new one",
        async () => /master_link_status:up/.test(await replicationOf(victim.port)),
        30_000,
        100,
      );
      const totals = await sending;
      expect(totals.sent).toBe(total);

      const verdict = await drainAndCheck(
        current,
        `cluster, primary ${victim.port} killed, replica ${promoted.port} promoted, REDIS_WAIT_REPLICAS=${waitReplicas}`,
      );
      const lost = [...current.ledger.acknowledged].filter(
        (id) => !current.ledger.handled.has(id) && !current.ledger.deadLettered.has(id),
      );
      process.stdout.write(
        `[redis-cluster] REDIS_WAIT_REPLICAS=${waitReplicas}: ${lost.length} acknowledged events lost of ${current.ledger.acknowledged.size}; producer ${JSON.stringify({ ...totals, rejections: undefined })}\n`,
      );
      if (waitReplicas > 0) {
        expect(lost).toEqual([]);
        expect(verdict.problems).toEqual([]);
      }
      // Either way nothing was handled that was never sent, and nothing is left behind.
      const kinds = verdict.problems.map((problem) => problem.kind);
      expect(kinds).not.toContain("stored-never-sent");
      expect(kinds).not.toContain("still-queued");
    }, 240_000);
  }
});
