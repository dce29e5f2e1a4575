// The `cluster` group's projection. Redis runs commands on one thread, so a primary's ceiling is
// about one CPU-second per second: divided by the CPU that one event costs on the busiest
// primary (per event it held), that gives one primary's events/s, and k primaries with the
// partitions spread evenly over them k times it. Drawn from figures of the same run, never
// measured itself: its rows say so, and the notes printed after the table say what it assumes.
import { cpus } from "node:os";
import type { ClusterRunFigures, Partitions } from "./cluster-scenario.js";
import { median, type Row } from "./table.js";

const PROJECTED_PRIMARIES = [1, 3, 6] as const;

/** CPU seconds per event held on a run's busiest primary: per phase, and for both together. */
interface BusiestCost {
  readonly ingest: number;
  readonly drain: number;
  /** The primary whose ingest + drain is dearest (not always the dearest of each alone). */
  readonly both: { readonly ingest: number; readonly drain: number };
}

function busiest(run: ClusterRunFigures): BusiestCost {
  const perHeld = (phase: "ingest" | "drain", port: number) => {
    const held = run[phase].eventsOn.get(port) ?? 0;
    return held > 0 ? (run[phase].cpuSeconds.get(port) ?? 0) / held : 0;
  };
  const ports = [...new Set(run.partitionPrimaries)];
  const costs = ports.map((port) => ({
    ingest: perHeld("ingest", port),
    drain: perHeld("drain", port),
  }));
  const dearest = costs.reduce((a, b) => (b.ingest + b.drain > a.ingest + a.drain ? b : a));
  return {
    ingest: Math.max(...costs.map((cost) => cost.ingest)),
    drain: Math.max(...costs.map((cost) => cost.drain)),
    both: dearest,
  };
}

const micros = (seconds: number) => seconds * 1e6;
const rate = (value: number) => Math.round(value).toLocaleString("en");

/** One row per projected primary count, from the 3-partition runs (the layout that scales). */
export function projectionRows(runs: Record<Partitions, ClusterRunFigures[]>): Row[] {
  const spread = runs[3].map(busiest);
  const single = runs[1].map(busiest);
  const ingest = median(spread.map((cost) => cost.both.ingest));
  const drain = median(spread.map((cost) => cost.both.drain));
  const ingestAlone = median(spread.map((cost) => cost.ingest));
  const drainAlone = median(spread.map((cost) => cost.drain));
  const perPrimary = 1 / (ingest + drain);
  return PROJECTED_PRIMARIES.map((primaries) => ({
    section: "cluster",
    name: `projection: ${primaries} primar${primaries === 1 ? "y" : "ies"}, ingest + drain, Redis side only`,
    unit: "events/s",
    samples: [primaries * perPrimary],
    extra:
      `derived, not measured: ${primaries} / (${micros(ingest).toFixed(2)} µs ingest + ` +
      `${micros(drain).toFixed(2)} µs drain of CPU per event on the busiest primary, ` +
      `3 partitions); ingest alone ${rate(primaries / ingestAlone)}/s, ` +
      `drain alone ${rate(primaries / drainAlone)}/s`,
    details: {
      projectedPrimaries: primaries,
      ingestCpuMicrosPerEvent: micros(ingest),
      drainCpuMicrosPerEvent: micros(drain),
      ingestAlonePerSecond: primaries / ingestAlone,
      drainAlonePerSecond: primaries / drainAlone,
      onePartitionIngestCpuMicrosPerEvent: micros(median(single.map((cost) => cost.ingest))),
      onePartitionDrainCpuMicrosPerEvent: micros(median(single.map((cost) => cost.drain))),
    },
  }));
}

/** The projection in words, with its assumptions, for after the table; none without it. */
export function projectionNotes(rows: readonly Row[]): string[] {
  const projected = rows.filter((row) => row.details?.projectedPrimaries !== undefined);
  const first = projected[0]?.details;
  if (first === undefined) return [];
  const ratio = (name: string) => {
    const value = rows.find((row) => row.name === name)?.ratio?.value;
    return value === undefined ? "n/a" : `${value.toFixed(2)}x`;
  };
  const figure = (key: string) => (first[key] ?? Number.NaN).toFixed(2);
  const ingest = first.ingestCpuMicrosPerEvent ?? Number.NaN;
  const drain = first.drainCpuMicrosPerEvent ?? Number.NaN;
  const ceilings = projected
    .map((row) => {
      const primaries = row.details?.projectedPrimaries;
      return `${primaries} primar${primaries === 1 ? "y" : "ies"} ≈ ${rate(row.samples[0]!)}`;
    })
    .join(", ");
  return [
    "Redis Cluster projection (derived from the Redis CPU per event above, not measured):",
    `- With 3 partitions the busiest primary spent ${ingest.toFixed(2)} µs of CPU per event it ` +
      `stored and ${drain.toFixed(2)} µs per event it drained: one primary, one core, carries ` +
      `about ${rate(1e6 / (ingest + drain))} events/s in and out ` +
      `(ingest alone ${rate(first.ingestAlonePerSecond ?? Number.NaN)}/s, ` +
      `drain alone ${rate(first.drainAlonePerSecond ?? Number.NaN)}/s). With 1 partition its ` +
      `one primary spent ${figure("onePartitionIngestCpuMicrosPerEvent")} µs + ` +
      `${figure("onePartitionDrainCpuMicrosPerEvent")} µs.`,
    `- Events/s in and out, Redis side: ${ceilings}; if the partitions spread evenly ` +
      "(a multiple of the primaries, each primary holding as many), each redis-server has a " +
      "core of its own, and enough collector and worker processes feed them.",
    `- This machine has ${cpus().length} cores, shared by 6 redis-servers, the producer, the ` +
      "collector and the worker: the events/s measured here are bound by the Node processes " +
      `(3 partitions vs 1: ingest ${ratio("cluster ingest, 3 partitions")}, drain ` +
      `${ratio("cluster drain, 3 partitions")}); the Redis CPU per event is the honest part.`,
    "- More partitions split each producer batch and each worker claim into more, smaller " +
      "script calls, which can raise the cost per event held (here, 1 partition to 3: ingest " +
      `${figure("onePartitionIngestCpuMicrosPerEvent")} to ${ingest.toFixed(2)} µs, drain ` +
      `${figure("onePartitionDrainCpuMicrosPerEvent")} to ${drain.toFixed(2)} µs). The ` +
      "primaries' figures include feeding their replicas, whose own CPU is in the rows above; " +
      "a real network adds latency, not Redis CPU.",
  ];
}
