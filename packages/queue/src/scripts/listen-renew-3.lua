#!lua flags=allow-oom
--[[
  Register a listener (`pnpm listen`) or renew its lease, and hand it the count of events it
  missed by falling behind (see feed-listeners.lua). Also removes listeners whose lease ended.
  Safe to run twice: the lease is set again and the dropped count, once taken, is 0.

  KEYS[1] listeners zset: listener id -> end of its lease (Redis clock, ms)
  KEYS[2] this listener's list
  KEYS[3] this listener's dropped counter
  ARGV[1] listener id
  ARGV[2] lease in ms

  Returns {1 if the listener was not registered (new, or its lease had ended), events dropped}.
]]
local lease = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local added = redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
-- The zset lives as long as its longest lease, so it goes when the last listener does.
local ttl = redis.call('PTTL', KEYS[1])
if ttl < lease then
  redis.call('PEXPIRE', KEYS[1], lease)
end
redis.call('PEXPIREAT', KEYS[2], now + lease)
local dropped = redis.call('GETDEL', KEYS[3])
return {added, tonumber(dropped) or 0}
