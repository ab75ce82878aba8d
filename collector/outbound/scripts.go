package outbound

import "github.com/redis/go-redis/v9"

// routeScript makes an event's deliveries and acknowledges and deletes a
// stream entry, all at once, so an entry is routed exactly once even when
// two collectors claimed it. KEYS: stream, due, index, the event's enqueue
// marker, then for each delivery its hash and its lane. ARGV: group, entry
// ID ("" for none), now (ms), index cutoff (ms), body, event ID, chat, time
// (ms), check (1: route only if the marker was not set, and set it),
// marker TTL (s), then for each delivery: ID, lane name, target, type.
// Returns the number of new deliveries.
var routeScript = redis.NewScript(`
local now = tonumber(ARGV[3])
local n = (#KEYS - 4) / 2
local added = 0
if ARGV[9] == '1' and not redis.call('SET', KEYS[4], '1', 'NX', 'EX', ARGV[10]) then n = 0 end
for i = 1, n do
  local dk, lk = KEYS[3 + 2 * i], KEYS[4 + 2 * i]
  local b = 10 + (i - 1) * 4
  local id, lane = ARGV[b + 1], ARGV[b + 2]
  if redis.call('EXISTS', dk) == 0 then
    redis.call('HSET', dk, 'type', ARGV[b + 4], 'event', ARGV[6], 'target', ARGV[b + 3], 'lane', lane,
      'chat', ARGV[7], 'time', ARGV[8], 'created', now, 'body', ARGV[5], 'state', 'pending', 'attempts', 0)
    redis.call('RPUSH', lk, id)
    redis.call('ZADD', KEYS[2], 'NX', now, lane)
    redis.call('ZADD', KEYS[3], now, id)
    added = added + 1
  end
end
if added > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[4]) end
if ARGV[2] ~= '' then
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
  redis.call('XDEL', KEYS[1], ARGV[2])
end
return added
`)

// claimScript leases up to a limit of the lanes that are due: each is
// pushed a lease ahead in the due set and marked with the worker's token,
// and its head delivery is returned. A lane found empty leaves the due set;
// a head whose record is gone (erased) is dropped. KEYS: due, leases.
// ARGV: now (ms), lease end (ms), token, limit, lane key prefix, delivery
// key prefix. Returns {lane, id, type, event, target, chat, time, created,
// body, attempts} per lane.
var claimScript = redis.NewScript(`
local lanes = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[4]))
local out = {}
for _, lane in ipairs(lanes) do
  local lk = ARGV[5] .. lane
  local head = redis.call('LINDEX', lk, 0)
  while head and redis.call('EXISTS', ARGV[6] .. head) == 0 do
    redis.call('LPOP', lk)
    head = redis.call('LINDEX', lk, 0)
  end
  if not head then
    redis.call('ZREM', KEYS[1], lane)
    redis.call('HDEL', KEYS[2], lane)
  else
    redis.call('ZADD', KEYS[1], ARGV[2], lane)
    redis.call('HSET', KEYS[2], lane, ARGV[3])
    local d = redis.call('HMGET', ARGV[6] .. head, 'type', 'event', 'target', 'chat', 'time', 'created', 'body', 'attempts')
    local row = {lane, head}
    for i = 1, 8 do row[#row + 1] = d[i] or '' end
    out[#out + 1] = row
  end
end
return out
`)

// finishScript records an attempt's outcome, unless the lease has passed
// to another worker meanwhile (then that worker's attempt counts). KEYS:
// due, leases, lane, delivery, dead. ARGV: token, lane name, delivery ID,
// outcome (delivered | retry | dead), now (ms), next attempt (ms), error,
// HTTP status, TTL of a finished delivery (s), attempts, dead cutoff (ms).
// Returns 1 when recorded, 0 when the lease was lost.
var finishScript = redis.NewScript(`
if redis.call('HGET', KEYS[2], ARGV[2]) ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('HSET', KEYS[4], 'attempts', ARGV[10], 'error', ARGV[7], 'status', ARGV[8], 'last', ARGV[5])
if ARGV[4] == 'retry' then
  redis.call('HSET', KEYS[4], 'next', ARGV[6])
  redis.call('ZADD', KEYS[1], ARGV[6], ARGV[2])
  return 1
end
if redis.call('LINDEX', KEYS[3], 0) == ARGV[3] then redis.call('LPOP', KEYS[3]) end
redis.call('HSET', KEYS[4], 'state', ARGV[4], 'done', ARGV[5])
redis.call('HDEL', KEYS[4], 'next')
redis.call('EXPIRE', KEYS[4], ARGV[9])
if ARGV[4] == 'dead' then redis.call('ZADD', KEYS[5], ARGV[5], ARGV[3]) end
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', ARGV[11])
if redis.call('LLEN', KEYS[3]) > 0 then
  redis.call('ZADD', KEYS[1], ARGV[5], ARGV[2])
else
  redis.call('ZREM', KEYS[1], ARGV[2])
end
return 1
`)

// replayScript queues a finished delivery again at the end of its lane,
// with a fresh retry window. KEYS: delivery, lane, due, dead. ARGV:
// delivery ID, now (ms), lane name. Returns "queued", "pending" (already
// queued) or "missing".
var replayScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return 'missing' end
if st == 'pending' then return 'pending' end
redis.call('PERSIST', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'pending', 'attempts', 0, 'created', ARGV[2], 'replayed', ARGV[2])
redis.call('HDEL', KEYS[1], 'done', 'next')
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], 'NX', ARGV[2], ARGV[3])
redis.call('ZREM', KEYS[4], ARGV[1])
return 'queued'
`)
