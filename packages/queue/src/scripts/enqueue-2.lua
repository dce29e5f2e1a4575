#!lua
--[[
  Store a chunk of events atomically, dropping ids already stored within the dedup window.
  The "seen" marker is written in the same script as the LPUSH, so an id is never marked
  before its event is stored.

  KEYS[1] pending list
  KEYS[2] seen zset (event id -> time first stored)
  ARGV[1] dedup window in ms (0: no deduplication)
  ARGV[2] backlog limit in events (0: none)
  ARGV[3..] pairs: event id, envelope

  Returns {0, stored, duplicates}, or {-1, pending length} when the chunk would push the
  pending list past the backlog limit (nothing is stored then).

  The shebang without flags makes Redis refuse the whole script up front (OOM error, nothing
  stored) when it is at maxmemory. The other scripts only move or delete entries and carry
  `allow-oom`, so workers keep draining a full Redis; a write refused half-way through a
  script would otherwise lose the entries it had already popped.
]]
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local count = (#ARGV - 2) / 2

if limit > 0 then
  local pending = redis.call('LLEN', KEYS[1])
  if pending + count > limit then
    return {-1, pending}
  end
end

local envelopes = {}
local duplicates = 0
if window > 0 then
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - window))
  -- One ZMSCORE and one ZADD for the whole chunk: a call per event would cost more than
  -- everything else this script does.
  local ids = {}
  for i = 3, #ARGV, 2 do
    ids[#ids + 1] = ARGV[i]
  end
  local seen = redis.call('ZMSCORE', KEYS[2], unpack(ids))
  local fresh = {}
  local markers = {}
  for i = 1, #ids do
    local id = ids[i]
    if seen[i] or fresh[id] then
      duplicates = duplicates + 1
    else
      fresh[id] = true
      envelopes[#envelopes + 1] = ARGV[2 + i * 2]
      markers[#markers + 1] = now
      markers[#markers + 1] = id
    end
  end
  for first = 1, #markers, 2000 do
    redis.call('ZADD', KEYS[2], unpack(markers, first, math.min(first + 1999, #markers)))
  end
else
  for i = 4, #ARGV, 2 do
    envelopes[#envelopes + 1] = ARGV[i]
  end
end

-- unpack() is bounded by the Lua stack, so push in slices.
local slice = 1000
for first = 1, #envelopes, slice do
  redis.call('LPUSH', KEYS[1], unpack(envelopes, first, math.min(first + slice - 1, #envelopes)))
end
return {0, #envelopes, duplicates}
