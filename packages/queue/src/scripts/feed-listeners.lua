--[[
  Included by every script that stores events into a pending list (`-- @include` in
  lua-scripts.ts): gives a copy of what was stored to each live listener of the queue
  (`pnpm listen`), which watches events without taking them.

  Listeners cost nothing while there are none: one EXISTS per queue per call. Each listener
  has a list `<listeners>:<id>` it pops from, capped at LISTENER_BUFFER entries: past that the
  oldest go and are counted in `<listeners>:<id>:dropped`, so one that cannot keep up holds a
  fixed amount of Redis memory and learns how much it missed. The zset `<listeners>` maps each
  listener to the end of its lease (Redis clock, ms); a listener that stopped renewing is
  removed here, and its keys expire with its lease, so nothing outlives a killed listener.

  The listener keys share the queue's hash tag, so on Redis Cluster they live in the queue's slot.
]]
local LISTENER_BUFFER = 10000

-- Copies source[first..last] (envelopes, oldest first) to every live listener of a queue.
local function feedListeners(listenersKey, source, first, last)
  if last < first or redis.call('EXISTS', listenersKey) == 0 then
    return
  end
  local clock = redis.call('TIME')
  local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
  redis.call('ZREMRANGEBYSCORE', listenersKey, '-inf', now)
  local live = redis.call('ZRANGE', listenersKey, 0, -1, 'WITHSCORES')
  for i = 1, #live, 2 do
    local list = listenersKey .. ':' .. live[i]
    local leaseEnd = live[i + 1]
    local length = 0
    for from = first, last, 1000 do
      length = redis.call('LPUSH', list, unpack(source, from, math.min(from + 999, last)))
    end
    redis.call('PEXPIREAT', list, leaseEnd)
    if length > LISTENER_BUFFER then
      redis.call('LTRIM', list, 0, LISTENER_BUFFER - 1)
      local dropped = list .. ':dropped'
      redis.call('INCRBY', dropped, length - LISTENER_BUFFER)
      redis.call('PEXPIREAT', dropped, leaseEnd)
    end
  end
end
