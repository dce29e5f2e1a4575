// The measurements every `pnpm bench` has made since the start: ceilings (grpc-js sink,
// redis-benchmark), BullMQ, gRPC ingest, drain, I/O-bound handlers, end to end, collector memory
// and latency, with their ratios to each other.
import { runBullmq } from "./bullmq-baseline.js";
import type { BenchRedis } from "./redis-server.js";
import {
  collectorMemory,
  drain,
  endToEnd,
  type IngestFigures,
  ingest,
  ioBound,
  latency,
  redisBenchmark,
  sinkCeiling,
} from "./scenarios.js";
import { type BenchSettings, repeat } from "./settings.js";
import { median, type Row } from "./table.js";

export async function measureCore(redis: BenchRedis, settings: BenchSettings): Promise<Row[]> {
  const { events, runs } = settings;
  const bullmqJobs = settings.quick ? 20_000 : 100_000;
  const rows: Row[] = [];
  console.log("ceilings");
  const redisCeiling = redisBenchmark(redis.port);
  await redis.client.flushall();
  const sinkSingle = await repeat(settings, "grpc sink, single", () =>
    sinkCeiling(redis, events, "single", 1),
  );
  const sinkBatch = await repeat(settings, "grpc sink, batch", () =>
    sinkCeiling(redis, events, "batch", 1),
  );
  const sinkSingle4 = await repeat(settings, "grpc sink, single x4", () =>
    sinkCeiling(redis, events, "single", 4),
  );
  const sinkBatch4 = await repeat(settings, "grpc sink, batch x4", () =>
    sinkCeiling(redis, events, "batch", 4),
  );

  console.log("BullMQ");
  const bull: { add: number[]; worker: number[]; e2e: number[] } = {
    add: [],
    worker: [],
    e2e: [],
  };
  for (let i = 0; i < runs; i++) {
    const figures = await runBullmq(redis.port, bullmqJobs, `bench-bullmq-${i}`);
    bull.add.push(figures.addBulkPerSecond);
    bull.worker.push(figures.workerPerSecond);
    bull.e2e.push(figures.endToEndPerSecond);
    console.log(
      `  run ${i + 1}/${runs}: addBulk ${figures.addBulkPerSecond.toFixed(0)}/s, worker ${figures.workerPerSecond.toFixed(0)}/s`,
    );
  }
  await redis.client.flushall();

  console.log("ingest");
  const cpu: IngestFigures["cpuMicros"][] = [];
  const dedupBytes: number[] = [];
  const rate = (figures: IngestFigures) => {
    cpu.push(figures.cpuMicros);
    dedupBytes.push(figures.dedupBytesPerEvent);
    return figures.perSecond;
  };
  const single = await repeat(settings, "single-event RPC, 1 producer", async () =>
    rate(await ingest(redis, events, "single", 1)),
  );
  cpu.length = 0;
  const batch = await repeat(settings, "batch RPC, 1 producer", async () =>
    rate(await ingest(redis, events, "batch", 1)),
  );
  const batchDedupBytes = median(dedupBytes.slice(-runs));
  const batchCpu = {
    collector: median(cpu.map((c) => c.collector)),
    redis: median(cpu.map((c) => c.redis)),
    producers: median(cpu.map((c) => c.producers)),
  };
  cpu.length = 0;
  const batchNoDedup = await repeat(settings, "batch RPC, 1 producer, no dedup", async () =>
    rate(await ingest(redis, events, "batch", 1, { collectorEnv: { DEDUP_WINDOW_SECONDS: "0" } })),
  );
  const redisNoDedup = median(cpu.map((c) => c.redis));
  const single4 = await repeat(settings, "single-event RPC, 4 producers", async () =>
    rate(await ingest(redis, events, "single", 4)),
  );
  const batch4 = await repeat(settings, "batch RPC, 4 producers", async () =>
    rate(await ingest(redis, events, "batch", 4)),
  );

  console.log("drain");
  const drain1 = await repeat(settings, "1 worker", () => drain(redis, events, 1));
  const drain2 = await repeat(settings, "2 workers", () => drain(redis, events, 2));
  console.log("I/O-bound handler");
  const io = await repeat(settings, "10,000 x 50 ms, 1 worker", () => ioBound(redis));
  console.log("end to end");
  const e2e = await repeat(settings, "2 workers", () => endToEnd(redis, events, 2));
  console.log("collector memory and latency");
  const idle: number[] = [];
  const rss = await repeat(settings, "peak RSS, 4 producers", async () => {
    const memory = await collectorMemory(redis, events, 4);
    idle.push(memory.idle);
    return memory.peak;
  });
  const rss16 = await repeat(
    settings,
    "peak RSS, 16 producers",
    async () => (await collectorMemory(redis, events, 16)).peak,
  );
  const rssSmallYoung = await repeat(
    settings,
    "peak RSS, 4 producers, --max-semi-space-size=4",
    async () => (await collectorMemory(redis, events, 4, "--max-semi-space-size=4")).peak,
  );
  const lat = await latency(redis, 10_000, settings.quick ? 3 : 10);

  const ratio = (ours: number[], theirs: number[]) => median(ours) / median(theirs);
  rows.push(
    {
      section: "ceiling",
      name: "grpc-js no-op sink, single events, 1 stream",
      unit: "events/s",
      samples: sinkSingle,
    },
    {
      section: "ceiling",
      name: "grpc-js no-op sink, batches of 100, 1 stream",
      unit: "events/s",
      samples: sinkBatch,
    },
    {
      section: "ceiling",
      name: "grpc-js no-op sink, single events, 4 streams",
      unit: "events/s",
      samples: sinkSingle4,
    },
    {
      section: "ceiling",
      name: "grpc-js no-op sink, batches of 100, 4 streams",
      unit: "events/s",
      samples: sinkBatch4,
    },
    ...(redisCeiling
      ? [
          {
            section: "ceiling",
            name: "redis-benchmark LPUSH -P 100",
            unit: "ops/s",
            samples: [redisCeiling.lpush],
          },
          {
            section: "ceiling",
            name: "redis-benchmark RPOP -P 100",
            unit: "ops/s",
            samples: [redisCeiling.rpop],
          },
        ]
      : []),
    {
      section: "BullMQ",
      name: `addBulk, ${bullmqJobs.toLocaleString("en")} jobs in chunks of 1,000`,
      unit: "jobs/s",
      samples: bull.add,
    },
    {
      section: "BullMQ",
      name: "no-op Worker, concurrency 50",
      unit: "jobs/s",
      samples: bull.worker,
    },
    {
      section: "BullMQ",
      name: "end to end (addBulk, then Worker)",
      unit: "jobs/s",
      samples: bull.e2e,
    },
    {
      section: "ingest",
      name: "single-event RPC, 1 producer",
      unit: "events/s",
      samples: single,
      ratio: { value: ratio(single, sinkSingle), of: "grpc sink (single)", target: 0.85 },
    },
    {
      section: "ingest",
      name: "batch RPC, 1 producer",
      unit: "events/s",
      samples: batch,
      ratio: { value: ratio(batch, bull.add), of: "BullMQ addBulk", target: 10 },
      extra:
        `${(ratio(batch, sinkBatch) * 100).toFixed(0)}% of grpc sink (batch); CPU per event: ` +
        `collector ${batchCpu.collector.toFixed(1)} µs, Redis ${batchCpu.redis.toFixed(1)} µs, ` +
        `producer ${batchCpu.producers.toFixed(1)} µs; dedup memory ${batchDedupBytes.toFixed(0)} B/event`,
    },
    {
      section: "ingest",
      name: "batch RPC, 1 producer, deduplication off",
      unit: "events/s",
      samples: batchNoDedup,
      ratio: { value: ratio(batchNoDedup, bull.add), of: "BullMQ addBulk" },
      extra: `Redis CPU per event ${redisNoDedup.toFixed(1)} µs`,
    },
    {
      section: "ingest",
      name: "single-event RPC, 4 producers",
      unit: "events/s",
      samples: single4,
      ratio: { value: ratio(single4, sinkSingle4), of: "grpc sink (single x4)" },
    },
    {
      section: "ingest",
      name: "batch RPC, 4 producers",
      unit: "events/s",
      samples: batch4,
      ratio: { value: ratio(batch4, sinkBatch4), of: "grpc sink (batch x4)" },
    },
    {
      section: "drain",
      name: "no-op handler, 1 worker",
      unit: "events/s",
      samples: drain1,
      ratio: { value: ratio(drain1, bull.worker), of: "BullMQ Worker", target: 10 },
    },
    {
      section: "drain",
      name: "no-op handler, 2 workers",
      unit: "events/s",
      samples: drain2,
      ratio: { value: ratio(drain2, bull.worker), of: "BullMQ Worker" },
    },
    {
      section: "I/O",
      name: "10,000 events x 50 ms, 1 worker",
      unit: "s",
      samples: io,
      ratio: { value: 500 / median(io), of: "one at a time (500 s)" },
      limit: { max: 2 },
    },
    {
      section: "end to end",
      name: "producer to last ack, 2 workers",
      unit: "events/s",
      samples: e2e,
      ratio: { value: ratio(e2e, bull.e2e), of: "BullMQ end to end", target: 5 },
    },
    { section: "memory", name: "collector RSS, idle", unit: "MiB", samples: idle },
    {
      section: "memory",
      name: "collector peak RSS, 4 producers at once",
      unit: "MiB",
      samples: rss,
      limit: { max: 120 },
    },
    {
      section: "memory",
      name: "collector peak RSS, 16 producers at once",
      unit: "MiB",
      samples: rss16,
      limit: { max: 120 },
    },
    {
      section: "memory",
      name: "collector peak RSS, 4 producers, NODE_OPTIONS=--max-semi-space-size=4",
      unit: "MiB",
      samples: rssSmallYoung,
      limit: { max: 120 },
    },
    {
      section: "latency",
      name: "enqueue to handler start, p50 at 10,000/s",
      unit: "ms",
      samples: [lat.p50],
    },
    {
      section: "latency",
      name: "enqueue to handler start, p99 at 10,000/s",
      unit: "ms",
      samples: [lat.p99],
      limit: { max: 5 },
    },
    {
      section: "latency",
      name: "the worker's own event-loop delay, p99, same run",
      unit: "ms",
      samples: [lat.loopDelayP99Ms],
    },
  );
  return rows;
}
