#!lua flags=allow-oom
--[[
  Put the events held by a worker back at the head of the pending list, oldest next, and
  forget the worker. Used on workers whose lease expired (they died) and by a worker that
  shuts down before its handlers finished.

  Safe to run twice, and two workers may race to recover the same one: the first run empties
  the worker's in-flight hash and claim list, so a second run finds nothing to requeue.

  A recovered event's deliveries counter (the "ep1:<n>:" envelope header) grows by one when
  ARGV[4] is 1; an event recovered more than ARGV[2] times is a poison event (it keeps
  killing workers) and goes to the dead-letter list instead.

  KEYS[1] workers zset
  KEYS[2] pending list
  KEYS[3] claim list of the worker
  KEYS[4] in-flight hash of the worker
  KEYS[5] dead-letter list
  KEYS[6] stats hash
  KEYS[7] claim marks hash (the worker's mark goes with its in-flight hash; see claim-4.lua)
  ARGV[1] worker id
  ARGV[2] most deliveries before an event is dead-lettered
  ARGV[3] 1: recover even if the lease is still valid (the worker gives its events back)
  ARGV[4] 1: count this as a failed delivery

  Returns {-2} if the lease is still valid, else {0, requeued, dead-lettered}.
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if ARGV[3] ~= '1' then
  local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
  if expiry and tonumber(expiry) > now then
    return {-2}
  end
end

local maxDeliveries = tonumber(ARGV[2])
local countDelivery = ARGV[4] == '1'

-- Oldest first: the in-flight hash by sequence, then the claim list from its right end.
local held = {}
local fields = redis.call('HGETALL', KEYS[4])
local bySequence = {}
for i = 1, #fields, 2 do
  bySequence[#bySequence + 1] = {tonumber(fields[i]), fields[i + 1]}
end
table.sort(bySequence, function(a, b) return a[1] < b[1] end)
for i = 1, #bySequence do
  held[#held + 1] = bySequence[i][2]
end
local claimed = redis.call('LRANGE', KEYS[3], 0, -1)
for i = #claimed, 1, -1 do
  held[#held + 1] = claimed[i]
end

local requeue = {}
local deadLettered = 0
for i = 1, #held do
  local envelope = held[i]
  local digits, rest = string.match(envelope, '^ep1:(%d+):()')
  if digits and countDelivery then
    local deliveries = tonumber(digits) + 1
    local body = string.sub(envelope, rest)
    if deliveries > maxDeliveries then
      local meta = cjson.encode({
        reason = 'poison',
        message = 'the event was in flight on ' .. deliveries .. ' workers that stopped without finishing it',
        deliveries = deliveries,
        worker = ARGV[1],
        deadLetteredAtMs = now,
      })
      redis.call('LPUSH', KEYS[5], 'dl1:' .. meta .. '\n' .. 'ep1:' .. deliveries .. ':' .. body)
      deadLettered = deadLettered + 1
    else
      requeue[#requeue + 1] = 'ep1:' .. deliveries .. ':' .. body
    end
  else
    -- Not an envelope we can read: requeue it as it is; a worker dead-letters it on decode.
    requeue[#requeue + 1] = envelope
  end
end

-- RPUSH appends at the right end, the next to be popped: push newest first so the oldest
-- is taken first again.
for i = #requeue, 1, -1 do
  redis.call('RPUSH', KEYS[2], requeue[i])
end
if deadLettered > 0 then
  redis.call('HINCRBY', KEYS[6], 'deadLettered', deadLettered)
end
if countDelivery and #held > 0 then
  redis.call('HINCRBY', KEYS[6], 'recovered', #held)
end
redis.call('DEL', KEYS[3], KEYS[4])
redis.call('HDEL', KEYS[7], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
return {0, #requeue, deadLettered}
