#!lua flags=allow-oom
--[[
  Move an event the worker holds to the dead-letter list. Nothing happens if the worker no
  longer holds it (its lease expired and another worker took it back).
  Safe to run twice: the HDEL guard makes a resent call do nothing.

  KEYS[1] in-flight hash of the worker
  KEYS[2] dead-letter list
  KEYS[3] stats hash
  ARGV[1] delivery sequence
  ARGV[2] dead-letter entry

  Returns 1 if dead-lettered, 0 if the worker no longer held the event.
]]
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('HINCRBY', KEYS[3], 'deadLettered', 1)
return 1
