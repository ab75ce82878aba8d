package reports

import "github.com/redis/go-redis/v9"

// The scripts below keep a chat's sessions and the site's aggregates in step:
// opening a session, converting it, or moving a conversion between sessions
// touches the chat's session list and the counters of the session's start
// day and month in one atomic step. All keys belong to one site and carry its
// {site} hash tag; aggregate keys are built at run time from the prefixes in
// store/keys.go ("<prefix><dim>:<period>").
//
// A stored session (one element of the chat's JSON array) is
//
//	{"i": id, "s": start unix ms, "d": start day YYYY-MM-DD, "m": method,
//	 "g": {dim: member}, "x": conversion unix ms or 0, "k": conversion
//	 category, "v": conversion value in thousandths, "e": conversion event ID}
//
// Session i is open at time t when s_i <= t < s_(i+1) (the next session of
// the chat closes it), t < s_i + window (the window is half-open: at exactly
// s_i + window the session has expired), and it has not converted before t.

// luaPrelude holds the helpers both session scripts share.
const luaPrelude = `
local function fmt(n) return string.format('%d', n) end

-- bump adds n to metric for each of session s's dimension members, in the
-- aggregates of its start day and of that day's month.
-- rollups returns the periods a day adds into: the day, its block of the
-- month (days 1-10, 11-20, 21-end) and the month (see store.ReportAgg).
local function rollups(day)
  local dd = tonumber(string.sub(day, 9, 10))
  local b = 3
  if dd <= 10 then b = 1 elseif dd <= 20 then b = 2 end
  return {day, string.sub(day, 1, 7) .. '-b' .. b, string.sub(day, 1, 7)}
end

local function bump(prefix, s, metric, n)
  if n == 0 then return end
  local periods = rollups(s.d)
  for dim, member in pairs(s.g) do
    local field = metric .. ':' .. member
    for _, p in ipairs(periods) do
      redis.call('HINCRBY', prefix .. dim .. ':' .. p, field, fmt(n))
    end
  end
end

-- convert counts a conversion under its category ("k:<category>"; the
-- total is their sum) and its value as revenue.
local function convert(prefix, s, t, cat, value, eid)
  s.x = t; s.k = cat; s.v = value; s.e = eid
  bump(prefix, s, 'k:' .. cat, 1)
  bump(prefix, s, 'rv', value)
end

local function unconvert(prefix, s)
  bump(prefix, s, 'rv', -s.v)
  bump(prefix, s, 'k:' .. s.k, -1)
  s.x = 0; s.k = ''; s.v = 0; s.e = ''
end

-- ensureChoice records the config's conversion event as the first choice,
-- at the time the site is first seen.
local function ensureChoice(hist, cat, now)
  if cat ~= '' and redis.call('ZCARD', hist) == 0 then
    redis.call('ZADD', hist, now, fmt(now) .. ':' .. cat)
  end
end

local function load(key)
  local raw = redis.call('GET', key)
  if not raw then return {} end
  return cjson.decode(raw)
end
`

// conversationScript opens a session for an attributed conversation, or
// counts an unattributed one. A fact for a chat and time already counted is
// the same conversation: unchanged, it is a duplicate; changed, it is the
// matcher's correction (a heuristic guess revoked to none, a candidate
// confirmed by an operator) and replaces what was counted.
//
// KEYS[1] chat sessions (ReportChat), KEYS[2] session counter
// (ReportSessionSeq), KEYS[3] conversion-event history
// (ReportConversionEvents), KEYS[4] ad info (ReportAdInfo), KEYS[5] marker
// of an unattributed conversation of this chat at this time (ReportSeen),
// holding its dialog member.
// ARGV[1] aggregate prefix, ARGV[2] time (unix ms), ARGV[3] day, ARGV[4]
// method, ARGV[5] window (ms), ARGV[6] chat TTL (s), ARGV[7] configured
// conversion event, ARGV[8] now (unix ms), ARGV[9] ad ID, ARGV[10] ad type,
// ARGV[11] ad title, ARGV[12] marker TTL (s), ARGV[13..] dimension/member
// pairs.
// Returns {status, session id}: status "opened", "unattributed",
// "corrected" or "duplicate".
var conversationScript = redis.NewScript(luaPrelude + `
local prefix = ARGV[1]
local t = tonumber(ARGV[2])
local window = tonumber(ARGV[5])
ensureChoice(KEYS[3], ARGV[7], tonumber(ARGV[8]))
local g = {}
for i = 13, #ARGV, 2 do g[ARGV[i]] = ARGV[i + 1] end
local new = {i = 0, s = t, d = ARGV[3], m = ARGV[4], g = g, x = 0, k = '', v = 0, e = ''}

local function save(list)
  if #list == 0 then
    redis.call('DEL', KEYS[1])
  else
    redis.call('SET', KEYS[1], cjson.encode(list), 'EX', ARGV[6])
  end
end

local function sameMembers(a, b)
  for k, v in pairs(a) do if b[k] ~= v then return false end end
  for k, v in pairs(b) do if a[k] ~= v then return false end end
  return true
end

-- removeSession takes a session out (its counts with it); its conversion
-- goes back to the session it had closed, when that one was open then.
local function removeSession(list, idx)
  local s = list[idx]
  local x, k, v, e = s.x, s.k, s.v, s.e
  if x > 0 then unconvert(prefix, s) end
  bump(prefix, s, 'cv', -1)
  table.remove(list, idx)
  local prev, nxt = list[idx - 1], list[idx]
  if x > 0 and prev and prev.x == 0 and x < prev.s + window and (not nxt or x < nxt.s) then
    convert(prefix, prev, x, k, v, e)
  end
end

local list = load(KEYS[1])
local pos, idx = #list + 1, nil
for j = #list, 1, -1 do
  if list[j].s == t then idx = j; break end
  if list[j].s < t then break end
  pos = j
end
local marker = redis.call('GET', KEYS[5])

if ARGV[4] == 'none' then
  if not idx and marker then return {'duplicate', 0} end
  local status = 'unattributed'
  if idx then
    removeSession(list, idx)
    save(list)
    status = 'corrected'
  end
  redis.call('SET', KEYS[5], g.dl, 'EX', ARGV[12])
  bump(prefix, new, 'cv', 1)
  return {status, 0}
end

local status = 'opened'
if marker then
  -- The chat was counted unattributed at this time (the members of
  -- reports.Unattributed); it is attributed now.
  local was = {d = ARGV[3], g = {ch = 'unattributed\31', pg = 'unattributed', ld = 'unattributed', dl = marker}}
  bump(prefix, was, 'cv', -1)
  redis.call('DEL', KEYS[5])
  status = 'corrected'
end

if idx then
  local s = list[idx]
  if s.m == new.m and sameMembers(s.g, g) then return {'duplicate', s.i} end
  -- Reattributed: its counts (and its conversion) move to the new members.
  local x, k, v, e = s.x, s.k, s.v, s.e
  if x > 0 then unconvert(prefix, s) end
  bump(prefix, s, 'cv', -1)
  s.g = g; s.m = new.m
  bump(prefix, s, 'cv', 1)
  if x > 0 then convert(prefix, s, x, k, v, e) end
  new = s
  status = 'corrected'
else
  new.i = redis.call('INCR', KEYS[2])
  bump(prefix, new, 'cv', 1)
  -- A conversation that arrives late, after the previous session's
  -- conversion had already been counted although it happened at or after
  -- this conversation started: that conversion belongs to this session
  -- (or, past this session's window, to none).
  local prev = list[pos - 1]
  if prev and prev.x > 0 and prev.x >= t then
    local x, k, v, e = prev.x, prev.k, prev.v, prev.e
    unconvert(prefix, prev)
    local nxt = list[pos]
    if x < t + window and (not nxt or x < nxt.s) then
      convert(prefix, new, x, k, v, e)
    end
  end
  table.insert(list, pos, new)
  while #list > 100 do table.remove(list, 1) end
end
save(list)

if ARGV[9] ~= '' then
  local cur = redis.call('HGET', KEYS[4], ARGV[9])
  local at = cur and tonumber(string.match(cur, '^(%d+)')) or -1
  if t >= at then
    redis.call('HSET', KEYS[4], ARGV[9], fmt(t) .. '\31' .. ARGV[10] .. '\31' .. ARGV[11])
  end
end
return {status, new.i}
`)

// eventScript judges a business event against the chat's sessions and
// converts the session open at the event's time when the event's category is
// the conversion event in force then.
//
// KEYS[1] chat sessions (ReportChat), KEYS[2] conversion-event history
// (ReportConversionEvents), KEYS[3] seen marker of the event (ReportSeen).
// ARGV[1] aggregate prefix, ARGV[2] time (unix ms), ARGV[3] category,
// ARGV[4] value (thousandths), ARGV[5] event ID, ARGV[6] window (ms),
// ARGV[7] configured conversion event, ARGV[8] now (unix ms), ARGV[9] seen
// TTL (s).
// Returns {status, session id, category in force}; status is one of
// "converted", "converted_earlier" (it happened before the conversion already
// counted for that session, and replaces it), "duplicate",
// "no_conversion_event", "other_category", "no_session", "expired",
// "already_converted".
var eventScript = redis.NewScript(luaPrelude + `
local prefix = ARGV[1]
local t = tonumber(ARGV[2])
local cat = ARGV[3]
local window = tonumber(ARGV[6])
ensureChoice(KEYS[2], ARGV[7], tonumber(ARGV[8]))
if not redis.call('SET', KEYS[3], '1', 'NX', 'EX', ARGV[9]) then
  return {'duplicate', 0, ''}
end
local inforce = redis.call('ZREVRANGEBYSCORE', KEYS[2], t, '-inf', 'LIMIT', 0, 1)[1]
if not inforce then return {'no_conversion_event', 0, ''} end
inforce = string.sub(inforce, string.find(inforce, ':', 1, true) + 1)
if inforce ~= cat then return {'other_category', 0, inforce} end

local list = load(KEYS[1])
local s
for j = #list, 1, -1 do
  if list[j].s <= t then s = list[j]; break end
end
if not s then return {'no_session', 0, inforce} end
if s.x > 0 and s.x <= t then return {'already_converted', s.i, inforce} end
if t >= s.s + window then return {'expired', s.i, inforce} end
local status = 'converted'
if s.x > 0 then
  unconvert(prefix, s)
  status = 'converted_earlier'
end
convert(prefix, s, t, cat, tonumber(ARGV[4]), ARGV[5])
redis.call('SET', KEYS[1], cjson.encode(list), 'KEEPTTL')
return {status, s.i, inforce}
`)

// costScript replaces whole days of ad costs and moves each day's block and
// month by the difference, so that every upload is all or nothing.
//
// KEYS[1] ad info (ReportAdInfo), which also routes the script to the
// site's slot; the cost keys are built from ARGV[1] (ReportCostPrefix) and
// the delivery keys from ARGV[2] (ReportDeliveryPrefix).
// ARGV[3] day count; then per day: the day, its row count n, and n groups of
// ad ID, cost (thousandths), reach, impressions, clicks, title, title time
// (unix ms). Returns the number of rows stored.
var costScript = redis.NewScript(`
local function fmt(n) return string.format('%d', n) end
local prefix, dprefix, info = ARGV[1], ARGV[2], KEYS[1]
local i = 4
local stored = 0
for _ = 1, tonumber(ARGV[3]) do
  local day, n = ARGV[i], tonumber(ARGV[i + 1])
  i = i + 2
  local dd = tonumber(string.sub(day, 9, 10))
  local b = 3
  if dd <= 10 then b = 1 elseif dd <= 20 then b = 2 end
  local dkey = prefix .. day
  local rollups = {prefix .. string.sub(day, 1, 7) .. '-b' .. b, prefix .. string.sub(day, 1, 7)}
  local old = redis.call('HGETALL', dkey)
  for _, rkey in ipairs(rollups) do
    local gone = {}
    for j = 1, #old, 2 do
      local left = redis.call('HINCRBY', rkey, old[j], fmt(-tonumber(old[j + 1])))
      -- "n:<ad>" counts the ad's days in the period; at zero the ad has
      -- no cost rows left there, which is not the same as a cost of 0.
      if left == 0 and string.sub(old[j], 1, 2) == 'n:' then
        table.insert(gone, string.sub(old[j], 3))
      end
    end
    for _, ad in ipairs(gone) do
      redis.call('HDEL', rkey, 'n:' .. ad, 'c:' .. ad, 'r:' .. ad)
    end
  end
  redis.call('DEL', dkey, dprefix .. day)
  for _ = 1, n do
    local ad = ARGV[i]
    local vals = {c = ARGV[i + 1], r = ARGV[i + 2], n = '1'}
    for m, v in pairs(vals) do
      redis.call('HSET', dkey, m .. ':' .. ad, v)
      for _, rkey in ipairs(rollups) do
        redis.call('HINCRBY', rkey, m .. ':' .. ad, v)
      end
    end
    redis.call('HSET', dprefix .. day, 'i:' .. ad, ARGV[i + 3], 'k:' .. ad, ARGV[i + 4])
    local title, at = ARGV[i + 5], tonumber(ARGV[i + 6])
    if title ~= '' then
      local cur = redis.call('HGET', info, ad)
      local curAt, curType = -1, 'ad'
      if cur then
        local a, ty = string.match(cur, '^(%d+)\31([^\31]*)')
        curAt = tonumber(a); curType = ty
      end
      if at >= curAt then
        redis.call('HSET', info, ad, fmt(at) .. '\31' .. curType .. '\31' .. title)
      end
    end
    stored = stored + 1
    i = i + 7
  end
end
return stored
`)
