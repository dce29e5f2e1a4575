#!lua flags=allow-oom
--[[
  Acknowledge events whose handler finished: drop them from the worker's in-flight hash and
  count them.
  Safe to run twice: HDEL removes an entry once, and only what was removed is counted, so a
  resent ack counts nothing again. An event no longer in the hash was taken back after this worker's lease
  expired; another worker will process and count it, so it is not counted here.

  KEYS[1] in-flight hash of this worker
  KEYS[2] stats hash
  KEYS[3] processed-by-type hash
  KEYS[4] processed-by-worker hash
  ARGV[1] worker id
  ARGV[2..] pairs, one per event type: type, its delivery sequences joined by commas

  Returns the number of events acknowledged.
]]
local SLICE = 1000 -- unpack() is bounded by the Lua stack
local acked = 0
for i = 2, #ARGV, 2 do
  local sequences = {}
  for sequence in string.gmatch(ARGV[i + 1], '%d+') do
    sequences[#sequences + 1] = sequence
  end
  local deleted = 0
  for from = 1, #sequences, SLICE do
    deleted = deleted + redis.call('HDEL', KEYS[1], unpack(sequences, from, math.min(from + SLICE - 1, #sequences)))
  end
  if deleted > 0 then
    redis.call('HINCRBY', KEYS[3], ARGV[i], deleted)
    acked = acked + deleted
  end
end
if acked > 0 then
  redis.call('HINCRBY', KEYS[2], 'processed', acked)
  redis.call('HINCRBY', KEYS[4], ARGV[1], acked)
end
return acked
