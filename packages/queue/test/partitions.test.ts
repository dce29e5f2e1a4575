import { describe, expect, it } from "vitest";
import { uniqueQueueName } from "../../../test-support/collector.js";
import { useSharedRedis } from "../../../test-support/shared-redis.js";
import {
  adoptPartitionCount,
  ConfigError,
  connectRedis,
  createEnqueuer,
  describeRedis,
  PartitionCountError,
  partitionKeys,
  partitionOf,
  queueKeys,
  readPartitionCount,
  readRedisConnection,
} from "../src/index.js";

const { redis } = useSharedRedis();

describe("partition layout", () => {
  it("one partition is the queue's original layout; more get a hash tag each", () => {
    const [only] = partitionKeys("orders", 1);
    expect(only?.pending).toBe("orders");
    expect(only?.inflight("w1")).toBe(queueKeys("orders").inflight("w1"));
    const layout = partitionKeys("orders", 3);
    expect(layout.map((keys) => keys.pending)).toEqual(["orders:0", "orders:1", "orders:2"]);
    expect(layout.map((keys) => keys.deadLetter)).toEqual([
      "{orders:0}:dead-letter",
      "{orders:1}:dead-letter",
      "{orders:2}:dead-letter",
    ]);
    expect(() => partitionKeys("orders", 0)).toThrow(RangeError);
  });

  it("a key always maps to the same partition, and ids spread evenly", () => {
    // CRC-32 (the zlib one) modulo the count: fixed, so every collector agrees.
    expect(partitionOf("abc", 6)).toBe(0);
    expect(partitionOf("account-1", 6)).toBe(4);
    expect(partitionOf("anything", 1)).toBe(0);
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[partitionOf(`event-${i}`, 6)]!++;
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });
});

describe("partition count", () => {
  it("is recorded, refused while events remain in the recorded layout, and changed once drained", async () => {
    const name = uniqueQueueName("partitions");
    expect(await readPartitionCount(redis, name)).toBe(1);
    await adoptPartitionCount(redis, name, 4);
    expect(await readPartitionCount(redis, name)).toBe(4);
    await adoptPartitionCount(redis, name, 4);

    const layout = partitionKeys(name, 4);
    await createEnqueuer(redis, [layout[2]!]).enqueue(
      [{ eventId: "e1", envelope: Buffer.from("x") }],
      { dedupWindowMs: 0, maxBacklog: 0 },
    );
    const refusal = await adoptPartitionCount(redis, name, 2).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(PartitionCountError);
    expect((refusal as Error).message).toContain(
      `queue "${name}" is split into 4 partition(s) and still holds 1 events`,
    );
    expect(await readPartitionCount(redis, name)).toBe(4);

    await redis.del(layout[2]!.pending);
    await adoptPartitionCount(redis, name, 2);
    expect(await readPartitionCount(redis, name)).toBe(2);
  });

  it("an unpartitioned queue holding events refuses a split", async () => {
    const name = uniqueQueueName("partitions");
    await redis.lpush(queueKeys(name).pending, "x");
    await expect(adoptPartitionCount(redis, name, 3)).rejects.toThrow(PartitionCountError);
    await adoptPartitionCount(redis, name, 1);
  });
});

describe("REDIS_CLUSTER_NODES", () => {
  it("reads seed nodes, keeps the URL's credentials, and names a bad list", () => {
    const connection = readRedisConnection({
      REDIS_URL: "redis://app:secret@ignored:6379",
      REDIS_CLUSTER_NODES: "10.0.0.1:7000, redis-2:7001,[::1]:7002",
    });
    expect(connection.clusterNodes).toEqual([
      { host: "10.0.0.1", port: 7000 },
      { host: "redis-2", port: 7001 },
      { host: "::1", port: 7002 },
    ]);
    expect(describeRedis(connection)).not.toContain("secret");
    expect(() => readRedisConnection({ REDIS_CLUSTER_NODES: "10.0.0.1" })).toThrow(ConfigError);
    const cluster = connectRedis(connection, "writer", { lazyConnect: true });
    expect((cluster as unknown as { isCluster: boolean }).isCluster).toBe(true);
    cluster.disconnect();
  });
});
