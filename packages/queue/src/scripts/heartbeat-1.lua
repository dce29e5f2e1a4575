#!lua flags=allow-oom
--[[
  Renew a worker's lease on the events it holds. Leases use the Redis clock, so workers on
  hosts with skewed clocks still agree on who is alive. Safe to run twice: a resend only
  moves the expiry to the same or a later time.

  KEYS[1] workers zset (worker id -> lease expiry in ms)
  ARGV[1] worker id
  ARGV[2] lease length in ms

  Returns {Redis time in ms, 1 if the worker was not registered (its first heartbeat, or its
  lease had expired and its events were taken back), else 0}.
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local added = redis.call('ZADD', KEYS[1], 'GT', now + tonumber(ARGV[2]), ARGV[1])
return {now, added}
