// The collector's HTTP door against a no-op fastify server, both fed by the same load generator.
import {
  HTTP_BATCH,
  HTTP_IN_FLIGHT,
  type HttpIngestFigures,
  httpIngest,
  httpSinkCeiling,
} from "./http-scenarios.js";
import type { BenchRedis } from "./redis-server.js";
import { type BenchSettings, repeatTogether } from "./settings.js";
import { median, type Row } from "./table.js";

export async function measureHttp(redis: BenchRedis, settings: BenchSettings): Promise<Row[]> {
  console.log("HTTP");
  const cpu: HttpIngestFigures["cpuMicros"][] = [];
  const { sink, ingest } = await repeatTogether(settings, {
    sink: () => httpSinkCeiling(redis, settings.events),
    ingest: async () => {
      const figures = await httpIngest(redis, settings.events);
      cpu.push(figures.cpuMicros);
      return figures.perSecond;
    },
  });
  const cpuMicros = {
    collector: median(cpu.map((c) => c.collector)),
    redis: median(cpu.map((c) => c.redis)),
    load: median(cpu.map((c) => c.load)),
  };
  return [
    {
      section: "ceiling",
      name: `fastify no-op sink, JSON batches of ${HTTP_BATCH}, ${HTTP_IN_FLIGHT} requests in flight`,
      unit: "events/s",
      samples: sink,
    },
    {
      section: "ingest",
      name: `HTTP JSON, batches of ${HTTP_BATCH}, keep-alive`,
      unit: "events/s",
      samples: ingest,
      ratio: { value: median(ingest) / median(sink), of: "of HTTP sink", target: 0.6 },
      extra:
        `${HTTP_IN_FLIGHT} requests in flight; CPU per event: collector ${cpuMicros.collector.toFixed(1)} µs, ` +
        `Redis ${cpuMicros.redis.toFixed(1)} µs, load generator ${cpuMicros.load.toFixed(1)} µs`,
      details: {
        batchSize: HTTP_BATCH,
        inFlight: HTTP_IN_FLIGHT,
        collectorCpuMicrosPerEvent: cpuMicros.collector,
        redisCpuMicrosPerEvent: cpuMicros.redis,
        loadGeneratorCpuMicrosPerEvent: cpuMicros.load,
      },
    },
  ];
}
