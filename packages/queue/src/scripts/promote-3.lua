#!lua flags=allow-oom
--[[
  Move retries that are due from the delayed set to the head of the pending list (the next
  to be popped), earliest due first.
  Safe to run twice: what was moved left the delayed set in the same step, so a resent call
  moves only retries that came due since, or nothing.

  Listeners see the moved entries as stored again (feed-listeners.lua).

  KEYS[1] delayed zset
  KEYS[2] pending list
  KEYS[3] listeners zset
  ARGV[1] most entries to move

  Returns the number moved.
]]
-- @include feed-listeners.lua

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
if #due == 0 then
  return 0
end
for i = #due, 1, -1 do
  redis.call('RPUSH', KEYS[2], due[i])
end
redis.call('ZREM', KEYS[1], unpack(due))
feedListeners(KEYS[3], due, 1, #due)
return #due
