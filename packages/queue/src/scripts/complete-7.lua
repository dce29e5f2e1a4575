#!lua
--[[
  Acknowledge events whose processing produced an answer to keep or to relay, in one step
  with keeping it: the result goes to the result queue's pending list and the reply to the
  channel of the collector whose caller waits (a Call), both only if the event is still
  held. The ack and the result are then one atomic step: a result is never stored for an
  event that another worker will process again, and an acknowledged event never lacks its
  result.

  Safe to run twice: the HDEL guard makes a resent call store and publish nothing again.

  No allow-oom flag: at maxmemory Redis refuses the whole call (nothing acknowledged, nothing
  stored) and the worker tries again, rather than acknowledging without the result.

  KEYS[1] in-flight hash of this worker
  KEYS[2] stats hash
  KEYS[3] processed-by-type hash
  KEYS[4] processed-by-worker hash
  KEYS[5] the result queue's pending list (any key when no event has a result)
  KEYS[6] the result queue's listeners zset (feed-listeners.lua: they see the results stored)
  KEYS[7] the result queue's stats hash (`enqueued` counts the results stored)
  ARGV[1] worker id
  ARGV[2..] five per event: delivery sequence, type, result envelope or "", reply channel
            or "", reply message

  Returns the number of events acknowledged.
]]
-- @include feed-listeners.lua

local acked = 0
local byType = {}
local results = {}
for i = 2, #ARGV, 5 do
  if redis.call('HDEL', KEYS[1], ARGV[i]) == 1 then
    acked = acked + 1
    byType[ARGV[i + 1]] = (byType[ARGV[i + 1]] or 0) + 1
    if ARGV[i + 2] ~= '' then
      redis.call('LPUSH', KEYS[5], ARGV[i + 2])
      results[#results + 1] = ARGV[i + 2]
    end
    if ARGV[i + 3] ~= '' then
      redis.call('PUBLISH', ARGV[i + 3], ARGV[i + 4])
    end
  end
end
feedListeners(KEYS[6], results, 1, #results)
if #results > 0 then
  redis.call('HINCRBY', KEYS[7], 'enqueued', #results)
end
for eventType, count in pairs(byType) do
  redis.call('HINCRBY', KEYS[3], eventType, count)
end
if acked > 0 then
  redis.call('HINCRBY', KEYS[2], 'processed', acked)
  redis.call('HINCRBY', KEYS[4], ARGV[1], acked)
end
return acked
