export type { NodeProcess } from "./node-process.js";
export { startNodeProcess, until, waitForOutput } from "./node-process.js";
export type { RedisServer, RedisServerOptions } from "./redis-server.js";
export { freePort, redisServerInstalled, startRedisServer } from "./redis-server.js";
