// The collector as the proxy benchmarks run it: a gateway in front of one upstream, its route
// from a pipeline file's `proxy:` section (EVENTPIPE_CONFIG) and a bearer token checked on
// every call, as in production. Only the door under test listens.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { COLLECTOR } from "./bench-services.js";
import { type Child, freePort, start, waitForOutput } from "./processes.js";
import type { BenchRedis } from "./redis-server.js";

/** The bearer token the gateway accepts for proxied calls. */
export const PROXY_TOKEN = "bench-proxy-secret-0123456789";

/**
 * Writes the pipeline file into `dir` (`proxy:` followed by `proxyLines`), starts the
 * collector with the `door` listening on a free port, and resolves once it listens.
 */
export async function startProxyGateway(
  redis: BenchRedis,
  dir: string,
  door: "grpc" | "http",
  proxyLines: readonly string[],
): Promise<{ readonly child: Child; readonly address: string }> {
  const pipelineFile = join(dir, "pipeline.yaml");
  writeFileSync(
    pipelineFile,
    [
      "routes:",
      `  - { name: default, types: ["*"], queue: bench_${door}_proxy }`,
      "proxy:",
      ...proxyLines,
      "",
    ].join("\n"),
  );
  const address = `127.0.0.1:${await freePort()}`;
  const child = start(COLLECTOR, [], {
    REDIS_URL: redis.url,
    COLLECTOR_LISTEN: door === "grpc" ? address : "",
    COLLECTOR_HTTP_LISTEN: door === "http" ? address : "",
    EVENTPIPE_CONFIG: pipelineFile,
    COLLECTOR_TOKENS: `bench:${PROXY_TOKEN}:proxy`,
    LOG_LEVEL: "info",
  });
  await waitForOutput(child, "collector listening");
  return { child, address };
}
