#!lua flags=allow-oom
--[[
  Move up to N events from the right end (oldest) of the pending list into one worker's
  in-flight hash, in one atomic step. An event that the worker's blocking BLMOVE already
  landed in its claim list comes first: it was the oldest when it was taken.

  KEYS[1] pending list
  KEYS[2] claim list of this worker
  KEYS[3] in-flight hash of this worker (delivery sequence -> envelope)
  ARGV[1] N, the most events to claim
  ARGV[2] delivery sequence of the first claimed event; the next ones follow it

  Returns the claimed envelopes, oldest first; the i-th has sequence ARGV[2] + i - 1.
]]
local max = tonumber(ARGV[1])
local first = tonumber(ARGV[2])
local claimed = redis.call('RPOP', KEYS[2], max)
if not claimed then
  claimed = {}
end
if #claimed < max then
  local more = redis.call('RPOP', KEYS[1], max - #claimed)
  if more then
    for i = 1, #more do
      claimed[#claimed + 1] = more[i]
    end
  end
end
if #claimed == 0 then
  return claimed
end
local fields = {}
for i = 1, #claimed do
  fields[#fields + 1] = string.format('%d', first + i - 1)
  fields[#fields + 1] = claimed[i]
end
redis.call('HSET', KEYS[3], unpack(fields))
return claimed
