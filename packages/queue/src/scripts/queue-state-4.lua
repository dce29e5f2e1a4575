#!lua flags=no-writes
--[[
  A queue's state in one call, for metrics scraped every few seconds: bounded work (a few
  counts, one HLEN per live worker, the oldest entry).

  KEYS[1] pending list
  KEYS[2] workers zset (lease expiries)
  KEYS[3] delayed zset
  KEYS[4] dead-letter list
  ARGV[1] the in-flight hash prefix: `<prefix><worker id>` is a worker's in-flight hash

  Returns {Redis time in ms, pending, delayed, dead letters, live workers, held by live
  workers, the oldest pending entry or false}.
]]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local live = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. now, '+inf')
local held = 0
for _, id in ipairs(live) do
  held = held + redis.call('HLEN', ARGV[1] .. id)
end
return {
  now,
  redis.call('LLEN', KEYS[1]),
  redis.call('ZCARD', KEYS[3]),
  redis.call('LLEN', KEYS[4]),
  #live,
  held,
  redis.call('LINDEX', KEYS[1], -1),
}
