// The processors of a pipeline file: the HTTP processor's drain against a plain undici loop on
// the same echo server (with and without storing results), and the Call round trip through a
// collector, a worker and the echo gRPC processor at an open-loop 1,000 calls/s (gRPC and
// HTTP doors) and at 300 calls/s (measure-calls.ts).
import { measureCalls } from "./measure-calls.js";
import { type HttpFigures, httpCeiling, httpProcessorDrain } from "./processor-scenarios.js";
import type { BenchRedis } from "./redis-server.js";
import { type BenchSettings, repeatTogether } from "./settings.js";
import { median, type Row } from "./table.js";

/** The HTTP processor's concurrency, and the undici loop's connections. */
export const HTTP_CONNECTIONS = 64;
export const CALL_RATE = 1000;
export const CALL_RATE_UNSATURATED = 300;

/** A tenth of the run's events, at most 100,000; with --quick at most 20,000. */
function drainEvents(settings: BenchSettings): number {
  return settings.quick
    ? Math.min(settings.events, 20_000)
    : Math.min(Math.round(settings.events / 10), 100_000);
}

type CpuMicros = HttpFigures["cpuMicros"];

function medianCpu(samples: readonly CpuMicros[]): CpuMicros {
  return {
    client: median(samples.map((sample) => sample.client)),
    echoServer: median(samples.map((sample) => sample.echoServer)),
    redis: median(samples.map((sample) => sample.redis)),
  };
}

const micros = (value: number) => `${value.toFixed(0)} µs`;

export async function measureProcessors(
  redis: BenchRedis,
  settings: BenchSettings,
): Promise<Row[]> {
  const events = drainEvents(settings);
  const c = HTTP_CONNECTIONS;
  console.log(`HTTP processor, ${events.toLocaleString("en")} events, concurrency ${c}`);
  const cpu = { ceiling: [] as CpuMicros[], drain: [] as CpuMicros[], results: [] as CpuMicros[] };
  const rate = (kind: keyof typeof cpu, figures: HttpFigures) => {
    cpu[kind].push(figures.cpuMicros);
    return figures.perSecond;
  };
  const runs = await repeatTogether(settings, {
    "undici loop": async () => rate("ceiling", await httpCeiling(redis, events, c)),
    "HTTP processor": async () => rate("drain", await httpProcessorDrain(redis, events, c)),
    "HTTP processor, results": async () =>
      rate("results", await httpProcessorDrain(redis, events, c, { results: true })),
  });
  const ceiling = runs["undici loop"];
  const drain = runs["HTTP processor"];
  const results = runs["HTTP processor, results"];
  const ceilingCpu = medianCpu(cpu.ceiling);
  const drainCpu = medianCpu(cpu.drain);
  const resultsCpu = medianCpu(cpu.results);
  const workerCpu = (figures: CpuMicros) =>
    `CPU per event: worker ${micros(figures.client)}, echo server ${micros(figures.echoServer)}, ` +
    `Redis ${micros(figures.redis)}`;

  return [
    {
      section: "processors",
      name: `ceiling: undici Pool, ${c} connections, ~200 B JSON POSTs to a node:http echo server`,
      unit: "requests/s",
      samples: ceiling,
      extra: `CPU per request: undici loop ${micros(ceilingCpu.client)}, echo server ${micros(ceilingCpu.echoServer)}`,
      details: {
        connections: c,
        requests: events,
        loopCpuMicrosPerRequest: ceilingCpu.client,
        echoServerCpuMicrosPerRequest: ceilingCpu.echoServer,
      },
    },
    {
      section: "processors",
      name: `HTTP processor drain, concurrency ${c}, same echo server, queued beforehand`,
      unit: "events/s",
      samples: drain,
      ratio: { value: median(drain) / median(ceiling), of: "undici loop", target: 0.7 },
      extra: workerCpu(drainCpu),
      details: {
        concurrency: c,
        events,
        workerCpuMicrosPerEvent: drainCpu.client,
        echoServerCpuMicrosPerEvent: drainCpu.echoServer,
        redisCpuMicrosPerEvent: drainCpu.redis,
      },
    },
    {
      section: "processors",
      name: `HTTP processor drain, concurrency ${c}, results stored (onSuccess)`,
      unit: "events/s",
      samples: results,
      ratio: { value: median(results) / median(ceiling), of: "undici loop" },
      extra: `${((median(results) / median(drain)) * 100).toFixed(0)}% of the drain without results; ${workerCpu(resultsCpu)}`,
      details: {
        concurrency: c,
        events,
        workerCpuMicrosPerEvent: resultsCpu.client,
        echoServerCpuMicrosPerEvent: resultsCpu.echoServer,
        redisCpuMicrosPerEvent: resultsCpu.redis,
      },
    },
    ...(await measureCalls(redis, settings, "grpc", CALL_RATE)),
    ...(await measureCalls(redis, settings, "http", CALL_RATE)),
    // Below saturation: what one call costs in time when the two cores are not the queue.
    ...(await measureCalls(redis, settings, "grpc", CALL_RATE_UNSATURATED)),
  ];
}
