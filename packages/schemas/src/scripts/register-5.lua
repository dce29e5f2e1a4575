#!lua
--[[
  Register a new version of one event type's schema, unless the latest version already holds
  exactly this schema.

  The caller checked compatibility against the latest version it read (ARGV[3]). If another
  registration added a version since, the check proved nothing about the new latest, so the
  script stores nothing and says so; the caller reads again, checks again and retries.

  Safe to run twice: a resend after a lost reply finds its own version as the latest, holding
  the same canonical text, and returns it (status 0) instead of adding another.

  KEYS[1] latest hash (type -> latest version)
  KEYS[2] versions hash of the type (version -> canonical JSON of the schema)
  KEYS[3] registered-at hash of the type (version -> Redis time in ms)
  KEYS[4] revision counter
  KEYS[5] changes zset (type -> revision of its latest version)
  ARGV[1] type
  ARGV[2] canonical JSON text of the schema (object keys sorted recursively)
  ARGV[3] the latest version the caller checked compatibility against, 0 for none

  Returns {1, new version} when stored, {0, latest version} when the latest version already
  holds this text, {-1, latest version} when the latest version is not ARGV[3].
]]
local latest = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if latest > 0 and redis.call('HGET', KEYS[2], latest) == ARGV[2] then
  return {0, latest}
end
if latest ~= tonumber(ARGV[3]) then
  return {-1, latest}
end
local version = latest + 1
local time = redis.call('TIME')
local nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('HSET', KEYS[2], version, ARGV[2])
redis.call('HSET', KEYS[3], version, nowMs)
redis.call('HSET', KEYS[1], ARGV[1], version)
local revision = redis.call('INCR', KEYS[4])
redis.call('ZADD', KEYS[5], revision, ARGV[1])
return {1, version}
