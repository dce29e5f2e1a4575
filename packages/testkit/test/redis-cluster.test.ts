// A real three-primary, three-replica Redis Cluster: keys tagged for each primary land where
// primaryFor says, and after a primary is killed one of its replicas takes over its slots with
// the data it had, so a cluster client writes and reads them again.
import { existsSync } from "node:fs";
import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClusterNode, type RedisCluster, startRedisCluster } from "../src/index.js";

// Memory-backed where possible, as for every test Redis (test-support/redis-server.ts).
const baseDir = existsSync("/dev/shm") ? "/dev/shm" : undefined;

let cluster: RedisCluster;
let client: Cluster;
/** One hash tag per primary. */
let tags: { tag: string; primary: ClusterNode }[];

beforeAll(async () => {
  const started = performance.now();
  cluster = await startRedisCluster({ baseDir });
  process.stdout.write(`[redis-cluster] 3x1 cluster ready in ${elapsedMs(started)} ms\n`);
  client = new Cluster(
    cluster.nodes.map((node) => ({ host: "127.0.0.1", port: node.port })),
    {
      retryDelayOnFailover: 50,
      retryDelayOnClusterDown: 50,
      redisOptions: { connectTimeout: 1000 },
    },
  );
  tags = await tagPerPrimary(cluster);
});

afterAll(async () => {
  client?.disconnect();
  await cluster?.destroy();
});

describe("startRedisCluster", () => {
  it("starts three primaries, each serving the keys primaryFor assigns to it", async () => {
    expect(cluster.seeds.split(",")).toHaveLength(6);
    const primaries = await cluster.primaries();
    expect(primaries).toEqual(cluster.nodes.slice(0, 3));
    expect(new Set(tags.map(({ primary }) => primary))).toEqual(new Set(primaries));

    for (const { tag, primary } of tags) {
      await client.set(`{${tag}}:key`, `value of ${tag}`);
      expect(await client.get(`{${tag}}:key`)).toBe(`value of ${tag}`);
      // Asked directly, the primary has it rather than answering MOVED.
      const direct = new Redis(primary.port, "127.0.0.1");
      try {
        expect(await direct.get(`{${tag}}:key`)).toBe(`value of ${tag}`);
      } finally {
        direct.disconnect();
      }
    }
  });

  it("kills a primary: a former replica takes over its slots and their data", async () => {
    const { tag, primary: victim } = tags[0]!;
    const primariesBefore = await cluster.primaries();
    const formerReplicas = cluster.nodes.filter((node) => !primariesBefore.includes(node));
    await confirmReplicated(victim, `{${tag}}:before`, "written before the kill");

    const started = performance.now();
    const promoted = await cluster.killPrimary(victim);
    process.stdout.write(`[redis-cluster] failover took ${elapsedMs(started)} ms\n`);

    expect(formerReplicas).toContain(promoted);
    expect(await cluster.primaryFor(`{${tag}}:key`)).toBe(promoted);
    const primaries = await cluster.primaries();
    expect(primaries).toContain(promoted);
    expect(primaries).not.toContain(victim);

    expect(await client.get(`{${tag}}:before`)).toBe("written before the kill");
    await client.set(`{${tag}}:after`, "written after the failover");
    expect(await client.get(`{${tag}}:after`)).toBe("written after the failover");
    expect((await cluster.cpuSeconds()).has(victim.port)).toBe(false);
  });
});

/** Hash tags tried in turn until each primary has one; bounded by the tags tried. */
async function tagPerPrimary(cluster: RedisCluster) {
  const found = new Map<ClusterNode, string>();
  for (let i = 0; i < 100 && found.size < 3; i++) {
    const primary = await cluster.primaryFor(`{tag-${i}}`);
    if (!found.has(primary)) found.set(primary, `tag-${i}`);
  }
  expect(found.size).toBe(3);
  return [...found].map(([primary, tag]) => ({ tag, primary }));
}

/** Writes `key` on `primary` itself and waits (bounded) until its replica acknowledged it. */
async function confirmReplicated(primary: ClusterNode, key: string, value: string) {
  const direct = new Redis(primary.port, "127.0.0.1");
  try {
    await direct.set(key, value);
    expect(await direct.wait(1, 5000)).toBe(1);
  } finally {
    direct.disconnect();
  }
}

function elapsedMs(since: number): number {
  return Math.round(performance.now() - since);
}
