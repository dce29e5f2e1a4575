// One pipeline run on a real Redis Cluster per test (3 primaries, 3 replicas on loopback, in
// memory where possible): the services' environment for it (REDIS_CLUSTER_NODES, six queue
// partitions, a queue of its own), collector and worker processes, a producer that records
// acknowledgements in the ledger, and the checks by event id once every partition drained.
// Everything a test starts is stopped in afterEach.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterEach, beforeEach } from "vitest";
import {
  formatVerdict,
  Ledger,
  type LedgerVerdict,
  RECORDING_HANDLER,
  recordOutcome,
  type ServiceProcess,
  spawnService,
  startCollectorProcess,
  waitUntilDrained,
} from "../packages/faults/src/index.js";
import { createProducer, type Producer } from "../packages/producer/src/index.js";
import {
  connectRedis,
  partitionKeys,
  type QueueKeys,
  readRedisConnection,
} from "../packages/queue/src/index.js";
import {
  askNode,
  type ClusterNode,
  type RedisCluster,
  startRedisCluster,
} from "../packages/testkit/src/index.js";
import { uniqueQueueName } from "./collector.js";
import { freePort } from "./redis-server.js";

export const PARTITIONS = 6;

export interface ClusterRun {
  readonly cluster: RedisCluster;
  /** A cluster client (commands role) for checks. */
  readonly redis: Redis;
  readonly dir: string;
  readonly queue: string;
  readonly layout: readonly QueueKeys[];
  readonly recordFile: string;
  readonly ledger: Ledger;
  /** REDIS_CLUSTER_NODES, QUEUE_PARTITIONS and QUEUE_NAME for the services. */
  readonly env: Record<string, string>;
  /** Processes to kill after the test. */
  readonly processes: ServiceProcess[];
}

/** Registers setup and cleanup hooks; call the returned function inside a test. */
export function useClusterRun(): () => ClusterRun {
  let run: ClusterRun | undefined;
  beforeEach(async () => {
    const cluster = await startRedisCluster({
      baseDir: existsSync("/dev/shm") ? "/dev/shm" : undefined,
    });
    const dir = mkdtempSync(join(tmpdir(), "eventpipe-cluster-"));
    const env = {
      REDIS_CLUSTER_NODES: cluster.seeds,
      QUEUE_PARTITIONS: String(PARTITIONS),
    };
    const redis = connectRedis(readRedisConnection(env), "commands");
    redis.on("error", () => {});
    const queue = uniqueQueueName("cluster");
    run = {
      cluster,
      redis,
      dir,
      queue,
      layout: partitionKeys(queue, PARTITIONS),
      recordFile: join(dir, "handled.log"),
      ledger: new Ledger(),
      env: { ...env, QUEUE_NAME: queue },
      processes: [],
    };
  });

  afterEach(async () => {
    if (run === undefined) return;
    for (const proc of run.processes) proc.signal("SIGKILL");
    await Promise.all(run.processes.map((proc) => proc.exited));
    run.redis.disconnect();
    await run.cluster.destroy();
    rmSync(run.dir, { recursive: true, force: true });
    run = undefined;
  });
  return () => {
    if (run === undefined) throw new Error("useClusterRun(): call it inside a test");
    return run;
  };
}

/** A collector process on a free port; resolves its port once it listens. */
export async function startCollector(current: ClusterRun, env: Record<string, string> = {}) {
  const port = await freePort();
  const proc = await startCollectorProcess(port, { ...current.env, ...env }, 20_000);
  current.processes.push(proc);
  return port;
}

/** A worker process with the recording handler. */
export function startWorker(current: ClusterRun, id: string) {
  const proc = spawnService("worker", {
    ...current.env,
    WORKER_ID: id,
    WORKER_HANDLER: RECORDING_HANDLER,
    TEST_RECORD_FILE: current.recordFile,
    WORKER_CONCURRENCY: "240",
    WORKER_BATCH_SIZE: "200",
    WORKER_LEASE_MS: "5000",
    WORKER_BLOCK_TIMEOUT_MS: "200",
    LOG_LEVEL: "warn",
  });
  current.processes.push(proc);
  return proc;
}

/** A producer whose acknowledgements go into the ledger. */
export function producerFor(current: ClusterRun, port: number): Producer {
  return createProducer({
    address: `127.0.0.1:${port}`,
    batchSize: 200,
    // A failover takes seconds: the producer keeps resending what was not acknowledged.
    retryForMs: 60_000,
    onAck(events, rejections) {
      const rejected = new Set(rejections.map((rejection) => rejection.index));
      current.ledger.recordAcknowledged(
        events.flatMap((event, i) => (rejected.has(i) ? [] : [event.eventId])),
      );
    },
  });
}

/** INFO replication of a node, "" when it does not answer. */
export async function replicationOf(port: number): Promise<string> {
  return askNode(port, (node) => node.info("replication")).catch(() => "");
}

/** Waits until every partition drained, then checks the ledger by id and prints it. */
export async function drainAndCheck(current: ClusterRun, scenario: string): Promise<LedgerVerdict> {
  const { redis, layout: keys, recordFile } = current;
  await waitUntilDrained(redis, keys, 90_000);
  await recordOutcome(current.ledger, { redis, keys, recordFile });
  const verdict = current.ledger.check();
  process.stdout.write(`[redis-cluster] ${formatVerdict(scenario, verdict)}\n`);
  return verdict;
}

/** The port of the replica that follows the primary on `primaryPort`. */
export async function replicaOf(current: ClusterRun, primaryPort: number): Promise<ClusterNode> {
  for (const node of current.cluster.nodes) {
    const info = await askNode(node.port, (redis) => redis.info("replication")).catch(() => "");
    if (info.includes("role:slave") && info.includes(`master_port:${primaryPort}`)) return node;
  }
  throw new Error(`no replica follows ${primaryPort}`);
}
