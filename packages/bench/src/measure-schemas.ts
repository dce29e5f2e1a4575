// What JSON Schema validation costs the gRPC batch ingest, both runs in the same rounds.
import type { BenchRedis } from "./redis-server.js";
import type { IngestFigures } from "./scenarios.js";
import { schemaIngest } from "./schema-scenario.js";
import { type BenchSettings, repeatTogether } from "./settings.js";
import { median, type Row } from "./table.js";

const MIN_ROUNDS = 3;

export async function measureSchemas(redis: BenchRedis, settings: BenchSettings): Promise<Row[]> {
  console.log("schema validation");
  const collectorMicros = { off: [] as number[], on: [] as number[] };
  const run = (schemas: boolean) => async () => {
    const figures: IngestFigures = await schemaIngest(redis, settings.events, schemas);
    collectorMicros[schemas ? "on" : "off"].push(figures.cpuMicros.collector);
    return figures.perSecond;
  };
  // A difference of two noisy figures against a 20% target: at least 3 rounds, even --quick.
  const rounds = { ...settings, runs: Math.max(settings.runs, MIN_ROUNDS) };
  const { off, on } = await repeatTogether(rounds, { off: run(false), on: run(true) });
  const value = median(on) / median(off);
  const slower = (1 - value) * 100;
  const change = slower >= 0 ? `${slower.toFixed(0)}% slower` : `${(-slower).toFixed(0)}% faster`;
  const offCpu = median(collectorMicros.off);
  const onCpu = median(collectorMicros.on);
  return [
    {
      section: "ingest",
      name: "batch RPC, 1 producer, JSON payloads, no schema",
      unit: "events/s",
      samples: off,
      extra: `collector CPU per event ${offCpu.toFixed(1)} µs`,
      details: { collectorCpuMicrosPerEvent: offCpu },
    },
    {
      section: "ingest",
      name: "batch RPC, 1 producer, schema validation on",
      unit: "events/s",
      samples: on,
      ratio: {
        value,
        of: `of no schema (${change})`,
        target: 0.8,
        targetText: "<= 20% slower",
      },
      details: { collectorCpuMicrosPerEvent: onCpu, collectorCpuMicrosPerEventNoSchema: offCpu },
      extra: `JSON Schema for both types; collector CPU per event ${onCpu.toFixed(1)} µs (${(onCpu - offCpu >= 0 ? "+" : "") + (onCpu - offCpu).toFixed(1)} µs)`,
    },
  ];
}
