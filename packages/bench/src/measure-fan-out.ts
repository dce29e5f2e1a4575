// The `fanout` group: batch ingest with a route to one queue, to two queues (fan-out) and to
// one queue with a listener attached, in the same rounds, with Redis CPU per event for each.
import { type FanOutFigures, type FanOutShape, fanOutIngest } from "./fan-out-scenario.js";
import type { BenchRedis } from "./redis-server.js";
import { type BenchSettings, repeatTogether } from "./settings.js";
import { median, type Row } from "./table.js";

const SHAPES: readonly FanOutShape[] = ["one queue", "two queues", "one queue, listener"];

export async function measureFanOut(redis: BenchRedis, settings: BenchSettings): Promise<Row[]> {
  console.log("fan-out and listeners");
  const figures = new Map<FanOutShape, FanOutFigures[]>(SHAPES.map((shape) => [shape, []]));
  const runs = Object.fromEntries(
    SHAPES.map((shape) => [
      shape,
      async () => {
        const result = await fanOutIngest(redis, settings.events, shape);
        figures.get(shape)!.push(result);
        return result.perSecond;
      },
    ]),
  ) as Record<FanOutShape, () => Promise<number>>;
  const samples = await repeatTogether(settings, runs);
  const cpu = (shape: FanOutShape) => ({
    redis: median(figures.get(shape)!.map((f) => f.redisMicros)),
    collector: median(figures.get(shape)!.map((f) => f.collectorMicros)),
  });
  const base = median(samples["one queue"]);
  const describe = (shape: FanOutShape) => {
    const { redis: r, collector: c } = cpu(shape);
    return `CPU per event: Redis ${r.toFixed(1)} µs, collector ${c.toFixed(1)} µs`;
  };
  const listened = figures.get("one queue, listener")!.map((f) => f.listened!);
  const read = median(listened.map((l) => l.read));
  const dropped = median(listened.map((l) => l.dropped));
  return [
    {
      section: "fan-out",
      name: "batch RPC, 1 producer, route to one queue",
      unit: "events/s",
      samples: samples["one queue"],
      extra: describe("one queue"),
      details: { redisCpuMicrosPerEvent: cpu("one queue").redis },
    },
    {
      section: "fan-out",
      name: "batch RPC, 1 producer, route to two queues (a copy in each)",
      unit: "events/s",
      samples: samples["two queues"],
      ratio: { value: median(samples["two queues"]) / base, of: "one queue" },
      extra: describe("two queues"),
      details: { redisCpuMicrosPerEvent: cpu("two queues").redis },
    },
    {
      section: "fan-out",
      name: "batch RPC, 1 producer, one queue with a listener attached",
      unit: "events/s",
      samples: samples["one queue, listener"],
      ratio: { value: median(samples["one queue, listener"]) / base, of: "one queue" },
      extra: `${describe("one queue, listener")}; the listener read ${read.toLocaleString("en")} copies, dropped ${dropped.toLocaleString("en")}`,
      details: { redisCpuMicrosPerEvent: cpu("one queue, listener").redis, read, dropped },
    },
  ];
}
