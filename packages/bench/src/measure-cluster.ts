// The `cluster` group: ingest and drain on a local Redis Cluster (3 primaries + 3 replicas,
// started here and destroyed at the end) with 1 and 3 queue partitions in the same rounds,
// Redis CPU per event on each primary, and the Redis-side projection drawn from it
// (cluster-projection.ts).

import { projectionRows } from "./cluster-projection.js";
import {
  type BenchCluster,
  type ClusterRunFigures,
  clusterRun,
  PARTITION_COUNTS,
  type Partitions,
  startBenchCluster,
  sum,
} from "./cluster-scenario.js";
import type { BenchRedis } from "./redis-server.js";
import type { BenchSettings } from "./settings.js";
import { median, type Row } from "./table.js";

/** Events per run: the cluster start and six redis-servers already take their share of time. */
const QUICK_EVENTS = 100_000;
const FULL_EVENTS = 300_000;
type Phase = "ingest" | "drain";

export async function measureCluster(_redis: BenchRedis, settings: BenchSettings): Promise<Row[]> {
  const events = Math.min(settings.events, settings.quick ? QUICK_EVENTS : FULL_EVENTS);
  console.log(
    `Redis Cluster, 3 primaries + 3 replicas, ${events.toLocaleString("en")} events per run`,
  );
  const started = performance.now();
  const bench = await startBenchCluster();
  console.log(`  cluster ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const runs: Record<Partitions, ClusterRunFigures[]> = { 1: [], 3: [] };
  try {
    // Both layouts in each round: figures compared with each other see the same stretch.
    for (let i = 0; i < settings.runs; i++) {
      for (const partitions of PARTITION_COUNTS) {
        const figures = await clusterRun(bench, events, partitions);
        runs[partitions].push(figures);
        console.log(
          `  ${partitions} partition(s) run ${i + 1}/${settings.runs}: ingest ` +
            `${figures.ingest.perSecond.toFixed(0)}/s, drain ${figures.drain.perSecond.toFixed(0)}/s`,
        );
      }
    }
  } finally {
    await bench.close();
  }
  console.log(`  cluster group took ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return [
    ...(["ingest", "drain"] as const).flatMap((phase) =>
      throughputRows(bench, runs, events, phase),
    ),
    ...PARTITION_COUNTS.flatMap((partitions) =>
      (["ingest", "drain"] as const).flatMap((phase) =>
        cpuRows(bench, runs[partitions], events, partitions, phase),
      ),
    ),
    ...projectionRows(runs),
  ];
}

function throughputRows(
  bench: BenchCluster,
  runs: Record<Partitions, ClusterRunFigures[]>,
  events: number,
  phase: Phase,
): Row[] {
  const samples = (partitions: Partitions) => runs[partitions].map((run) => run[phase].perSecond);
  const what =
    phase === "ingest"
      ? "batch RPC, 1 producer, 1 collector, no worker"
      : "no-op handler, 1 worker, from its start";
  return PARTITION_COUNTS.map((partitions) => {
    const cpu = (nodes: (port: number) => boolean) =>
      median(
        runs[partitions].map((run) => {
          const seconds = [...run[phase].cpuSeconds].filter(([port]) => nodes(port));
          return (sum(seconds.map(([, s]) => s)) * 1e6) / events;
        }),
      );
    const onPrimaries = cpu((port) => !bench.primaryOfReplica.has(port));
    const onReplicas = cpu((port) => bench.primaryOfReplica.has(port));
    return {
      section: "cluster",
      name: `cluster ${phase}, ${partitions} partition${partitions === 1 ? "" : "s"}`,
      unit: "events/s",
      samples: samples(partitions),
      ...(partitions === 1
        ? {}
        : {
            ratio: { value: median(samples(partitions)) / median(samples(1)), of: "1 partition" },
          }),
      extra:
        `${what}; Redis CPU per event: ${onPrimaries.toFixed(2)} µs on the 3 primaries, ` +
        `${onReplicas.toFixed(2)} µs on the 3 replicas`,
      details: { primariesCpuMicrosPerEvent: onPrimaries, replicasCpuMicrosPerEvent: onReplicas },
    };
  });
}

/**
 * Redis CPU per event of the run on each primary, named by what it holds (each partition has
 * a primary of its own, the queue's name was drawn so); its replica's in `extra`.
 */
function cpuRows(
  bench: BenchCluster,
  runs: readonly ClusterRunFigures[],
  events: number,
  partitions: Partitions,
  phase: Phase,
): Row[] {
  const replicaOf = (primary: number) =>
    [...bench.primaryOfReplica].filter(([, of]) => of === primary).map(([replica]) => replica);
  const groups: { label: string; primaries: (run: ClusterRunFigures) => number[] }[] =
    partitions === 1
      ? [
          { label: "primary of the queue", primaries: (run) => [run.partitionPrimaries[0]!] },
          {
            label: "the 2 other primaries, together",
            primaries: (run) =>
              bench.primaries
                .map((node) => node.port)
                .filter((port) => port !== run.partitionPrimaries[0]),
          },
        ]
      : Array.from({ length: partitions }, (_, p) => ({
          label: `primary of partition ${p}`,
          primaries: (run: ClusterRunFigures) => [run.partitionPrimaries[p]!],
        }));
  return groups.map(({ label, primaries }) => {
    const per = (pick: (run: ClusterRunFigures, port: number) => number) =>
      runs.map((run) => sum(primaries(run).map((port) => pick(run, port))));
    const cpu = per((run, port) => run[phase].cpuSeconds.get(port) ?? 0);
    const held = per((run, port) => run[phase].eventsOn.get(port) ?? 0);
    const replicaCpu = per((run, port) =>
      sum(replicaOf(port).map((replica) => run[phase].cpuSeconds.get(replica) ?? 0)),
    );
    const micros = (seconds: number, count: number) => (count > 0 ? (seconds * 1e6) / count : 0);
    const perHeld = median(cpu.map((seconds, i) => micros(seconds, held[i]!)));
    const heldEvents = median(held);
    const replica = median(replicaCpu.map((seconds) => micros(seconds, events)));
    return {
      section: "cluster",
      name: `Redis CPU per event, ${phase}, ${partitions} partition${partitions === 1 ? "" : "s"}, ${label}`,
      unit: "ns/event",
      samples: cpu.map((seconds) => (seconds * 1e9) / events),
      extra:
        `${median(cpu.map((seconds) => micros(seconds, events))).toFixed(2)} µs per event of the run; ` +
        (heldEvents > 0
          ? `held ${heldEvents.toLocaleString("en")} events: ${perHeld.toFixed(2)} µs per event held; `
          : "held no events; ") +
        `replica${primaries(runs[0]!).length === 1 ? "" : "s"} ${replica.toFixed(2)} µs per event`,
      details: {
        eventsHeld: heldEvents,
        cpuMicrosPerEventHeld: perHeld,
        replicaCpuMicrosPerEvent: replica,
      },
    };
  });
}
