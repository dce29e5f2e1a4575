export { closeServer, listenOnLoopback } from "./loopback-server.js";
export type { NodeProcess } from "./node-process.js";
export { startNodeProcess, until, waitForOutput } from "./node-process.js";
export type { ClusterNode, RedisCluster, RedisClusterOptions } from "./redis-cluster.js";
export { startRedisCluster } from "./redis-cluster.js";
export { askNode } from "./redis-node.js";
export type { RedisServer, RedisServerOptions } from "./redis-server.js";
export { freePort, redisServerInstalled, startRedisServer } from "./redis-server.js";
