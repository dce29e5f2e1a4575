#!lua
--[[
  Store a chunk of events atomically, dropping ids already stored within the dedup window.
  The "seen" markers are written in the same script as the LPUSH, so an id is never marked
  before its event is stored.

  Safe to run twice with deduplication on: a resent chunk finds its ids marked and stores
  nothing again. With deduplication off (ARGV[1] = 0) a resend stores the chunk again, which
  is why the collector's connection never resends by itself (see redis-connection.ts).

  Deduplication uses two plain sets that take turns: each holds the ids first stored during
  one window-long period (numbered by Redis time / window). An id counts as seen if either
  set has it, so ids are remembered for at least one window and at most two. Sets cost one
  SMISMEMBER per set and one SADD per chunk, far less than a sorted set scored by time.

  KEYS[1] pending list
  KEYS[2] seen set A (periods with an even number)
  KEYS[3] seen set B (periods with an odd number)
  KEYS[4] hash: set key -> the period it holds
  ARGV[1] dedup window in ms (0: no deduplication)
  ARGV[2] backlog limit in events (0: none)
  ARGV[3 .. 2+n] the n event ids; ARGV[3+n .. 2+2n] their envelopes, in the same order

  Returns {0, stored, duplicates}, or {-1, pending length} when the chunk would push the
  pending list past the backlog limit (nothing is stored then).

  The shebang without flags makes Redis refuse the whole script up front (OOM error, nothing
  stored) when it is at maxmemory. The other scripts only move or delete entries and carry
  `allow-oom`, so workers keep draining a full Redis; a write refused half-way through a
  script would otherwise lose the entries it had already popped.
]]
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local n = (#ARGV - 2) / 2
local SLICE = 1000 -- unpack() is bounded by the Lua stack

if limit > 0 then
  local pending = redis.call('LLEN', KEYS[1])
  if pending + n > limit then
    return {-1, pending}
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

local function pushAll()
  callWithRange('LPUSH', KEYS[1], 3 + n, 2 + 2 * n)
  return {0, n, 0}
end

if window == 0 or n == 0 then
  return pushAll()
end

local time = redis.call('TIME')
local period = math.floor((tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)) / window)
local current = KEYS[2 + period % 2]
local previous = KEYS[2 + (period + 1) % 2]
local held = redis.call('HMGET', KEYS[4], current, previous)
if tonumber(held[1]) ~= period then
  -- A new period begins: this set last held ids of two or more periods ago.
  redis.call('DEL', current)
  redis.call('HSET', KEYS[4], current, period)
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
  return pushAll()
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
  end
end
for from = 1, #markers, SLICE do
  redis.call('SADD', current, unpack(markers, from, math.min(from + SLICE - 1, #markers)))
end
for from = 1, #envelopes, SLICE do
  redis.call('LPUSH', KEYS[1], unpack(envelopes, from, math.min(from + SLICE - 1, #envelopes)))
end
return {0, #envelopes, n - #envelopes}
