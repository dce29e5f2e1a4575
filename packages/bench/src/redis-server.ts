// The benchmark's private redis-server: production settings (AOF, fsync every second, no
// eviction), on a free port, data in a temporary folder.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort, until } from "./processes.js";

export interface BenchRedis {
  readonly url: string;
  readonly port: number;
  readonly client: Redis;
  close(): Promise<void>;
}

export async function startBenchRedis(): Promise<BenchRedis> {
  if (spawnSync("redis-server", ["--version"]).error) {
    throw new Error("redis-server is not on PATH (Debian/Ubuntu: apt-get install redis-server)");
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "eventpipe-bench-"));
  const child = spawn(
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
    ],
    { stdio: "ignore" },
  );
  const client = new Redis(port, "127.0.0.1", { maxRetriesPerRequest: null });
  client.on("error", () => {});
  await until(
    "redis-server",
    () =>
      client.ping().then(
        () => true,
        () => false,
      ),
    10_000,
    50,
  );
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    client,
    async close() {
      client.disconnect();
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
