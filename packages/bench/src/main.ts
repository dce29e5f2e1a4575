// `pnpm bench [--events 1000000] [--runs 3] [--quick]
//   [--only core,http,schemas,processors,fanout,proxy,cluster]
//   [--out bench-results/latest.json (bench-results/only-<groups>.json with --only)]`
//
// Measures eventpipe against the machine's own ceilings and against BullMQ in one run, on one
// private redis-server, and prints every figure with its ratio. Several runs per figure:
// the table shows the median and the spread (min-max). `--only` measures some groups of rows:
// `core` (ceilings, BullMQ, gRPC ingest, drain, I/O, end to end, memory, latency), `http` (the
// HTTP door and its fastify ceiling), `schemas` (JSON Schema validation on the gRPC ingest,
// at least 3 rounds even with --quick: its figure is the difference of two noisy ones),
// `processors` (the HTTP processor's drain against a plain undici loop on the same echo server,
// and the Call RPC's round trip at an open-loop 1,000 calls/s), `fanout` (batch ingest to one
// queue, to two queues, and to one queue with a listener attached), `proxy` (HTTP and gRPC
// calls through the collector to an upstream, against the same upstream called directly),
// `cluster` (ingest and drain with 1 and 3 queue partitions on a Redis Cluster of 3 primaries
// and 3 replicas that it starts itself, at most 300,000 events per run (100,000 with --quick),
// Redis CPU per event on each primary, and the Redis-side projection for 1, 3 and 6 primaries,
// printed in words after the table).
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { projectionNotes } from "./cluster-projection.js";
import { HTTP_BATCH, HTTP_IN_FLIGHT } from "./http-scenarios.js";
import { measureCluster } from "./measure-cluster.js";
import { measureCore } from "./measure-core.js";
import { measureFanOut } from "./measure-fan-out.js";
import { measureHttp } from "./measure-http.js";
import { measureProcessors } from "./measure-processors.js";
import { measureGrpcProxy } from "./measure-proxy-grpc.js";
import { measureHttpProxy } from "./measure-proxy-http.js";
import { measureSchemas } from "./measure-schemas.js";
import { type BenchRedis, startBenchRedis } from "./redis-server.js";
import { SAMPLE_PAYLOAD_SCHEMA } from "./schema-scenario.js";
import type { BenchSettings } from "./settings.js";
import { bySection, type Row, renderTable } from "./table.js";

const GROUPS = {
  core: measureCore,
  http: measureHttp,
  schemas: measureSchemas,
  processors: measureProcessors,
  fanout: measureFanOut,
  proxy: async (redis, settings) => [
    ...(await measureHttpProxy(settings, redis)),
    ...(await measureGrpcProxy(settings, redis)),
  ],
  cluster: measureCluster,
} satisfies Record<string, (redis: BenchRedis, settings: BenchSettings) => Promise<Row[]>>;
type Group = keyof typeof GROUPS;

const { values } = parseArgs({
  options: {
    events: { type: "string" },
    runs: { type: "string" },
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    out: { type: "string" },
  },
});
const quick = values.quick;
const settings: BenchSettings = {
  events: Number(values.events ?? (quick ? 100_000 : 1_000_000)),
  runs: Number(values.runs ?? (quick ? 1 : 3)),
  quick,
};

function selectedGroups(): Group[] {
  const all = Object.keys(GROUPS) as Group[];
  if (values.only === undefined) return all;
  const wanted = values.only.split(",").map((name) => name.trim());
  const unknown = wanted.filter((name) => !all.includes(name as Group));
  if (unknown.length > 0 || wanted.length === 0) {
    console.error(`bench: --only=${values.only} is invalid: expected some of ${all.join(",")}`);
    process.exit(2);
  }
  return all.filter((group) => wanted.includes(group));
}

async function main(): Promise<void> {
  const started = Date.now();
  const groups = selectedGroups();
  // A partial run does not overwrite the full run's results unless told to.
  const out =
    values.out ??
    (values.only === undefined
      ? "bench-results/latest.json"
      : `bench-results/only-${groups.join("-")}.json`);
  console.log(
    `eventpipe bench: ${settings.events.toLocaleString("en")} events, ${settings.runs} run(s) each, ` +
      `${cpus().length} cores, ${groups.join(", ")}`,
  );
  const redis = await startBenchRedis();
  const rows: Row[] = [];
  try {
    for (const group of groups) rows.push(...(await GROUPS[group](redis, settings)));
  } finally {
    await redis.close();
  }

  const table = renderTable(bySection(rows));
  console.log(`\n${table}`);
  const notes = projectionNotes(rows);
  if (notes.length > 0) console.log(`\n${notes.join("\n")}`);
  const result = {
    date: new Date().toISOString(),
    events: settings.events,
    runs: settings.runs,
    cores: cpus().length,
    node: process.version,
    seconds: (Date.now() - started) / 1000,
    groups,
    ...(groups.includes("http")
      ? { http: { batchSize: HTTP_BATCH, inFlight: HTTP_IN_FLIGHT, keepAlive: true } }
      : {}),
    ...(groups.includes("schemas") ? { payloadSchema: SAMPLE_PAYLOAD_SCHEMA } : {}),
    rows: bySection(rows),
    ...(notes.length > 0 ? { notes } : {}),
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  const notesText = notes.length > 0 ? `\n${notes.join("\n")}\n` : "";
  writeFileSync(out.replace(/\.json$/, ".md"), `${table}\n${notesText}`);
  console.log(`\nwritten to ${out} in ${result.seconds.toFixed(0)} s`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench failed: ${(error as Error).stack ?? error}`);
    process.exit(1);
  },
);
