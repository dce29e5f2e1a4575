#!lua flags=allow-oom
--[[
  Schedule a failed event for another attempt: remove it from the worker's in-flight hash and
  add its updated envelope to the delayed set. Nothing happens if the worker no longer holds
  the event (its lease expired and another worker took it back).
  Safe to run twice: the HDEL guard makes a resent call do nothing.

  KEYS[1] in-flight hash of the worker
  KEYS[2] delayed zset (envelope -> due time in ms)
  KEYS[3] stats hash
  ARGV[1] delivery sequence
  ARGV[2] delay in ms
  ARGV[3] updated envelope

  Returns 1 if scheduled, 0 if the worker no longer held the event.
]]
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then
  return 0
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[3])
redis.call('HINCRBY', KEYS[3], 'retried', 1)
return 1
