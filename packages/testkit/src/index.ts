export type { RedisServer, RedisServerOptions } from "./redis-server.js";
export { freePort, redisServerInstalled, startRedisServer } from "./redis-server.js";
