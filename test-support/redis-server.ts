// The tests' private redis-server lives in @eventpipe/testkit, shared with the benchmark and
// the local runner.

export type { RedisServer } from "../packages/testkit/src/index.js";
export { freePort, startRedisServer } from "../packages/testkit/src/index.js";
