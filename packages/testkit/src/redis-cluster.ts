// A local Redis Cluster on 127.0.0.1 for the tests and the benchmark: every node is a private
// redis-server (startRedisServer, so AOF and the same data folder on restart) with cluster mode
// on, joined by `redis-cli --cluster create`. A primary can be killed like a crash, and
// killPrimary waits until one of its replicas serves its slots, which the failover tests rely on.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { until } from "./node-process.js";
import { firstPrimary, notReady, notServedBy, rolesOf } from "./redis-cluster-state.js";
import { askNode, infoFields } from "./redis-node.js";
import { freePort, type RedisServer, startRedisServer } from "./redis-server.js";

const HOST = "127.0.0.1";
const CREATE_TIMEOUT_MS = 30_000;
const READY_TIMEOUT_MS = 30_000;
const FAILOVER_TIMEOUT_MS = 30_000;
const POLL_MS = 100;

export interface RedisClusterOptions {
  /** Default 3, the fewest that redis-cli accepts. */
  readonly primaries?: number;
  /** Default 1. */
  readonly replicasPerPrimary?: number;
  /** cluster-node-timeout: how long a silent node takes to be suspected. Default 1000. */
  readonly nodeTimeoutMs?: number;
  /** Where the cluster's folder is made; default: the system's temporary directory. */
  readonly baseDir?: string;
  /** More redis-server arguments for every node. */
  readonly extraArgs?: readonly string[];
}

export interface ClusterNode {
  readonly port: number;
  readonly server: RedisServer;
}

export interface RedisCluster {
  /** The first `primaries` nodes start as primaries, the rest as their replicas. */
  readonly nodes: readonly ClusterNode[];
  /** "127.0.0.1:p1,127.0.0.1:p2,...": the value for REDIS_CLUSTER_NODES. */
  readonly seeds: string;
  /** The live nodes whose ROLE is master now. */
  primaries(): Promise<ClusterNode[]>;
  /** The primary serving the slot of `key`, in the view of the first node that answers. */
  primaryFor(key: string): Promise<ClusterNode>;
  /**
   * SIGKILLs a primary and waits (30 s at most) until one of its replicas was promoted and
   * every surviving node sees it as a primary with cluster_state ok; returns that replica.
   * With `whileReplicasPaused`, its replicas are stopped (SIGSTOP) until that resolves, the
   * primary is killed, then they resume: the failover lands on a replica that is behind.
   */
  killPrimary(
    node: ClusterNode,
    options?: { readonly whileReplicasPaused?: () => Promise<void> },
  ): Promise<ClusterNode>;
  /** used_cpu_sys + used_cpu_user (seconds) of each live node, by port. */
  cpuSeconds(): Promise<Map<number, number>>;
  /** Kills every node and removes the cluster's folder. */
  destroy(): Promise<void>;
}

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const primaryCount = options.primaries ?? 3;
  const replicasPerPrimary = options.replicasPerPrimary ?? 1;
  if (!Number.isInteger(primaryCount) || primaryCount < 3) {
    throw new Error(
      `primaries must be an integer of at least 3 for Redis Cluster, got ${primaryCount}`,
    );
  }
  if (!Number.isInteger(replicasPerPrimary) || replicasPerPrimary < 0) {
    throw new Error(
      `replicasPerPrimary must be an integer of at least 0, got ${replicasPerPrimary}`,
    );
  }
  const folder = mkdtempSync(join(options.baseDir ?? tmpdir(), "eventpipe-redis-cluster-"));
  const nodes: ClusterNode[] = [];
  const cluster = describeCluster(nodes, folder);
  try {
    // One at a time: a node's bus port is taken before the next node draws its free ports.
    for (let i = 0; i < primaryCount * (1 + replicasPerPrimary); i++) {
      nodes.push(await startNode(folder, options));
    }
    const ports = nodes.map((node) => node.port);
    const output = await createCluster(ports, replicasPerPrimary);
    await settle("the cluster to be ready", () => notReady(ports, primaryCount), READY_TIMEOUT_MS)
      // redis-cli can exit 0 with a cluster that never forms; its report says why.
      .catch((error: Error) => {
        throw new Error(`${error.message}\nredis-cli --cluster create said:\n${output}`);
      });
  } catch (error) {
    await cluster.destroy();
    throw error;
  }
  return cluster;
}

function describeCluster(nodes: readonly ClusterNode[], folder: string): RedisCluster {
  return {
    nodes,
    get seeds() {
      return nodes.map((node) => `${HOST}:${node.port}`).join(",");
    },
    async primaries() {
      const roles = await rolesOf(nodes);
      return nodes.filter((node) => roles.get(node)?.primary === true);
    },
    async primaryFor(key) {
      for (const node of nodes) {
        const view = await askNode(node.port, (redis) =>
          Promise.all([redis.cluster("KEYSLOT", key), redis.cluster("SLOTS")]),
        ).catch(() => undefined);
        if (view === undefined) continue;
        const [slot, ranges] = view;
        const owner = ranges.find(([first, last]) => first <= slot && slot <= last)?.[2]?.[1];
        const primary = nodes.find((candidate) => candidate.port === owner);
        if (primary === undefined) {
          throw new Error(`node ${node.port} knows no primary of slot ${slot} ("${key}")`);
        }
        return primary;
      }
      throw new Error("no node of the cluster answers");
    },
    async killPrimary(node, options) {
      const roles = await rolesOf(nodes);
      if (roles.get(node)?.primary !== true) {
        throw new Error(`node ${node.port} is not a live primary`);
      }
      const replicas = nodes.filter((other) => roles.get(other)?.primaryPort === node.port);
      if (replicas.length === 0) {
        throw new Error(`primary ${node.port} has no replica to take over`);
      }
      const survivors = nodes.filter((other) => other !== node && roles.has(other));
      const paused = options?.whileReplicasPaused;
      if (paused !== undefined) {
        for (const replica of replicas) replica.server.signal("SIGSTOP");
        try {
          await paused();
        } catch (error) {
          for (const replica of replicas) replica.server.signal("SIGCONT");
          throw error;
        }
      }
      await node.server.kill();
      if (paused !== undefined) for (const replica of replicas) replica.server.signal("SIGCONT");
      // The others first need node-timeout to suspect it, a majority of primaries to agree it
      // failed, then a replica's election: a few seconds with the default 1000 ms.
      let promoted: ClusterNode | undefined;
      await settle(
        `a replica of ${node.port} to take over`,
        async () => {
          promoted ??= await firstPrimary(replicas);
          if (promoted === undefined) return "no replica promoted yet";
          return notServedBy(promoted, survivors);
        },
        FAILOVER_TIMEOUT_MS,
      );
      if (promoted === undefined) throw new Error(`no replica of ${node.port} was promoted`);
      return promoted;
    },
    async cpuSeconds() {
      const seconds = new Map<number, number>();
      const replies = await Promise.allSettled(
        nodes.map((node) => askNode(node.port, (redis) => redis.info("cpu"))),
      );
      replies.forEach((reply, index) => {
        if (reply.status !== "fulfilled") return;
        const cpu = infoFields(reply.value);
        const used = Number(cpu.get("used_cpu_sys")) + Number(cpu.get("used_cpu_user"));
        seconds.set(nodes[index]!.port, used);
      });
      return seconds;
    },
    async destroy() {
      await Promise.allSettled(nodes.map((node) => node.server.destroy()));
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

async function startNode(folder: string, options: RedisClusterOptions): Promise<ClusterNode> {
  // The bus port defaults to port + 10000, past 65535 for a fifth of the ports freePort draws.
  const busPort = await freePort();
  const server = await startRedisServer({
    baseDir: folder,
    extraArgs: [
      ...["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"],
      ...["--cluster-node-timeout", String(options.nodeTimeoutMs ?? 1000)],
      ...["--cluster-port", String(busPort)],
      // Redis 7 waits 5 s for more replicas before a diskless full sync; here they come at once.
      ...["--repl-diskless-sync-delay", "0"],
      ...(options.extraArgs ?? []),
    ],
  });
  return { port: server.port, server };
}

/** Runs `redis-cli --cluster create` (first nodes primaries) and resolves with what it printed. */
function createCluster(ports: readonly number[], replicasPerPrimary: number): Promise<string> {
  const args = [
    ...["--cluster", "create", ...ports.map((port) => `${HOST}:${port}`)],
    ...["--cluster-replicas", String(replicasPerPrimary), "--cluster-yes"],
  ];
  // TERM=dumb: redis-cli colours its report for xterm-like terminals, even into a pipe.
  const env = { ...process.env, TERM: "dumb" };
  return new Promise((resolve, reject) => {
    execFile("redis-cli", args, { env, timeout: CREATE_TIMEOUT_MS }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      if (error === null) resolve(output);
      else {
        const ending = error.killed ? `killed after ${CREATE_TIMEOUT_MS} ms` : `exit ${error.code}`;
        reject(new Error(`redis-cli --cluster create failed (${ending}):\n${output}`));
      }
    });
  });
}

/** Polls `problem` every 100 ms until it finds none; the timeout error names the last one. */
async function settle(
  what: string,
  problem: () => Promise<string | undefined>,
  timeoutMs: number,
): Promise<void> {
  let last: string | undefined = "not checked yet";
  const check = async () => {
    last = await problem().catch((error: Error) => error.message);
    return last === undefined;
  };
  await until(what, check, timeoutMs, POLL_MS).catch((error: Error) => {
    throw new Error(`${error.message} (last: ${last})`);
  });
}
