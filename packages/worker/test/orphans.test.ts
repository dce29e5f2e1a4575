// A worker whose in-flight hash holds entries it does not hold (as after a failover to a
// replica that missed its latest acks) puts them back in the queue and processes them, while
// the events it really holds are left alone.
import { describe, expect, it } from "vitest";
import { uniqueQueueName } from "../../../test-support/collector.js";
import { useSharedRedis } from "../../../test-support/shared-redis.js";
import { startTestWorker } from "../../../test-support/worker.js";
import { newEvent } from "../../producer/src/index.js";
import { encodeNewEvent, queueKeys, readQueueStats } from "../../queue/src/index.js";

const { redisUrl, redis } = useSharedRedis();

describe("entries a worker does not hold", () => {
  it("go back to the queue and run again; events in progress stay where they are", async () => {
    const queue = uniqueQueueName("orphans");
    const keys = queueKeys(queue);
    const handled: string[] = [];
    let releaseSlow: (() => void) | undefined;
    const slowDone = new Promise<void>((resolve) => {
      releaseSlow = resolve;
    });
    const slow = newEvent("slow");
    const { worker, close } = await startTestWorker(
      redisUrl,
      queue,
      async (event) => {
        if (event.eventId === slow.eventId) await slowDone;
        handled.push(event.eventId);
      },
      { WORKER_ID: `${queue}-w`, WORKER_LEASE_MS: "3000" },
    );
    try {
      await redis.lpush(keys.pending, encodeNewEvent(slow, Date.now()));
      await expect.poll(() => worker.inFlight, { timeout: 10_000 }).toBe(1);
      // Two entries under sequences the worker finished long ago, as a lagging replica would
      // restore them.
      const strays = [newEvent("stray"), newEvent("stray")];
      await redis.hset(
        keys.inflight(`${queue}-w`),
        "1",
        encodeNewEvent(strays[0]!, Date.now()),
        "2",
        encodeNewEvent(strays[1]!, Date.now()),
      );
      await expect
        .poll(() => handled.filter((id) => id !== slow.eventId).sort(), { timeout: 15_000 })
        .toEqual(strays.map((event) => event.eventId).sort());
      // The slow event was never taken from the worker that holds it.
      expect(handled).not.toContain(slow.eventId);
      expect(await redis.hlen(keys.inflight(`${queue}-w`))).toBe(1);
      releaseSlow?.();
      await expect.poll(() => handled.length, { timeout: 10_000 }).toBe(3);
      // The last ack is flushed a moment after its handler resolved.
      await expect
        .poll(() => readQueueStats(redis, keys), { timeout: 10_000 })
        .toMatchObject({ pending: 0, inFlight: 0, processed: 3, recovered: 2 });
    } finally {
      releaseSlow?.();
      await close();
    }
  });
});
