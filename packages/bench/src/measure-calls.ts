// Request and reply figures: Call round trips at an open-loop rate through one door (the gRPC
// Call RPC or POST /v1/call), p50 / p99 / max and the CPU each process spends per call. On two
// cores, the CPU per call times the rate says how close the machine is to saturation, which
// is what the p99 mostly measures there.
import { CALL_DEADLINE_MS, type CallDoor, type CallLatency, callLatency } from "./call-latency.js";
import type { BenchRedis } from "./redis-server.js";
import type { BenchSettings } from "./settings.js";
import { median, type Row } from "./table.js";

/** The target: p99 under this many ms at 1,000 calls/s. */
const P99_TARGET_MS = 10;

const micros = (value: number) => `${value.toFixed(0)} µs`;

export async function measureCalls(
  redis: BenchRedis,
  settings: BenchSettings,
  door: CallDoor,
  rate: number,
): Promise<Row[]> {
  const seconds = settings.quick ? 2 : 10;
  const through = door === "grpc" ? "gRPC Call" : "HTTP POST /v1/call";
  const label = `${through}, echo gRPC processor, at ${rate.toLocaleString("en")}/s open loop`;
  console.log(`${through} round trip, ${rate.toLocaleString("en")} calls/s for ${seconds} s`);
  const latency = { p50: [] as number[], p99: [] as number[], max: [] as number[] };
  const achieved: number[] = [];
  const clientDelay: number[] = [];
  const callCpu: CallLatency["cpuMicros"][] = [];
  let timedOut = 0;
  for (let i = 0; i < settings.runs; i++) {
    const figures = await callLatency(redis, rate, seconds, door);
    latency.p50.push(figures.p50);
    latency.p99.push(figures.p99);
    latency.max.push(figures.max);
    achieved.push(figures.perSecond);
    clientDelay.push(figures.clientLoopDelayP99Ms);
    callCpu.push(figures.cpuMicros);
    timedOut += figures.timedOut;
    console.log(
      `  run ${i + 1}/${settings.runs}: p50 ${figures.p50.toFixed(2)} ms, p99 ${figures.p99.toFixed(2)} ms, ` +
        `max ${figures.max.toFixed(2)} ms, ${figures.perSecond.toFixed(0)} calls/s, ` +
        `${figures.timedOut} past the deadline`,
    );
  }
  const late =
    timedOut === 0
      ? ""
      : `; ${timedOut.toLocaleString("en")} calls (all runs) hit the ${CALL_DEADLINE_MS / 1000} s deadline and count as what they waited`;
  const perCall = {
    caller: median(callCpu.map((call) => call.caller)),
    collector: median(callCpu.map((call) => call.collector)),
    worker: median(callCpu.map((call) => call.worker)),
    echoProcessor: median(callCpu.map((call) => call.echoProcessor)),
    redis: median(callCpu.map((call) => call.redis)),
  };
  const perCallTotal = Object.values(perCall).reduce((sum, value) => sum + value, 0);
  // The share of the machine's cores the pipeline and its caller need at this rate.
  const coresBusy = (perCallTotal * rate) / 1e6;
  return [
    { section: "processors", name: `${label}: p50`, unit: "ms", samples: latency.p50 },
    {
      section: "processors",
      name: `${label}: p99`,
      unit: "ms",
      samples: latency.p99,
      ...(rate === 1000 ? { limit: { max: P99_TARGET_MS } } : {}),
      extra:
        `${(rate * seconds).toLocaleString("en")} calls over ${seconds} s after 1 s of warm-up, each timed from its scheduled start; ` +
        `caller's event-loop delay p99 ${median(clientDelay).toFixed(2)} ms; CPU per call ` +
        `${micros(perCallTotal)} (caller ${micros(perCall.caller)}, collector ${micros(perCall.collector)}, ` +
        `worker ${micros(perCall.worker)}, echo processor ${micros(perCall.echoProcessor)}, ` +
        `Redis ${micros(perCall.redis)}): ${coresBusy.toFixed(2)} cores busy${late}`,
      details: {
        grpcDoor: door === "grpc" ? 1 : 0,
        callsPerSecond: rate,
        seconds,
        callerLoopDelayP99Ms: median(clientDelay),
        callsPastDeadline: timedOut,
        callerCpuMicrosPerCall: perCall.caller,
        collectorCpuMicrosPerCall: perCall.collector,
        workerCpuMicrosPerCall: perCall.worker,
        echoProcessorCpuMicrosPerCall: perCall.echoProcessor,
        redisCpuMicrosPerCall: perCall.redis,
        coresBusy,
      },
    },
    { section: "processors", name: `${label}: max`, unit: "ms", samples: latency.max },
    {
      section: "processors",
      name: `${label}: calls answered per second`,
      unit: "calls/s",
      samples: achieved,
      ratio: { value: median(achieved) / rate, of: "offered" },
    },
  ];
}
