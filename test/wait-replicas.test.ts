// REDIS_WAIT_REPLICAS: the collector acknowledges a chunk only once a replica confirmed it, so
// every acknowledged id is on the replica, checked by id; with the replica gone, nothing is
// acknowledged (UNAVAILABLE, 503), and once it is back the resent events are acknowledged.
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { createProducer, newEvent } from "../packages/producer/src/index.js";
import { decodeEnvelope, queueKeys } from "../packages/queue/src/index.js";
import { until } from "../packages/testkit/src/index.js";
import { startTestCollector, uniqueQueueName } from "../test-support/collector.js";
import { type RedisServer, startRedisServer } from "../test-support/redis-server.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(extraArgs: string[] = []): Promise<{ server: RedisServer; client: Redis }> {
  const started = await startRedisServer({ extraArgs });
  const client = new Redis(started.url, { maxRetriesPerRequest: null });
  client.on("error", () => {});
  cleanups.push(async () => {
    client.disconnect();
    await started.destroy();
  });
  return { server: started, client };
}

/** Event ids in a queue's pending list on one server. */
async function storedIds(client: Redis, queue: string): Promise<Set<string>> {
  const raw = await client.lrangeBuffer(queueKeys(queue).pending, 0, -1);
  return new Set(raw.map((entry) => decodeEnvelope(entry).stored.event!.eventId));
}

describe("REDIS_WAIT_REPLICAS", () => {
  it("acknowledges only what a replica confirmed; without the replica nothing is acknowledged", async () => {
    const primary = await server();
    const replica = await server(["--replicaof", "127.0.0.1", String(primary.server.port)]);
    // Both sides: the replica says its link is up as soon as the sync is loaded, but the
    // primary counts it for WAIT only once it marked it online (after its first ack).
    const linkUp = async () =>
      /master_link_status:up/.test(await replica.client.info("replication")) &&
      /slave0:.*state=online/.test(await primary.client.info("replication"));
    await until("the replica to sync", linkUp, 15_000);

    const queue = uniqueQueueName("replicated");
    const collector = await startTestCollector(primary.server.url, queue, {
      REDIS_WAIT_REPLICAS: "1",
      // The default: on a busy machine a replica's ack can take longer than a short timeout,
      // and then even the resend with the replica back is refused.
      REDIS_WAIT_TIMEOUT_MS: "2000",
    });
    cleanups.push(() => collector.close());

    // Every acknowledged event is on the replica. (Replication is quick, so this part would
    // mostly pass without WAIT too; the outage below is what only WAIT makes right.)
    const acknowledged: string[] = [];
    let notOnReplica = 0;
    const producer = createProducer({
      address: collector.address,
      batchSize: 200,
      onAck: (events) => {
        for (const event of events) acknowledged.push(event.eventId);
      },
    });
    const sent = Array.from({ length: 5000 }, () => newEvent("replicated"));
    for (const event of sent) await producer.send(event);
    await producer.close();
    const onReplica = await storedIds(replica.client, queue);
    for (const id of acknowledged) if (!onReplica.has(id)) notOnReplica++;
    expect(notOnReplica).toBe(0);
    expect(new Set(acknowledged)).toEqual(new Set(sent.map((event) => event.eventId)));

    // The replica gone: stored on the primary perhaps, but not acknowledged.
    await replica.server.kill();
    const late = [newEvent("replicated"), newEvent("replicated")];
    const refused = await fetch(`${collector.httpUrl}/v1/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(late.map((event) => ({ eventId: event.eventId, type: event.type }))),
    });
    expect(refused.status).toBe(503);
    expect(await refused.text()).toMatch(/replicas did not confirm/);

    // Back: the resend is acknowledged (dedup keeps one copy on the primary), and it is on the
    // replica.
    await replica.server.start();
    await until("the replica to sync again", linkUp, 15_000);
    const resent = await fetch(`${collector.httpUrl}/v1/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(late.map((event) => ({ eventId: event.eventId, type: event.type }))),
    });
    const answer = await resent.text();
    expect({ status: resent.status, answer }).toMatchObject({ status: 200 });
    const summary = JSON.parse(answer) as { accepted: number; duplicates: number };
    expect(summary.accepted + summary.duplicates).toBe(2);
    const replicated = await storedIds(replica.client, queue);
    for (const event of late) expect(replicated.has(event.eventId)).toBe(true);
    expect((await storedIds(primary.client, queue)).size).toBe(5002);
  });
});
