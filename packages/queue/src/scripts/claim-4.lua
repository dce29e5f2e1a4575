#!lua flags=allow-oom
--[[
  Move up to N events from the right end (oldest) of the pending list into one worker's
  in-flight hash, in one atomic step, and register the worker's lease if it has none. (The
  worker waits for events with a BLMOVE of the pending list onto itself, which moves nothing,
  so no event ever sits anywhere but in the pending list or an in-flight hash.)

  Safe to run twice. A call can run again with the same arguments: ioredis resends a command
  whose reply a dropped connection lost, and the worker retries a claim that failed. The
  worker never reuses a delivery sequence that held an event, so an in-flight entry at ARGV[2]
  can only come from an earlier run of this very call: the script then returns that run's
  events and claims nothing new. Without this check the second run would pop other events and
  overwrite the first run's entries, which nobody would ever process.

  The other order is guarded too: a first run delayed on a dead connection that reaches Redis
  after its resend was answered and its events acknowledged. The worker's claim mark (the
  highest ARGV[2] that took events) is then at or past ARGV[2], so the late run takes nothing;
  otherwise it would park events in the in-flight hash of a live worker that never sees them.
  Recovery clears the mark with the hash, so a worker whose events were taken back claims anew.

  The lease is registered here too: a worker whose lease expired (it was paused, or cut off
  from Redis) had its events taken back and its entry removed; events it claims afterwards
  must belong to a registered worker, or nobody would take them back if it died.

  KEYS[1] pending list
  KEYS[2] in-flight hash of this worker (delivery sequence -> envelope)
  KEYS[3] workers zset (worker id -> lease expiry in ms)
  KEYS[4] claim marks hash (worker id -> first sequence of its latest claim that took events)
  ARGV[1] N, the most events to claim
  ARGV[2] delivery sequence of the first claimed event; the next ones follow it
  ARGV[3] worker id
  ARGV[4] lease length in ms

  Returns the claimed envelopes, oldest first; the i-th has sequence ARGV[2] + i - 1.
]]
local max = tonumber(ARGV[1])
local first = tonumber(ARGV[2])

if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then
  local claimed = {}
  for i = 1, max do
    local envelope = redis.call('HGET', KEYS[2], string.format('%d', first + i - 1))
    if not envelope then
      break
    end
    claimed[i] = envelope
  end
  return claimed
end
local mark = redis.call('HGET', KEYS[4], ARGV[3])
if mark and tonumber(mark) >= first then
  return {}
end

local claimed = redis.call('RPOP', KEYS[1], max)
if not claimed then
  return {}
end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZADD', KEYS[3], 'GT', now + tonumber(ARGV[4]), ARGV[3])
redis.call('HSET', KEYS[4], ARGV[3], ARGV[2])

local SLICE = 1000 -- unpack() is bounded by the Lua stack
for from = 1, #claimed, SLICE do
  local fields = {}
  for i = from, math.min(from + SLICE - 1, #claimed) do
    fields[#fields + 1] = string.format('%d', first + i - 1)
    fields[#fields + 1] = claimed[i]
  end
  redis.call('HSET', KEYS[2], unpack(fields))
end
return claimed
