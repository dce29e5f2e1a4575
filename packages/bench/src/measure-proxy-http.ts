// The HTTP proxy's figure: small JSON POSTs through a collector process to the node:http echo
// server (echo-http-server.ts), against the same echo server called directly, by the same
// load generator (autocannon, in this process) at the same number of keep-alive connections,
// in the same rounds. The collector takes its route from a pipeline file (EVENTPIPE_CONFIG)
// and checks a bearer token with the `proxy` scope, as a gateway in production would.
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Child, cpuSeconds, freePort, start, waitForOutput } from "./processes.js";
import { PROXY_TOKEN, startProxyGateway } from "./proxy-gateway.js";
import { type BenchRedis, startBenchRedis } from "./redis-server.js";
import { type BenchSettings, repeatTogether } from "./settings.js";
import { median, type Row } from "./table.js";

const ECHO_HTTP = "packages/bench/dist/echo-http-server.js";
/** Keep-alive connections, one request in flight on each; the same for both targets. */
const CONNECTIONS = 32;
const REQUEST_BYTES = 256;

/** The part of autocannon's programmatic API used here (the package ships no types). */
interface LoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly duration: number;
  readonly method: "POST";
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}
interface LoadResult {
  readonly requests: { readonly total: number };
  readonly latency: { readonly p50: number; readonly p99: number };
  /** Seconds. */
  readonly duration: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
}
const autocannon = createRequire(import.meta.url)("autocannon") as (
  options: LoadOptions,
) => Promise<LoadResult>;

const BODY = JSON.stringify({ user: "ada", note: "x".repeat(REQUEST_BYTES - 24) });

interface LoadRun {
  readonly perSecond: number;
  readonly requests: number;
  readonly p99Ms: number;
}

/** One closed-loop run against `url`; throws unless every request got a 2xx. */
async function load(url: string, seconds: number, token?: string): Promise<LoadRun> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    method: "POST",
    headers,
    body: BODY,
  });
  if (
    result.non2xx > 0 ||
    result.errors > 0 ||
    result.timeouts > 0 ||
    result.requests.total === 0
  ) {
    throw new Error(
      `http load against ${url}: ${result.requests.total} requests, ${result.non2xx} non-2xx, ` +
        `${result.errors} errors, ${result.timeouts} timeouts`,
    );
  }
  return {
    perSecond: result.requests.total / result.duration,
    requests: result.requests.total,
    p99Ms: result.latency.p99,
  };
}

/**
 * Proxied against direct HTTP requests. Uses `redis` when given (the collector needs one to
 * start), else a private redis-server of its own.
 */
export async function measureHttpProxy(
  settings: BenchSettings,
  redis?: BenchRedis,
): Promise<Row[]> {
  const seconds = settings.quick ? 2 : 4;
  console.log(
    `HTTP proxy: ${REQUEST_BYTES} B POSTs, ${CONNECTIONS} connections, ${seconds} s per run`,
  );
  const ownRedis = redis === undefined ? await startBenchRedis() : undefined;
  const dir = mkdtempSync(join(tmpdir(), "bench-http-proxy-"));
  const children: Child[] = [];
  try {
    const upstreamPort = await freePort();
    const upstream = start(ECHO_HTTP, [String(upstreamPort)], {});
    children.push(upstream);
    await waitForOutput(upstream, "echo http server listening");

    const { child: collector, address: collectorAddress } = await startProxyGateway(
      (redis ?? ownRedis)!,
      dir,
      "http",
      ["  http:", `    - { prefix: /api, upstream: "http://127.0.0.1:${upstreamPort}" }`],
    );
    children.push(collector);

    const directUrl = `http://127.0.0.1:${upstreamPort}/echo`;
    const proxiedUrl = `http://${collectorAddress}/api/echo`;
    // Connections opened and code warmed on both paths before anything is counted.
    await load(directUrl, 1);
    await load(proxiedUrl, 1, PROXY_TOKEN);

    const pid = collector.child.pid!;
    /** The collector's CPU per proxied request, in µs. */
    const collectorMicros: number[] = [];
    const p99: { direct: number[]; proxied: number[] } = { direct: [], proxied: [] };
    const { direct, proxied } = await repeatTogether(settings, {
      direct: async () => {
        const run = await load(directUrl, seconds);
        p99.direct.push(run.p99Ms);
        return run.perSecond;
      },
      proxied: async () => {
        const before = cpuSeconds(pid);
        const run = await load(proxiedUrl, seconds, PROXY_TOKEN);
        collectorMicros.push(((cpuSeconds(pid) - before) * 1e6) / run.requests);
        p99.proxied.push(run.p99Ms);
        return run.perSecond;
      },
    });
    const micros = median(collectorMicros);
    const name = `HTTP POST, ${REQUEST_BYTES} B JSON echoed, ${CONNECTIONS} keep-alive connections`;
    return [
      {
        section: "ceiling",
        name: `${name}, upstream called directly`,
        unit: "req/s",
        samples: direct,
        extra: `p99 ${median(p99.direct).toFixed(1)} ms`,
      },
      {
        section: "proxy",
        name: `${name}, through the collector's HTTP proxy`,
        unit: "req/s",
        samples: proxied,
        ratio: { value: median(proxied) / median(direct), of: "proxied / direct", target: 0.7 },
        extra:
          `autocannon in the bench process; token checked on every request; p99 ` +
          `${median(p99.proxied).toFixed(1)} ms; collector CPU about ${micros.toFixed(0)} µs per request`,
        details: {
          connections: CONNECTIONS,
          requestBytes: REQUEST_BYTES,
          seconds,
          directP99Ms: median(p99.direct),
          proxiedP99Ms: median(p99.proxied),
          collectorCpuMicrosPerRequest: micros,
        },
      },
    ];
  } finally {
    await Promise.all(children.map((child) => child.stop()));
    await ownRedis?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
