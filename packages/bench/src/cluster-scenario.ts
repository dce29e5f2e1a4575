// One run of the `cluster` group on a local Redis Cluster: a collector with QUEUE_PARTITIONS=P
// stores `events` from one producer while no worker runs (ingest); then it stops and one
// worker empties every partition (drain). Around each phase every node's CPU is read, and
// where each partition's events landed, so Redis CPU per event can be told per primary.
import { existsSync } from "node:fs";
import {
  connectRedis,
  partitionKeys,
  type QueueKeys,
  type QueueStats,
  readQueueStats,
  readRedisConnection,
} from "@eventpipe/queue";
import {
  askNode,
  type ClusterNode,
  type RedisCluster,
  startRedisCluster,
} from "@eventpipe/testkit";
import type { Redis } from "ioredis";
import { COLLECTOR, FAST_WORKER, newQueue, runProducers, WORKER } from "./bench-services.js";
import { type Child, freePort, start, until, waitForOutput } from "./processes.js";

const DRAIN_LIMIT_MS = 300_000;
/** The layouts the group compares, in the same rounds. */
export const PARTITION_COUNTS = [1, 3] as const;
export type Partitions = (typeof PARTITION_COUNTS)[number];
/** Fresh names drawn until a layout spreads; each has a 2/9 chance with 3 partitions on 3. */
const NAME_TRIES = 200;

export interface BenchCluster {
  readonly cluster: RedisCluster;
  readonly primaries: readonly ClusterNode[];
  /** The primary's port of each replica, by the replica's port. */
  readonly primaryOfReplica: ReadonlyMap<number, number>;
  /** A Cluster client (typed as Redis) for the benchmark's own reads. */
  readonly client: Redis;
  close(): Promise<void>;
}

/** 3 primaries + 3 replicas, in /dev/shm when there is one (their AOF then costs no disk). */
export async function startBenchCluster(): Promise<BenchCluster> {
  const cluster = await startRedisCluster({
    primaries: 3,
    replicasPerPrimary: 1,
    baseDir: existsSync("/dev/shm") ? "/dev/shm" : undefined,
  });
  try {
    const primaries = await cluster.primaries();
    const primaryOfReplica = new Map<number, number>();
    for (const node of cluster.nodes) {
      const [role, , primaryPort] = await askNode(node.port, (redis) => redis.role());
      if (role !== "master") primaryOfReplica.set(node.port, Number(primaryPort));
    }
    const client = connectRedis(
      readRedisConnection({ REDIS_CLUSTER_NODES: cluster.seeds }),
      "commands",
    );
    client.on("error", () => {});
    return {
      cluster,
      primaries,
      primaryOfReplica,
      client,
      async close() {
        client.disconnect();
        await cluster.destroy();
      },
    };
  } catch (error) {
    await cluster.destroy();
    throw error;
  }
}

export interface PhaseFigures {
  readonly perSecond: number;
  /** CPU seconds each node used during the phase, by port. */
  readonly cpuSeconds: ReadonlyMap<number, number>;
  /** Events each primary held in the phase (stored, then processed), by port. */
  readonly eventsOn: ReadonlyMap<number, number>;
}

export interface ClusterRunFigures {
  /** The primary's port of each partition, partition 0 first. */
  readonly partitionPrimaries: readonly number[];
  readonly ingest: PhaseFigures;
  readonly drain: PhaseFigures;
}

export async function clusterRun(
  bench: BenchCluster,
  events: number,
  partitions: number,
): Promise<ClusterRunFigures> {
  const { name, layout, partitionPrimaries } = await spreadQueue(bench, partitions);
  const env = {
    REDIS_CLUSTER_NODES: bench.cluster.seeds,
    QUEUE_NAME: name,
    QUEUE_PARTITIONS: String(partitions),
  };
  const children: Child[] = [];
  try {
    const port = await freePort();
    const collector = start(COLLECTOR, [], {
      ...env,
      COLLECTOR_LISTEN: `127.0.0.1:${port}`,
      COLLECTOR_HTTP_LISTEN: "",
      LOG_LEVEL: "info",
    });
    children.push(collector);
    await waitForOutput(collector, "collector listening", 30_000);
    let before = await bench.cluster.cpuSeconds();
    // Every sample event has a fresh UUID and no partition key: the ids spread them.
    const run = await runProducers(`127.0.0.1:${port}`, events, 1, "batch");
    const ingestCpu = used(before, await bench.cluster.cpuSeconds());
    await collector.stop();
    const stored = (await statsOf(bench.client, layout)).map((stats) => stats.pending);
    if (run.stored !== events || sum(stored) !== events) {
      throw new Error(`stored ${run.stored}, queued ${sum(stored)} of ${events} in ${name}`);
    }

    before = await bench.cluster.cpuSeconds();
    // Timed from the worker's start, as the core group's drain is.
    const started = performance.now();
    children.push(start(WORKER, [], { ...env, WORKER_ID: `${name}-w0`, ...FAST_WORKER }));
    let last: QueueStats[] = [];
    await until(
      `${name} to drain`,
      async () => {
        last = await statsOf(bench.client, layout);
        return last.every((stats) => stats.pending === 0 && stats.inFlight === 0);
      },
      DRAIN_LIMIT_MS,
    );
    const seconds = (performance.now() - started) / 1000;
    const drainCpu = used(before, await bench.cluster.cpuSeconds());
    const processed = last.map((stats) => stats.processed);
    if (sum(processed) !== events) {
      throw new Error(`processed ${sum(processed)} of ${events} in ${name}`);
    }
    return {
      partitionPrimaries,
      ingest: {
        perSecond: events / run.seconds,
        cpuSeconds: ingestCpu,
        eventsOn: byPrimary(partitionPrimaries, stored),
      },
      drain: {
        perSecond: events / seconds,
        cpuSeconds: drainCpu,
        eventsOn: byPrimary(partitionPrimaries, processed),
      },
    };
  } finally {
    await Promise.all(children.map((child) => child.stop()));
    // Every run starts on empty nodes, as the core group's runs do; replicas follow.
    await Promise.all(bench.primaries.map((node) => askNode(node.port, (r) => r.flushall())));
  }
}

/**
 * A fresh queue name whose partitions land on different primaries (as many as there are
 * partitions, up to the primaries): the slot follows the name, so names are drawn until one does.
 */
async function spreadQueue(bench: BenchCluster, partitions: number) {
  const wanted = Math.min(partitions, bench.primaries.length);
  for (let i = 0; i < NAME_TRIES; i++) {
    const name = newQueue(`cluster_p${partitions}`);
    const layout = partitionKeys(name, partitions);
    const partitionPrimaries: number[] = [];
    for (const keys of layout) {
      partitionPrimaries.push((await bench.cluster.primaryFor(keys.pending)).port);
    }
    if (new Set(partitionPrimaries).size === wanted) return { name, layout, partitionPrimaries };
  }
  throw new Error(`no queue name of ${NAME_TRIES} spread ${partitions} partitions over ${wanted}`);
}

function statsOf(client: Redis, layout: readonly QueueKeys[]): Promise<QueueStats[]> {
  return Promise.all(layout.map((keys) => readQueueStats(client, keys)));
}

/** What each node used between two readings; a node missing from either is left out. */
function used(
  before: ReadonlyMap<number, number>,
  after: ReadonlyMap<number, number>,
): Map<number, number> {
  const delta = new Map<number, number>();
  for (const [port, seconds] of after) {
    const start = before.get(port);
    if (start !== undefined) delta.set(port, seconds - start);
  }
  return delta;
}

function byPrimary(partitionPrimaries: readonly number[], counts: readonly number[]) {
  const totals = new Map<number, number>();
  partitionPrimaries.forEach((port, p) => {
    totals.set(port, (totals.get(port) ?? 0) + (counts[p] ?? 0));
  });
  return totals;
}

export const sum = (values: readonly number[]) => values.reduce((total, n) => total + n, 0);
