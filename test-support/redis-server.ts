// The tests' private redis-server lives in @eventpipe/testkit, shared with the benchmark and
// the local runner. Tests keep its data on a memory-backed folder where there is one: with
// `appendfsync everysec` Redis postpones writing its AOF (up to 2 s, replies still sent) while
// a slow fsync is in progress, so on a disk that other tests keep busy a killed Redis could
// lose acknowledged writes. The tests check the pipeline, not the disk; the README says what
// everysec promises on a real one.
import { existsSync } from "node:fs";
import {
  type RedisServer,
  type RedisServerOptions,
  startRedisServer as startServer,
} from "../packages/testkit/src/index.js";

export type { RedisServer } from "../packages/testkit/src/index.js";
export { freePort } from "../packages/testkit/src/index.js";

const MEMORY_DISK = "/dev/shm";

export function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const baseDir = existsSync(MEMORY_DISK) ? MEMORY_DISK : undefined;
  return startServer({ baseDir, ...options });
}
