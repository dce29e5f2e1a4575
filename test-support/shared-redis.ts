// The run's shared redis-server (started by global-setup) and one client of it for a test
// file, closed once the file's tests are done. Tests isolate themselves by queue name.
import { Redis } from "ioredis";
import { afterAll, inject } from "vitest";

export function useSharedRedis(): { readonly redisUrl: string; readonly redis: Redis } {
  const redisUrl = inject("redisUrl");
  const redis = new Redis(redisUrl);
  afterAll(() => {
    redis.disconnect();
  });
  return { redisUrl, redis };
}
