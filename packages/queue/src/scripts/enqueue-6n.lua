#!lua
--[[
  Store a chunk of events atomically in one or more queues (a fan-out route stores a copy in
  each), dropping ids a queue already stored within the dedup window. All copies or none:
  the backlog check covers every queue before anything is written, and the "seen" markers are
  written in the same script as the LPUSH, so an id is never marked before its event is stored.

  Safe to run twice with deduplication on: a resent chunk finds its ids marked and stores
  nothing again, in any queue. With deduplication off (ARGV[1] = 0) a resend stores the chunk
  again, which is why the collector's connection never resends by itself (see
  redis-connection.ts).

  Deduplication uses two plain sets per queue that take turns: each holds the ids first stored
  during one window-long period (numbered by Redis time / window). An id counts as seen if
  either set has it, so ids are remembered for at least one window and at most two. Sets cost
  one SMISMEMBER per set and one SADD per chunk, far less than a sorted set scored by time.

  Six keys per queue (the `6n` in the name), queue after queue:
  KEYS[6q+1] pending list
  KEYS[6q+2] seen set A (periods with an even number)
  KEYS[6q+3] seen set B (periods with an odd number)
  KEYS[6q+4] hash: set key -> the period it holds
  KEYS[6q+5] listeners zset (see feed-listeners.lua)
  KEYS[6q+6] stats hash: `enqueued` counts what the queue stored (`pnpm top`'s in rate)
  ARGV[1] dedup window in ms (0: no deduplication)
  ARGV[2] backlog limit in events per queue (0: none)
  ARGV[3 .. 2+n] the n event ids; ARGV[3+n .. 2+2n] their envelopes, in the same order

  Returns {0, stored, duplicates}, counting events (an event stored in at least one queue is
  stored), or {-1, pending length} when the chunk would push a pending list past the backlog
  limit (nothing is stored then).

  The shebang without flags makes Redis refuse the whole script up front (OOM error, nothing
  stored in any queue) when it is at maxmemory. The other scripts only move or delete entries
  and carry `allow-oom`, so workers keep draining a full Redis; a write refused half-way
  through a script would otherwise lose the entries it had already popped.
]]
-- @include feed-listeners.lua

local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local n = (#ARGV - 2) / 2
local PER_QUEUE = 6
local queues = #KEYS / PER_QUEUE
local SLICE = 1000 -- unpack() is bounded by the Lua stack

if limit > 0 then
  for q = 0, queues - 1 do
    local pending = redis.call('LLEN', KEYS[PER_QUEUE * q + 1])
    if pending + n > limit then
      return {-1, pending}
    end
  end
end

-- Calls `command key` with ARGV[first..last] as further arguments, in slices.
local function callWithRange(command, key, first, last)
  local total = 0
  for from = first, last, SLICE do
    total = total + redis.call(command, key, unpack(ARGV, from, math.min(from + SLICE - 1, last)))
  end
  return total
end

local period
if window > 0 and n > 0 then
  local time = redis.call('TIME')
  period = math.floor((tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)) / window)
end

-- Stores the whole chunk in the queue whose keys start after KEYS[base].
local function pushAll(base)
  callWithRange('LPUSH', KEYS[base + 1], 3 + n, 2 + 2 * n)
  feedListeners(KEYS[base + 5], ARGV, 3 + n, 2 + 2 * n)
  redis.call('HINCRBY', KEYS[base + 6], 'enqueued', n)
end

-- Marks which events one queue stored in `stored` (index -> true); true when it stored all.
local function storeInto(base, stored)
  if period == nil then
    pushAll(base)
    return true
  end
  local current = KEYS[base + 2 + period % 2]
  local previous = KEYS[base + 2 + (period + 1) % 2]
  local held = redis.call('HMGET', KEYS[base + 4], current, previous)
  if tonumber(held[1]) ~= period then
    -- A new period begins: this set last held ids of two or more periods ago.
    redis.call('DEL', current)
    redis.call('HSET', KEYS[base + 4], current, period)
  end
  redis.call('PEXPIRE', current, window * 2) -- forgotten by itself once no longer needed

  local seen = {}
  for from = 3, 2 + n, SLICE do
    local last = math.min(from + SLICE - 1, 2 + n)
    local inCurrent = redis.call('SMISMEMBER', current, unpack(ARGV, from, last))
    local inPrevious = {}
    if tonumber(held[2]) == period - 1 then
      inPrevious = redis.call('SMISMEMBER', previous, unpack(ARGV, from, last))
    end
    for i = 1, #inCurrent do
      if inCurrent[i] == 1 or inPrevious[i] == 1 then
        seen[from + i - 1] = true
      end
    end
  end

  -- The usual case: no id seen before. SADD then says whether the chunk repeats an id.
  if next(seen) == nil and callWithRange('SADD', current, 3, 2 + n) == n then
    pushAll(base)
    return true
  end

  -- Some ids are duplicates: keep the first occurrence of each id never seen before.
  local fresh = {}
  local envelopes = {}
  local markers = {}
  for i = 1, n do
    local id = ARGV[2 + i]
    if not seen[2 + i] and not fresh[id] then
      fresh[id] = true
      envelopes[#envelopes + 1] = ARGV[2 + n + i]
      markers[#markers + 1] = id
      stored[i] = true
    end
  end
  for from = 1, #markers, SLICE do
    redis.call('SADD', current, unpack(markers, from, math.min(from + SLICE - 1, #markers)))
  end
  for from = 1, #envelopes, SLICE do
    redis.call('LPUSH', KEYS[base + 1], unpack(envelopes, from, math.min(from + SLICE - 1, #envelopes)))
  end
  feedListeners(KEYS[base + 5], envelopes, 1, #envelopes)
  if #envelopes > 0 then
    redis.call('HINCRBY', KEYS[base + 6], 'enqueued', #envelopes)
  end
  return false
end

local stored = {}
local storedAll = false
for q = 0, queues - 1 do
  if storeInto(PER_QUEUE * q, stored) then
    storedAll = true
  end
end
if storedAll then
  return {0, n, 0}
end
local count = 0
for _ in pairs(stored) do
  count = count + 1
end
return {0, count, n - count}
