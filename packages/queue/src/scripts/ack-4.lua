#!lua flags=allow-oom
--[[
  Acknowledge events whose handler finished: drop them from the worker's in-flight hash and
  count them. An event no longer in the hash was taken back after this worker's lease
  expired; another worker will process and count it, so it is not counted here.

  KEYS[1] in-flight hash of this worker
  KEYS[2] stats hash
  KEYS[3] processed-by-type hash
  KEYS[4] processed-by-worker hash
  ARGV[1] worker id
  ARGV[2..] pairs: delivery sequence, event type

  Returns the number of events acknowledged.
]]
local byType = {}
local acked = 0
for i = 2, #ARGV, 2 do
  if redis.call('HDEL', KEYS[1], ARGV[i]) == 1 then
    acked = acked + 1
    local eventType = ARGV[i + 1]
    byType[eventType] = (byType[eventType] or 0) + 1
  end
end
if acked > 0 then
  redis.call('HINCRBY', KEYS[2], 'processed', acked)
  redis.call('HINCRBY', KEYS[4], ARGV[1], acked)
  for eventType, n in pairs(byType) do
    redis.call('HINCRBY', KEYS[3], eventType, n)
  end
end
return acked
