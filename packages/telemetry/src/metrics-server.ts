// GET /metrics on its own port (METRICS_LISTEN), apart from the service's traffic, so a
// scrape never waits behind ingest and the port can stay inside the cluster network. GET
// /healthz answers 200 while the process runs, without touching Redis: a liveness probe for
// services (the worker) that have no other HTTP port.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { MetricRegistry } from "./metric-registry.js";

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** `listen` is host:port ([v6]:port); port 0 picks a free one. */
export async function startMetricsServer(
  listen: string,
  metrics: MetricRegistry,
): Promise<MetricsServer> {
  const at = listen.lastIndexOf(":");
  const host = listen.slice(0, at).replace(/^\[(.*)\]$/, "$1");
  const port = Number(listen.slice(at + 1));
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "").split("?")[0];
    if (request.method === "GET" && path === "/healthz") {
      response.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}\n');
      return;
    }
    if (request.method !== "GET" || path !== "/metrics") {
      response.writeHead(404, { "content-type": "text/plain" }).end("GET /metrics\n");
      return;
    }
    metrics.render().then(
      (text) => response.writeHead(200, { "content-type": CONTENT_TYPE }).end(text),
      (error: unknown) =>
        response.writeHead(500, { "content-type": "text/plain" }).end(`${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
