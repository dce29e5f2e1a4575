// What a local Redis Cluster's nodes say about it, for the cluster starter: whether it is
// ready, who is a primary, and whether a promoted replica serves its slots everywhere.
import type { ClusterNode } from "./redis-cluster.js";
import { askNode, infoFields } from "./redis-node.js";

const SLOTS = 16_384;

/** What keeps the cluster from being ready, or undefined once it is. */
export async function notReady(
  ports: readonly number[],
  primaryCount: number,
): Promise<string | undefined> {
  let primariesSeen = 0;
  for (const port of ports) {
    const [clusterInfo, replicationInfo] = await askNode(port, (redis) =>
      Promise.all([redis.cluster("INFO"), redis.info("replication")]),
    );
    const cluster = infoFields(clusterInfo);
    const expected = { cluster_state: "ok", cluster_slots_assigned: String(SLOTS) };
    for (const [field, value] of Object.entries(expected)) {
      if (cluster.get(field) !== value) return `${port}: ${field}:${cluster.get(field)}`;
    }
    if (cluster.get("cluster_known_nodes") !== String(ports.length)) {
      return `${port} knows ${cluster.get("cluster_known_nodes")} of ${ports.length} nodes`;
    }
    const replication = infoFields(replicationInfo);
    if (replication.get("role") === "master") primariesSeen++;
    else if (replication.get("master_link_status") !== "up") {
      return `${port}: master_link_status:${replication.get("master_link_status")}`;
    }
  }
  return primariesSeen === primaryCount
    ? undefined
    : `${primariesSeen} primaries, ${primaryCount} expected`;
}

/** Why not every survivor has cluster_state ok and counts `promoted` a primary; or undefined. */
export async function notServedBy(
  promoted: ClusterNode,
  survivors: readonly ClusterNode[],
): Promise<string | undefined> {
  for (const survivor of survivors) {
    const [info, view] = await askNode(survivor.port, (redis) =>
      Promise.all([redis.cluster("INFO"), redis.cluster("NODES")]),
    );
    const state = infoFields(info).get("cluster_state");
    if (state !== "ok") return `${survivor.port}: cluster_state:${state}`;
    if (!primaryPorts(String(view)).includes(promoted.port)) {
      return `${survivor.port} does not see ${promoted.port} as a primary yet`;
    }
  }
  return undefined;
}

interface Role {
  readonly primary: boolean;
  /** For a replica: the port of its primary. */
  readonly primaryPort?: number;
}

/** The ROLE of every node that answers; dead nodes are left out. */
export async function rolesOf(nodes: readonly ClusterNode[]): Promise<Map<ClusterNode, Role>> {
  const replies = await Promise.allSettled(
    nodes.map((node) => askNode(node.port, (redis) => redis.role())),
  );
  const roles = new Map<ClusterNode, Role>();
  replies.forEach((reply, index) => {
    if (reply.status !== "fulfilled") return;
    const [role, , primaryPort] = reply.value;
    roles.set(
      nodes[index]!,
      role === "master" ? { primary: true } : { primary: false, primaryPort: Number(primaryPort) },
    );
  });
  return roles;
}

export async function firstPrimary(
  nodes: readonly ClusterNode[],
): Promise<ClusterNode | undefined> {
  const roles = await rolesOf(nodes);
  return nodes.find((node) => roles.get(node)?.primary === true);
}

/** Ports of the nodes flagged master (and not failed) in a CLUSTER NODES reply. */
function primaryPorts(clusterNodes: string): number[] {
  return clusterNodes
    .split("\n")
    .map((line) => line.split(" "))
    .filter(([, , flags]) => {
      const set = new Set(flags?.split(","));
      return set.has("master") && !set.has("fail");
    })
    .map(([, address]) => Number(address?.split("@")[0]?.split(":").pop()));
}
