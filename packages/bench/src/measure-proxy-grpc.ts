// The gRPC proxy's figure: unary calls through a collector process to an echo upstream
// process, against the same upstream called directly, by the same load generator at the same
// concurrency, in the same rounds. The collector takes its route from a pipeline file
// (EVENTPIPE_CONFIG) and checks a bearer token, as a gateway in production would.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Child, cpuSeconds, freePort, start, waitForOutput } from "./processes.js";
import { PROXY_TOKEN, startProxyGateway } from "./proxy-gateway.js";
import { type BenchRedis, startBenchRedis } from "./redis-server.js";
import { type BenchSettings, repeatTogether } from "./settings.js";
import { median, type Row } from "./table.js";

const UPSTREAM = "packages/bench/dist/grpc-echo-upstream.js";
const LOAD = "packages/bench/dist/grpc-unary-load.js";
const ECHO_METHOD = "/bench.v1.Echo/Echo";
/** Calls in flight on the load generator's one channel. */
const IN_FLIGHT = 64;
const REQUEST_BYTES = 256;

interface LoadSummary {
  readonly calls: number;
  readonly perSecond: number;
  readonly cpuSeconds: number;
}

/** One closed-loop run of the load generator against `address`; resolves calls per second. */
async function unaryLoad(address: string, seconds: number): Promise<LoadSummary> {
  const load = start(
    LOAD,
    [
      "--address",
      address,
      "--method",
      ECHO_METHOD,
      "--seconds",
      String(seconds),
      "--in-flight",
      String(IN_FLIGHT),
      "--bytes",
      String(REQUEST_BYTES),
      "--token",
      PROXY_TOKEN,
    ],
    {},
  );
  const code = await load.exited;
  const last = load.output().trim().split("\n").pop() ?? "";
  if (code !== 0) throw new Error(`grpc unary load failed:\n${load.output().slice(-2000)}`);
  return JSON.parse(last) as LoadSummary;
}

/**
 * Proxied against direct gRPC unary calls. Uses `redis` when given (the collector needs one
 * to start), else a private redis-server of its own.
 */
export async function measureGrpcProxy(
  settings: BenchSettings,
  redis?: BenchRedis,
): Promise<Row[]> {
  const seconds = settings.quick ? 2 : 4;
  console.log(`gRPC proxy: unary calls, ${IN_FLIGHT} in flight, ${seconds} s per run`);
  const ownRedis = redis === undefined ? await startBenchRedis() : undefined;
  const dir = mkdtempSync(join(tmpdir(), "bench-grpc-proxy-"));
  const children: Child[] = [];
  try {
    const upstreamAddress = `127.0.0.1:${await freePort()}`;
    const upstream = start(UPSTREAM, [upstreamAddress.split(":")[1]!], {});
    children.push(upstream);
    await waitForOutput(upstream, "grpc echo upstream listening");

    const { child: collector, address: collectorAddress } = await startProxyGateway(
      (redis ?? ownRedis)!,
      dir,
      "grpc",
      ["  grpc:", `    - { services: ["bench.v1."], upstream: "${upstreamAddress}" }`],
    );
    children.push(collector);

    const pid = collector.child.pid!;
    /** The collector's CPU per proxied call (warm-up calls included), in µs. */
    const collectorMicros: number[] = [];
    const { direct, proxied } = await repeatTogether(settings, {
      direct: async () => (await unaryLoad(upstreamAddress, seconds)).perSecond,
      proxied: async () => {
        const before = cpuSeconds(pid);
        const summary = await unaryLoad(collectorAddress, seconds);
        collectorMicros.push(((cpuSeconds(pid) - before) * 1e6) / summary.calls);
        return summary.perSecond;
      },
    });
    const micros = median(collectorMicros);
    const name = `gRPC unary, ${REQUEST_BYTES} B echo, ${IN_FLIGHT} in flight`;
    return [
      {
        section: "ceiling",
        name: `${name}, upstream called directly`,
        unit: "calls/s",
        samples: direct,
      },
      {
        section: "proxy",
        name: `${name}, through the collector's gRPC proxy`,
        unit: "calls/s",
        samples: proxied,
        ratio: { value: median(proxied) / median(direct), of: "of direct calls", target: 0.6 },
        extra:
          `one channel from the load generator, one from the collector to the upstream; token ` +
          `checked on every call; collector CPU about ${micros.toFixed(0)} µs per call`,
        details: {
          inFlight: IN_FLIGHT,
          requestBytes: REQUEST_BYTES,
          seconds,
          collectorCpuMicrosPerCall: micros,
        },
      },
    ];
  } finally {
    await Promise.all(children.map((child) => child.stop()));
    await ownRedis?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
