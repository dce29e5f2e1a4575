// A private redis-server on a free port of 127.0.0.1, with production durability settings
// (AOF, fsync every second, no eviction). It can be stopped cleanly, killed like a crash and
// started again on the same port with the same data, which the fault tests rely on.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export function redisServerInstalled(): boolean {
  return spawnSync("redis-server", ["--version"]).error === undefined;
}

export interface RedisServerOptions {
  /** Where the data lives; default: a new temporary folder, removed by destroy(). */
  readonly dir?: string;
  /** Where that temporary folder is made; default: the system's temporary directory. */
  readonly baseDir?: string;
  readonly extraArgs?: readonly string[];
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** (Re)starts the server and waits until it answers PING. */
  start(): Promise<void>;
  /** SIGTERM: Redis finishes writing its AOF and exits. */
  stop(): Promise<void>;
  /** SIGKILL: no chance to flush, like a crash. */
  kill(): Promise<void>;
  /** Sends a signal to the running server: SIGSTOP and SIGCONT pause and resume it. */
  signal(signal: NodeJS.Signals): void;
  /** Kills the server and removes its data folder if it made it. */
  destroy(): Promise<void>;
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = options.dir ?? mkdtempSync(join(options.baseDir ?? tmpdir(), "eventpipe-redis-"));
  let child: ChildProcess | undefined;

  const end = async (signal: NodeJS.Signals) => {
    if (child === undefined) return;
    const proc = child;
    child = undefined;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill(signal);
    await exited;
  };

  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    async start() {
      child = spawn(
        "redis-server",
        [
          ...["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ""],
          ...[
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--maxmemory-policy",
            "noeviction",
          ],
          ...(options.extraArgs ?? []),
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
        // Bounded: 200 tries, 25 ms apart.
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
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
    signal(signal) {
      if (child === undefined) throw new Error(`redis-server on port ${port} is not running`);
      child.kill(signal);
    },
    async destroy() {
      await end("SIGKILL");
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
