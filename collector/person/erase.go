package person

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/ledger"
	"github.com/messtrack/messtrack/collector/outbound"
	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/store"
)

// Reasons for an erasure, as the audit list records them.
const (
	ReasonRequest   = "request"
	ReasonRetention = "retention"
)

// eraseScript erases a chat's person in one step, unless the chat changed
// since it was loaded.
//
// KEYS:
//
//	[1] the chat's hash (store.Chat)
//	[2] its history (store.ChatHistory)
//	[3] the site's chat index (store.Chats)
//	[4] the reports' per-chat state (store.ReportChat of the chat)
//	[5] the name it takes (store.ReportChat of store.ErasedChat)
//	[6] the site's audit list (store.PersonAudit)
//	then 6 keys per visit (eraseVisitLua): the visit (Visit), its last click
//	(VisitClick), its claim (VisitMatched), its chats (VisitChats), the
//	click index of its last click's target (Clicks, or the visit key again
//	when it has none), its note of a taken guess (VisitTaken)
//	then 2 keys per legacy marker: its name and the name it takes
//
// ARGV:
//
//	[1] the chat's "ver" as loaded ("0": no chat)
//	[2] the chat key
//	[3] the number of visits
//	[4] the number of markers
//	[5] the audit entry's time (RFC 3339), [6] the chat's salted hash,
//	[7] the reason, [8] the audit cap
//	[9] deliveries, [10] dead letters, [11] lanes, [12] waiting events
//	erased just before (collector/outbound's EraseChat), counted in the
//	audit entry
//	[13] visits and [14] claims erased just before by eraseVisitScript (a
//	site of several shards, whose visits live on other slots)
//	[15…] each visit's number in base 36 (its member in the click index)
//
// On a site of one shard every visit is erased here, with the chat; on a
// site of several, Erase erases them first, each on its own shard, and
// passes none.
//
// Returns "conflict" (the chat changed; nothing erased) or the JSON of what
// was erased, which is also the audit entry's "erased".
var eraseScript = redis.NewScript(`
local ver = redis.call('HGET', KEYS[1], 'ver') or '0'
if ver ~= ARGV[1] then return 'conflict' end
local chat = ARGV[2]
local e = {chat = 0, history = 0, index = 0, report_state = 0, visits = tonumber(ARGV[13]),
  claims = tonumber(ARGV[14]), markers = 0,
  deliveries = tonumber(ARGV[9]), dead_letters = tonumber(ARGV[10]), lanes = tonumber(ARGV[11]),
  waiting_events = tonumber(ARGV[12])}
e.chat = redis.call('DEL', KEYS[1])
e.history = redis.call('DEL', KEYS[2])
e.index = redis.call('ZREM', KEYS[3], chat)
if redis.call('EXISTS', KEYS[4]) == 1 then
  redis.call('RENAME', KEYS[4], KEYS[5])
  e.report_state = 1
end
local nv, nm = tonumber(ARGV[3]), tonumber(ARGV[4])
for i = 0, nv - 1 do
  local b = 7 + i * 6
  local num = ARGV[15 + i]
` + eraseVisitLua + `
end
for i = 0, nm - 1 do
  local b = 7 + nv * 6 + i * 2
  if redis.call('EXISTS', KEYS[b]) == 1 then
    redis.call('RENAME', KEYS[b], KEYS[b + 1])
    e.markers = e.markers + 1
  end
end
local erased = cjson.encode(e)
redis.call('RPUSH', KEYS[6], cjson.encode({at = ARGV[5], chat = ARGV[6], reason = ARGV[7], erased = e}))
redis.call('LTRIM', KEYS[6], -tonumber(ARGV[8]), -1)
return erased
`)

// eraseVisitLua erases one visit of the chat: the six keys from KEYS[b]
// (see eraseScript), chat the chat key, num the visit number in base 36;
// it counts into e.visits and e.claims.
const eraseVisitLua = `
  local claim = redis.call('GET', KEYS[b + 2])
  if claim and string.sub(claim, 3) == chat then
    e.claims = e.claims + redis.call('DEL', KEYS[b + 2])
  end
  e.claims = e.claims + redis.call('SREM', KEYS[b + 3], chat)
  if KEYS[b + 4] ~= KEYS[b] then redis.call('ZREM', KEYS[b + 4], num) end
  redis.call('DEL', KEYS[b + 5])
  e.visits = e.visits + redis.call('DEL', KEYS[b], KEYS[b + 1])
`

// eraseVisitScript erases one visit of a chat on a site of several shards,
// on the visit's shard, before eraseScript erases the chat: KEYS the six
// keys of eraseScript's visits, ARGV[1] the chat key, ARGV[2] the visit
// number in base 36. Returns {visits, claims} erased. Erasing the visits
// first means a stop or a conflict before the chat's step leaves the chat,
// which names them, for the retry to erase again (it finds them gone).
var eraseVisitScript = redis.NewScript(`
local e = {visits = 0, claims = 0}
local chat, num, b = ARGV[1], ARGV[2], 1
` + eraseVisitLua + `
return {e.visits, e.claims}
`)

// Erased is what one erasure removed, by kind (keys or members).
type Erased struct {
	Chat        int `json:"chat"`
	History     int `json:"history"`
	Index       int `json:"index"`
	ReportState int `json:"report_state"`
	Visits      int `json:"visits"`
	Claims      int `json:"claims"`
	Markers     int `json:"markers"`
	// Deliveries are the outbound deliveries of the chat's events,
	// DeadLetters those of them that were dead letters, Lanes the chat's
	// delivery lanes, WaitingEvents its events removed from the outbound
	// stream before they were routed.
	Deliveries    int `json:"deliveries"`
	DeadLetters   int `json:"dead_letters"`
	Lanes         int `json:"lanes"`
	WaitingEvents int `json:"waiting_events"`
}

// Nothing tells an erasure that found nothing to erase.
func (e Erased) Nothing() bool { return e == Erased{} }

// AuditEntry is one erasure in the site's audit list.
type AuditEntry struct {
	At     string `json:"at"`
	Chat   string `json:"chat"`
	Reason string `json:"reason"`
	Erased Erased `json:"erased"`
}

// Erase removes what the site keeps about the chat's person: the chat's
// record, history and index entry, the visits matched to it and their
// claims, the outbound deliveries of its events with its lanes and dead
// letters (and its events still waiting in the outbound stream make none);
// the reports' per-chat state is renamed to a salted hash, so every
// report stays as it was. Facts the chat left pending are handed to reports
// first. It is idempotent: erasing a chat that holds nothing erases nothing
// and is still recorded in the audit list. A message stored while it runs
// makes it run again on the chat as it then stands.
func (s *Service) Erase(ctx context.Context, site, chat, reason string) (Erased, error) {
	st, err := s.site(site)
	if err != nil {
		return Erased{}, fmt.Errorf("erase: %w", err)
	}
	hash, err := s.Hash(ctx, st.Name, chat)
	if err != nil {
		return Erased{}, fmt.Errorf("erase: %w", err)
	}
	// Deliveries erased by a run that then met a changed chat still count
	// in the run that succeeds.
	var dels outbound.ErasedDeliveries
	var pre preErased
	out, err := ledger.Update(ctx, s.ledger, st.Name, chat, "erase", func(c *ledger.Chat) (Erased, error) {
		if err := s.ledger.HandOver(ctx, st.Name, chat, c.Pending); err != nil {
			return Erased{}, fmt.Errorf("erase: %w", err)
		}
		d, err := outbound.EraseChat(ctx, s.rdb, st, chat, hash)
		if err != nil {
			return Erased{}, fmt.Errorf("erase: %w", err)
		}
		dels.Deliveries += d.Deliveries
		dels.DeadLetters += d.DeadLetters
		dels.Lanes += d.Lanes
		dels.Waiting += d.Waiting
		return s.eraseOnce(ctx, st.Name, chat, hash, reason, c, dels, &pre)
	})
	if err != nil {
		return Erased{}, err
	}
	// A message stored just before the erasure may hand its facts to
	// reports just after it, making the per-chat state anew under the chat
	// key; with no chat left, that state is renamed too.
	if err := s.renameOrphanState(ctx, st.Name, chat, hash); err != nil {
		return out, fmt.Errorf("erase: %w", err)
	}
	// The code-survival report's note of the chat's unlinked first message
	// names the chat: it goes too (the counts stay).
	if err := s.rdb.Del(ctx, s.ledger.Shards(st.Name).CodeOpen(chat)).Err(); err != nil {
		return out, fmt.Errorf("erase: %w", err)
	}
	// A hidden code held for the chat's next message (Viber's
	// conversation_started) names the chat too.
	if err := s.rdb.Del(ctx, s.ledger.Shards(st.Name).HeldCode(chat)).Err(); err != nil {
		return out, fmt.Errorf("erase: %w", err)
	}
	return out, nil
}

// preErased counts what eraseVisitScript erased in an erasure's runs.
type preErased struct{ visits, claims int64 }

// eraseOnce is one run of eraseScript on the chat as loaded; on a site of
// several shards, each visit is first erased on its own shard.
func (s *Service) eraseOnce(ctx context.Context, site, chat, hash, reason string, c *ledger.Chat, dels outbound.ErasedDeliveries, pre *preErased) (Erased, error) {
	suffix, err := randomSuffix()
	if err != nil {
		return Erased{}, fmt.Errorf("erase: %w", err)
	}
	erased := store.ErasedChat(hash, suffix)
	keys := []string{
		s.ledger.Shards(site).Chat(chat), s.ledger.Shards(site).ChatHistory(chat), store.Chats(site),
		store.ReportChat(site, chat), store.ReportChat(site, erased), store.PersonAudit(site),
	}
	visits, err := s.erasableVisits(ctx, site, c.Record)
	if err != nil {
		return Erased{}, fmt.Errorf("erase: %w", err)
	}
	markers, err := s.markers(ctx, site, chat)
	if err != nil {
		return Erased{}, fmt.Errorf("erase: %w", err)
	}
	sh := s.ledger.Shards(site)
	var nums []any
	for _, v := range visits {
		clk := sh.Visit(v.n)
		if v.target != "" {
			clk = sh.Clicks(v.target, sh.Of(v.n))
		}
		vkeys := []string{sh.Visit(v.n), sh.VisitClick(v.n), sh.VisitMatched(v.n), sh.VisitChats(v.n), clk, sh.VisitTaken(v.n)}
		num := strconv.FormatUint(v.n, 36)
		if sh.Count() == 1 {
			keys = append(keys, vkeys...)
			nums = append(nums, num)
			continue
		}
		got, err := eraseVisitScript.Run(ctx, s.rdb, vkeys, chat, num).Int64Slice()
		if err != nil {
			return Erased{}, fmt.Errorf("erase %s: visit %s: %w", hash, num, err)
		}
		if len(got) != 2 {
			return Erased{}, fmt.Errorf("erase %s: visit %s: reply %v", hash, num, got)
		}
		pre.visits += got[0]
		pre.claims += got[1]
	}
	for _, m := range markers {
		ms, ok := markerTime(m)
		if !ok {
			continue
		}
		keys = append(keys, m, store.ReportSeen(site, "u", erased+"@"+ms))
	}
	if sh.Count() > 1 {
		return s.eraseSharded(ctx, site, chat, hash, reason, c, dels, pre, keys[3:])
	}
	nm := (len(keys) - 6 - 6*len(nums)) / 2
	args := []any{c.Ver, chat, len(nums), nm, s.clock.Now().UTC().Format(time.RFC3339), hash, reason, auditCap,
		dels.Deliveries, dels.DeadLetters, dels.Lanes, dels.Waiting, pre.visits, pre.claims}
	args = append(args, nums...)
	res, err := eraseScript.Run(ctx, s.rdb, keys, args...).Text()
	if err != nil {
		return Erased{}, fmt.Errorf("erase %s: %w", hash, err)
	}
	if res == "conflict" {
		return Erased{}, fmt.Errorf("erase %s: %w", hash, ledger.ErrRetry)
	}
	var e Erased
	if err := json.Unmarshal([]byte(res), &e); err != nil {
		return Erased{}, fmt.Errorf("erase %s: reply %q: %w", hash, res, err)
	}
	return e, nil
}

// eraseChatScript is the chat's step of an erasure on a site of several
// shards, on the chat's shard: KEYS[1] the chat's hash, KEYS[2] its
// history; ARGV[1] the chat's "ver" as loaded. Returns "conflict" (the
// chat changed; nothing erased) or {chat, history} erased.
var eraseChatScript = redis.NewScript(`
local ver = redis.call('HGET', KEYS[1], 'ver') or '0'
if ver ~= ARGV[1] then return 'conflict' end
return {redis.call('DEL', KEYS[1]), redis.call('DEL', KEYS[2])}
`)

// eraseSiteScript is the site's step of an erasure on a site of several
// shards, on the site's tag, after the chat's step: the index entry, the
// reports' per-chat state renamed to the salted hash when it is still what
// was read before the chat's step (a message stored since the chat's step
// makes new state, which stays the new chat's), the legacy markers and the
// audit entry.
//
// KEYS: [1] store.Chats, [2] the chat's store.ReportChat, [3] the name it
// takes, [4] store.PersonAudit, then 2 keys per marker (its name, the name
// it takes).
//
// ARGV: [1] the chat key, [2] the number of markers, [3] the audit entry's
// time, [4] the chat's salted hash, [5] the reason, [6] the audit cap,
// [7] "1" when the state was there before the chat's step, [8] the state as
// then read, [9] chat and [10] history erased by the chat's step, [11]
// visits and [12] claims erased by eraseVisitScript, [13] deliveries, [14]
// dead letters, [15] lanes, [16] waiting events erased by
// collector/outbound's EraseChat.
//
// Returns the JSON of what was erased, as eraseScript.
var eraseSiteScript = redis.NewScript(`
local e = {chat = tonumber(ARGV[9]), history = tonumber(ARGV[10]), index = 0, report_state = 0,
  visits = tonumber(ARGV[11]), claims = tonumber(ARGV[12]), markers = 0,
  deliveries = tonumber(ARGV[13]), dead_letters = tonumber(ARGV[14]), lanes = tonumber(ARGV[15]),
  waiting_events = tonumber(ARGV[16])}
e.index = redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[7] == '1' and redis.call('GET', KEYS[2]) == ARGV[8] then
  redis.call('RENAME', KEYS[2], KEYS[3])
  e.report_state = 1
end
for i = 0, tonumber(ARGV[2]) - 1 do
  local b = 5 + i * 2
  if redis.call('EXISTS', KEYS[b]) == 1 then
    redis.call('RENAME', KEYS[b], KEYS[b + 1])
    e.markers = e.markers + 1
  end
end
local erased = cjson.encode(e)
redis.call('RPUSH', KEYS[4], cjson.encode({at = ARGV[3], chat = ARGV[4], reason = ARGV[5], erased = e}))
redis.call('LTRIM', KEYS[4], -tonumber(ARGV[6]), -1)
return erased
`)

// eraseSharded erases the chat of a site of several shards, after its
// visits, in ordered steps on two slots, each safe to stop after and to run
// again:
//
//  1. the reports' per-chat state is read (site's tag);
//  2. the chat's record and history go, unless the chat changed since it
//     was loaded (eraseChatScript, the chat's shard): a conflict erases
//     nothing more and the erasure runs again;
//  3. the index entry, the state (only if still as read), the markers and
//     the audit entry (eraseSiteScript, the site's tag); a stop before it
//     leaves an index entry naming no chat, which lists skip and the
//     erasure's retry removes, and the state, which renameOrphanState
//     renames;
//  4. a message stored between steps 2 and 3 made the chat anew and
//     indexed it: its index entry, which step 3 may have removed, is put
//     back from the chat as it now stands.
//
// rest is the keys of eraseScript from its fourth on (state, its new name,
// audit list, markers).
func (s *Service) eraseSharded(ctx context.Context, site, chat, hash, reason string, c *ledger.Chat, dels outbound.ErasedDeliveries, pre *preErased, rest []string) (Erased, error) {
	sh := s.ledger.Shards(site)
	present, state := "1", ""
	switch v, err := s.rdb.Get(ctx, rest[0]).Result(); {
	case errors.Is(err, redis.Nil):
		present = "0"
	case err != nil:
		return Erased{}, fmt.Errorf("erase %s: report state: %w", hash, err)
	default:
		state = v
	}
	res, err := eraseChatScript.Run(ctx, s.rdb, []string{sh.Chat(chat), sh.ChatHistory(chat)}, c.Ver).Result()
	if err != nil {
		return Erased{}, fmt.Errorf("erase %s: chat: %w", hash, err)
	}
	if res == "conflict" {
		return Erased{}, fmt.Errorf("erase %s: %w", hash, ledger.ErrRetry)
	}
	got, ok := res.([]any)
	if !ok || len(got) != 2 {
		return Erased{}, fmt.Errorf("erase %s: chat: reply %v", hash, res)
	}
	nChat, _ := got[0].(int64)
	nHist, _ := got[1].(int64)
	keys := append([]string{store.Chats(site)}, rest...)
	args := []any{chat, (len(rest) - 3) / 2, s.clock.Now().UTC().Format(time.RFC3339), hash, reason, auditCap,
		present, state, nChat, nHist, pre.visits, pre.claims, dels.Deliveries, dels.DeadLetters, dels.Lanes, dels.Waiting}
	out, err := eraseSiteScript.Run(ctx, s.rdb, keys, args...).Text()
	if err != nil {
		return Erased{}, fmt.Errorf("erase %s: %w", hash, err)
	}
	var e Erased
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		return Erased{}, fmt.Errorf("erase %s: reply %q: %w", hash, out, err)
	}
	now, err := s.ledger.Load(ctx, site, chat)
	if err != nil {
		return Erased{}, fmt.Errorf("erase %s: %w", hash, err)
	}
	if err := s.ledger.IndexSeen(ctx, site, chat, now); err != nil {
		return Erased{}, fmt.Errorf("erase %s: %w", hash, err)
	}
	return e, nil
}

// erasableVisit is a visit an erasure removes, with its last click's
// target.
type erasableVisit struct {
	n      uint64
	target string
}

// erasableVisits are the visits the record names, but for static visits
// (an offline source's printed code, shared by everyone who scans it and
// holding nobody's data) and those that expired.
func (s *Service) erasableVisits(ctx context.Context, site string, r *ledger.Record) ([]erasableVisit, error) {
	nums := visitNumbers(r)
	if len(nums) == 0 {
		return nil, nil
	}
	sh := s.ledger.Shards(site)
	pipe := s.rdb.Pipeline()
	vcmds := make([]*redis.StringCmd, len(nums))
	ccmds := make([]*redis.StringCmd, len(nums))
	for i, n := range nums {
		vcmds[i] = pipe.Get(ctx, sh.Visit(n))
		ccmds[i] = pipe.Get(ctx, sh.VisitClick(n))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("visits: %w", err)
	}
	var out []erasableVisit
	for i, n := range nums {
		raw, err := vcmds[i].Bytes()
		if err == nil {
			v, derr := visit.Decode(n, raw)
			if derr == nil && v.Static {
				continue
			}
		}
		out = append(out, erasableVisit{n: n, target: clickTarget(ccmds[i].Val())})
	}
	return out, nil
}

// renameOrphanScript renames the reports' per-chat state when the chat
// itself is gone. KEYS[1] chat hash, KEYS[2] state, KEYS[3] its new name.
// Returns 1 when renamed.
var renameOrphanScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('RENAME', KEYS[2], KEYS[3])
  return 1
end
return 0
`)

// renameIfScript renames a key when it still holds the value read before.
// KEYS[1] the key, KEYS[2] its new name; ARGV[1] the value. Returns 1 when
// renamed.
var renameIfScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('RENAME', KEYS[1], KEYS[2])
  return 1
end
return 0
`)

// renameOrphanState renames the reports' per-chat state when the chat is
// gone. On a site of several shards the chat and the state live on
// different slots: the state is read, then the chat looked for, then the
// state renamed only if it is still what was read, so that a message
// storing the chat anew and handing its facts over meanwhile keeps them
// (a chat is stored before its facts are handed over).
func (s *Service) renameOrphanState(ctx context.Context, site, chat, hash string) error {
	suffix, err := randomSuffix()
	if err != nil {
		return err
	}
	if sh := s.ledger.Shards(site); sh.Count() > 1 {
		state, err := s.rdb.Get(ctx, store.ReportChat(site, chat)).Result()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("rename orphan state: %w", err)
		}
		n, err := s.rdb.Exists(ctx, sh.Chat(chat)).Result()
		if err != nil {
			return fmt.Errorf("rename orphan state: %w", err)
		}
		if n > 0 {
			return nil
		}
		err = renameIfScript.Run(ctx, s.rdb, []string{store.ReportChat(site, chat),
			store.ReportChat(site, store.ErasedChat(hash, suffix))}, state).Err()
		if err != nil {
			return fmt.Errorf("rename orphan state: %w", err)
		}
		return nil
	}
	err = renameOrphanScript.Run(ctx, s.rdb, []string{s.ledger.Shards(site).Chat(chat), store.ReportChat(site, chat),
		store.ReportChat(site, store.ErasedChat(hash, suffix))}).Err()
	if err != nil {
		return fmt.Errorf("rename orphan state: %w", err)
	}
	return nil
}

func randomSuffix() (string, error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random suffix: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Audit returns the site's audit list, oldest first (at most the newest
// limit entries; 0: all).
func (s *Service) Audit(ctx context.Context, site string, limit int64) ([]AuditEntry, error) {
	st, err := s.site(site)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	start := int64(0)
	if limit > 0 {
		start = -limit
	}
	raw, err := s.rdb.LRange(ctx, store.PersonAudit(st.Name), start, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	out := make([]AuditEntry, 0, len(raw))
	for _, r := range raw {
		var e AuditEntry
		if err := json.Unmarshal([]byte(r), &e); err != nil {
			return nil, fmt.Errorf("audit: entry %q: %w", r, err)
		}
		out = append(out, e)
	}
	return out, nil
}
