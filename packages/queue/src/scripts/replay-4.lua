#!lua flags=allow-oom
--[[
  Move dead-letter entries back to the pending list. An entry is replayed only if it is still
  in the dead-letter list, so two operators replaying at once never duplicate an event.
  Safe to run twice for the same reason: a resent call finds the entries gone and does nothing.

  Listeners see the replayed events as stored (feed-listeners.lua).

  KEYS[1] dead-letter list
  KEYS[2] pending list
  KEYS[3] listeners zset
  KEYS[4] stats hash (`enqueued` counts the replayed events)
  ARGV pairs: dead-letter entry, fresh envelope to enqueue

  Returns the number replayed.
]]
-- @include feed-listeners.lua

local replayed = {}
for i = 1, #ARGV, 2 do
  if redis.call('LREM', KEYS[1], 1, ARGV[i]) == 1 then
    redis.call('LPUSH', KEYS[2], ARGV[i + 1])
    replayed[#replayed + 1] = ARGV[i + 1]
  end
end
feedListeners(KEYS[3], replayed, 1, #replayed)
if #replayed > 0 then
  redis.call('HINCRBY', KEYS[4], 'enqueued', #replayed)
end
return #replayed
