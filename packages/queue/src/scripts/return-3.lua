#!lua flags=allow-oom
--[[
  Put events back at the head of the queue (the end workers pop first) that sit in a worker's
  in-flight hash although the worker does not hold them: after Redis failed over to a replica
  that had not received the worker's latest acks, retries or dead letters, those events are
  in the hash again, under sequences the worker already finished. The worker's lease is live,
  so recovery would never take them back; the worker finds them and returns them here.
  Safe to run twice: HDEL removes an entry once, and only what was removed is requeued.

  KEYS[1] in-flight hash of the worker
  KEYS[2] pending list
  KEYS[3] stats hash
  ARGV[1..] delivery sequences to return

  Returns the number of events put back.
]]
local returned = 0
for i = 1, #ARGV do
  local envelope = redis.call('HGET', KEYS[1], ARGV[i])
  if envelope then
    redis.call('HDEL', KEYS[1], ARGV[i])
    redis.call('RPUSH', KEYS[2], envelope)
    returned = returned + 1
  end
end
if returned > 0 then
  redis.call('HINCRBY', KEYS[3], 'recovered', returned)
end
return returned
