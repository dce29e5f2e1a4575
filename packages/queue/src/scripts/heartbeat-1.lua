#!lua flags=allow-oom
--[[
  Renew a worker's lease on the events it holds. Leases use the Redis clock, so workers on
  hosts with skewed clocks still agree on who is alive.

  KEYS[1] workers zset (worker id -> lease expiry in ms)
  ARGV[1] worker id
  ARGV[2] lease length in ms

  Returns the Redis time in ms.
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return now
