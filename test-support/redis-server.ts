// A private redis-server for tests, on a free port of 127.0.0.1, that a test can stop, kill
// and start again (same port, same data folder, AOF on so restarts keep what was written).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** (Re)starts the server and waits until it answers PING. */
  start(): Promise<void>;
  /** SIGKILL: no chance to flush, like a crash. */
  kill(): Promise<void>;
  /** Stops the server (SIGKILL) and removes its data folder. */
  destroy(): Promise<void>;
}

export async function startRedisServer(extraArgs: string[] = []): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "eventpipe-redis-"));
  let child: ChildProcess | undefined;

  const exited = (proc: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) resolve();
      else proc.once("exit", () => resolve());
    });

  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    async start() {
      child = spawn(
        "redis-server",
        [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--dir",
          dir,
          "--save",
          "",
          "--appendonly",
          "yes",
          "--appendfsync",
          "everysec",
          "--maxmemory-policy",
          "noeviction",
          ...extraArgs,
        ],
        { stdio: "ignore" },
      );
      const probe = new Redis(port, "127.0.0.1", {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      probe.on("error", () => {});
      try {
        for (let attempt = 0; attempt < 200; attempt++) {
          try {
            await probe.connect();
            if ((await probe.ping()) === "PONG") return;
          } catch {
            probe.disconnect();
            await new Promise((resolve) => setTimeout(resolve, 25));
          }
        }
        throw new Error(`redis-server on port ${port} did not start`);
      } finally {
        probe.disconnect();
      }
    },
    async kill() {
      if (child === undefined) return;
      const proc = child;
      child = undefined;
      proc.kill("SIGKILL");
      await exited(proc);
    },
    async destroy() {
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
