// The tests' own servers (HTTP receivers, upstreams, raw TCP peers) on a free port of
// 127.0.0.1, and their orderly close.
import { once } from "node:events";
import type { Server } from "node:net";

/** Listens on a free port of 127.0.0.1 and resolves it. */
export async function listenOnLoopback(server: Server): Promise<number> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as { port: number }).port;
}

/** Closes the server; an HTTP server's open connections, idle keep-alive ones too, go first. */
export async function closeServer(server: Server): Promise<void> {
  (server as { closeAllConnections?: () => void }).closeAllConnections?.();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
