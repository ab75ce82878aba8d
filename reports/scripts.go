package reports

import "github.com/redis/go-redis/v9"

// The scripts below keep a chat's facts and the site's aggregates in step.
// Each chat has one state (store.ReportChat): its conversations and the
// business events that could convert them. Every fact that changes the
// state recomputes, from the state alone, what each conversation should add
// to the aggregates (its dialog, its session's conversion) and moves the
// counters by the difference from what it added so far. So the reports
// depend on the set of facts, never on the order they arrived in. All keys
// belong to one site and carry its {site} hash tag; aggregate keys are built
// at run time from the prefixes in store/keys.go ("<prefix><dim>:<period>").
//
// The state is the JSON object
//
//	{"v": 2, "p": 0 or 1 (older conversations were trimmed off),
//	 "c": [conversation, ...] in time order,
//	 "e": [event, ...] in time order}
//
// conversation: {"i": session id (0 while unattributed), "s": start unix ms,
// "d": start day, "m": method, "a": {dim: member} of an attributed one,
// "n": what it adds to the aggregates now (a snapshot, below)}.
// event: {"t": unix ms, "k": category, "v": value in thousandths, "e": the
// client's event ID, "q": the event's identity (ID or hash)}.
// snapshot: {"d": day, "g": {dim: member}, "x": conversion unix ms or 0,
// "k": category, "v": value, "e": event ID, "q": event identity}.
//
// The rules: a conversation with a method other than none is a session.
// Session j is open from its start until the next session of the chat
// starts or the window ends (half-open: at exactly start + window it has
// expired). Its conversion is the earliest stored event inside that span.
// Only events whose category was the conversion event in force at their
// time are stored. A chat's earliest conversation is "new", the others
// "repeat".

// luaPrelude holds the helpers every chat script shares.
const luaPrelude = `
local function fmt(n) return string.format('%d', n) end

-- maxConvs and maxEvents bound a chat's state; what is trimmed off stays
-- counted as it is.
local maxConvs, maxEvents = 200, 200

-- rollups returns the periods a day adds into: the day, its block of the
-- month (days 1-10, 11-20, 21-end) and the month (see store.ReportAgg).
local function rollups(day)
  local dd = tonumber(string.sub(day, 9, 10))
  local b = 3
  if dd <= 10 then b = 1 elseif dd <= 20 then b = 2 end
  return {day, string.sub(day, 1, 7) .. '-b' .. b, string.sub(day, 1, 7)}
end

-- bumpSnap adds (sign 1) or takes away (sign -1) what a snapshot counts:
-- the conversation, and its conversion under its category with its value
-- as revenue, for each dimension member, in each period of its day.
local function bumpSnap(prefix, n, sign)
  local periods = rollups(n.d)
  for dim, member in pairs(n.g) do
    local fields = {{'cv:' .. member, sign}}
    if n.x > 0 then
      table.insert(fields, {'k:' .. n.k .. ':' .. member, sign})
      if n.v ~= 0 then table.insert(fields, {'rv:' .. member, sign * n.v}) end
    end
    for _, p in ipairs(periods) do
      local key = prefix .. dim .. ':' .. p
      for _, f in ipairs(fields) do redis.call('HINCRBY', key, f[1], fmt(f[2])) end
    end
  end
end

local function sameMembers(a, b)
  a = a or {}; b = b or {}
  for k, v in pairs(a) do if b[k] ~= v then return false end end
  for k, v in pairs(b) do if a[k] ~= v then return false end end
  return true
end

local function sameSnap(a, b)
  if not a or not b then return false end
  return a.d == b.d and a.x == b.x and a.k == b.k and a.v == b.v and a.e == b.e and
    a.q == b.q and sameMembers(a.g, b.g)
end

-- members are a conversation's aggregate members for its dialog.
local function members(c, dialog)
  if c.m == 'none' then
    return {ch = 'unattributed\31', pg = 'unattributed', ld = 'unattributed', dl = dialog .. '/unattributed'}
  end
  local g = {}
  for k, v in pairs(c.a or {}) do g[k] = v end
  g.dl = dialog
  return g
end

-- loadState reads a chat's state. A state written by an earlier version is
-- a JSON array of sessions with their conversion; it becomes conversations
-- whose snapshots are exactly what that version counted, and the events
-- that converted them.
local function loadState(key)
  local raw = redis.call('GET', key)
  if not raw then return {v = 2, p = 0, c = {}, e = {}} end
  local st = cjson.decode(raw)
  if st.v == 2 then
    st.c = st.c or {}; st.e = st.e or {}
    return st
  end
  local out = {v = 2, p = 0, c = {}, e = {}}
  for _, s in ipairs(st) do
    local a = {}
    for k, v in pairs(s.g) do if k ~= 'dl' then a[k] = v end end
    local q = ''
    if s.x > 0 then
      q = 'legacy:' .. fmt(s.x)
      table.insert(out.e, {t = s.x, k = s.k, v = s.v, e = s.e, q = q})
    end
    table.insert(out.c, {i = s.i, s = s.s, d = s.d, m = s.m, a = a,
      n = {d = s.d, g = s.g, x = s.x, k = s.k, v = s.v, e = s.e, q = q}})
  end
  return out
end

local function saveState(key, st, ttl)
  if #st.c == 0 and #st.e == 0 then
    redis.call('DEL', key)
  else
    redis.call('SET', key, cjson.encode(st), 'EX', ttl)
  end
end

-- recompute decides each conversation's dialog and its session's
-- conversion, and moves the aggregates where a snapshot changes. It
-- returns the converting event of each session (conversation -> event).
local function recompute(st, prefix, window)
  table.sort(st.c, function(a, b) return a.s < b.s end)
  table.sort(st.e, function(a, b)
    if a.t ~= b.t then return a.t < b.t end
    return a.q < b.q
  end)
  local sessions = {}
  for _, c in ipairs(st.c) do
    if c.m ~= 'none' then table.insert(sessions, c) end
  end
  local conv, ei = {}, 1
  for j, c in ipairs(sessions) do
    local stop = c.s + window
    local nxt = sessions[j + 1]
    if nxt and nxt.s < stop then stop = nxt.s end
    while st.e[ei] and st.e[ei].t < c.s do ei = ei + 1 end
    local e = st.e[ei]
    if e and e.t < stop then conv[c] = e end
  end
  for idx, c in ipairs(st.c) do
    local dialog = 'repeat'
    if idx == 1 and st.p ~= 1 then dialog = 'new' end
    local want = {d = c.d, g = members(c, dialog), x = 0, k = '', v = 0, e = '', q = ''}
    local e = conv[c]
    if e then want.x = e.t; want.k = e.k; want.v = e.v; want.e = e.e; want.q = e.q end
    if not sameSnap(c.n, want) then
      if c.n then bumpSnap(prefix, c.n, -1) end
      bumpSnap(prefix, want, 1)
      c.n = want
    end
  end
  return conv
end

-- trim keeps the state bounded without changing what is counted: the
-- oldest conversations go (their counts stay), then the events before the
-- oldest kept conversation, then the oldest events that convert nothing.
local function trim(st, conv)
  while #st.c > maxConvs do
    table.remove(st.c, 1)
    st.p = 1
  end
  if st.p == 1 and st.c[1] then
    while st.e[1] and st.e[1].t < st.c[1].s do table.remove(st.e, 1) end
  end
  if #st.e > maxEvents then
    local used = {}
    for _, e in pairs(conv) do used[e] = true end
    local keep, drop = {}, #st.e - maxEvents
    for _, e in ipairs(st.e) do
      if drop > 0 and not used[e] then drop = drop - 1 else table.insert(keep, e) end
    end
    st.e = keep
  end
end

-- ensureChoice makes the config's conversion event the site's first
-- choice, in force for all of its history, when the site has none yet.
local function ensureChoice(hist, cat)
  if cat ~= '' and redis.call('ZCARD', hist) == 0 then
    redis.call('ZADD', hist, '-1000000000000000', '0:' .. cat)
  end
end
`

// conversationScript records, corrects or retracts one conversation of a
// chat. A fact for a chat and time already recorded is the same
// conversation: unchanged, it is a duplicate; changed (a heuristic guess
// revoked to none, a candidate confirmed), it replaces what was recorded.
//
// KEYS[1] chat state (ReportChat), KEYS[2] session counter
// (ReportSessionSeq), KEYS[3] conversion-event history
// (ReportConversionEvents), KEYS[4] ad info (ReportAdInfo), KEYS[5] marker
// an earlier version left for an unattributed conversation of this chat at
// this time (ReportSeen "u"), holding its dialog member.
// ARGV[1] aggregate prefix, ARGV[2] time (unix ms), ARGV[3] day, ARGV[4]
// method, ARGV[5] window (ms), ARGV[6] state TTL (s), ARGV[7] configured
// conversion event, ARGV[8] ad ID, ARGV[9] ad type, ARGV[10] ad title,
// ARGV[11] "1" to retract the conversation, ARGV[12..] dimension/member
// pairs.
// Returns {status, session id}: status "opened", "unattributed",
// "corrected", "retracted", "absent" (nothing to retract) or "duplicate".
var conversationScript = redis.NewScript(luaPrelude + `
local prefix = ARGV[1]
local t = tonumber(ARGV[2])
local method = ARGV[4]
local window = tonumber(ARGV[5])
ensureChoice(KEYS[3], ARGV[7])
local st = loadState(KEYS[1])
local idx
for j, c in ipairs(st.c) do
  if c.s == t then idx = j; break end
end
if not idx then
  local marker = redis.call('GET', KEYS[5])
  if marker then
    table.insert(st.c, {i = 0, s = t, d = ARGV[3], m = 'none',
      n = {d = ARGV[3], g = {ch = 'unattributed\31', pg = 'unattributed', ld = 'unattributed', dl = marker},
           x = 0, k = '', v = 0, e = '', q = ''}})
    redis.call('DEL', KEYS[5])
    idx = #st.c
  end
end

local status, sid = 'opened', 0
if ARGV[11] == '1' then
  if not idx then return {'absent', 0} end
  local c = table.remove(st.c, idx)
  if c.n then bumpSnap(prefix, c.n, -1) end
  status = 'retracted'
else
  local a
  if method ~= 'none' then
    a = {}
    for i = 12, #ARGV, 2 do a[ARGV[i]] = ARGV[i + 1] end
  end
  local c
  if idx then
    c = st.c[idx]
    if c.m == method and sameMembers(c.a, a) and c.n then return {'duplicate', c.i} end
    c.m = method; c.a = a
    status = 'corrected'
  else
    c = {i = 0, s = t, d = ARGV[3], m = method, a = a}
    table.insert(st.c, c)
    if method == 'none' then status = 'unattributed' end
  end
  if method ~= 'none' and c.i == 0 then c.i = redis.call('INCR', KEYS[2]) end
  sid = c.i
end
local conv = recompute(st, prefix, window)
trim(st, conv)
saveState(KEYS[1], st, ARGV[6])

if ARGV[11] ~= '1' and ARGV[8] ~= '' then
  local cur = redis.call('HGET', KEYS[4], ARGV[8])
  local at = cur and tonumber(string.match(cur, '^(%d+)')) or -1
  if t >= at then
    redis.call('HSET', KEYS[4], ARGV[8], fmt(t) .. '\31' .. ARGV[9] .. '\31' .. ARGV[10])
  end
end
return {status, sid}
`)

// eventScript judges a business event. One whose category is the
// conversion event in force at its time is stored with the chat and
// converts the session open then, unless an earlier event of the session
// did; a later-arriving earlier event takes the conversion over.
//
// KEYS[1] chat state (ReportChat), KEYS[2] conversion-event history
// (ReportConversionEvents), KEYS[3] seen marker of the event (ReportSeen).
// ARGV[1] aggregate prefix, ARGV[2] time (unix ms), ARGV[3] category,
// ARGV[4] value (thousandths), ARGV[5] event ID, ARGV[6] window (ms),
// ARGV[7] configured conversion event, ARGV[8] seen TTL (s), ARGV[9] the
// event's identity, ARGV[10] state TTL (s).
// Returns {status, session id, category in force}; status is one of
// "converted", "converted_earlier" (it happened before the conversion
// already counted for that session, and replaces it), "duplicate",
// "no_conversion_event", "other_category", "no_session", "expired",
// "already_converted".
var eventScript = redis.NewScript(luaPrelude + `
local prefix = ARGV[1]
local t = tonumber(ARGV[2])
local cat = ARGV[3]
local window = tonumber(ARGV[6])
ensureChoice(KEYS[2], ARGV[7])
local inforce = redis.call('ZREVRANGEBYSCORE', KEYS[2], t, '-inf', 'LIMIT', 0, 1)[1]
if not inforce then return {'no_conversion_event', 0, ''} end
inforce = string.sub(inforce, string.find(inforce, ':', 1, true) + 1)
if inforce ~= cat then return {'other_category', 0, inforce} end
if not redis.call('SET', KEYS[3], '1', 'NX', 'EX', ARGV[8]) then
  return {'duplicate', 0, inforce}
end

local st = loadState(KEYS[1])
local before = {}
for _, c in ipairs(st.c) do
  if c.n and c.n.x > 0 then before[c] = c.n.q end
end
local ev = {t = t, k = cat, v = tonumber(ARGV[4]), e = ARGV[5], q = ARGV[9]}
table.insert(st.e, ev)
local conv = recompute(st, prefix, window)

local status, sid = nil, 0
for c, e in pairs(conv) do
  if e == ev then
    sid = c.i
    status = 'converted'
    if before[c] and before[c] ~= ev.q then status = 'converted_earlier' end
  end
end
if not status then
  local s
  for j = #st.c, 1, -1 do
    local c = st.c[j]
    if c.m ~= 'none' and c.s <= t then s = c; break end
  end
  if not s then
    status = 'no_session'
  elseif t >= s.s + window then
    status, sid = 'expired', s.i
  else
    status, sid = 'already_converted', s.i
  end
end
trim(st, conv)
saveState(KEYS[1], st, ARGV[10])
return {status, sid, inforce}
`)

// recountScript counts one chat again from its stored facts, into
// aggregates that were emptied before: every snapshot is dropped and
// recomputed. Conversations an earlier version kept only as unattributed
// markers come in through ARGV[4..] (time and day pairs).
//
// KEYS[1] chat state (ReportChat). ARGV[1] aggregate prefix, ARGV[2]
// window (ms), ARGV[3] state TTL (s), ARGV[4..] the markers' pairs.
// Returns {conversations, conversions}.
var recountScript = redis.NewScript(luaPrelude + `
local prefix = ARGV[1]
local st = loadState(KEYS[1])
for i = 4, #ARGV, 2 do
  local t, found = tonumber(ARGV[i]), false
  for _, c in ipairs(st.c) do if c.s == t then found = true end end
  if not found then table.insert(st.c, {i = 0, s = t, d = ARGV[i + 1], m = 'none'}) end
end
for _, c in ipairs(st.c) do c.n = nil end
local conv = recompute(st, prefix, tonumber(ARGV[2]))
local n = 0
for _ in pairs(conv) do n = n + 1 end
trim(st, conv)
saveState(KEYS[1], st, ARGV[3])
return {#st.c, n}
`)
