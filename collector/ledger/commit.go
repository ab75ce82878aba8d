package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store"
)

// claimRules is the Lua function both commitScript and claimScript decide a
// visit's claim with: claim(holder, chat, kind), holder being the visit's
// "<kind>|<chat>" or false, answers "free" (nobody holds it), "mine" (this
// chat does), "take" and the chat whose guess a code or a confirmation
// takes, "keep" (a code shares a visit another chat's code or confirmation
// holds; the holder stays) or "claimed" (a guess or a confirmation never
// takes a visit from a code or a confirmation).
const claimRules = `
local function claim(holder, chat, kind)
  if not holder then return 'free', '' end
  local hkind, hchat = string.sub(holder, 1, 1), string.sub(holder, 3)
  if hchat == chat then return 'mine', '' end
  if hkind == 'h' and kind ~= 'h' then return 'take', hchat end
  if hkind ~= 'h' and kind == 'f' then return 'keep', '' end
  return 'claimed', ''
end
`

// commitScript stores one commit's effect on a chat atomically: the record,
// the history, the index, the visit's claim and the message's seen mark, so
// that a message is either fully stored or not marked seen. On a site of
// several shards it stores only the chat's part (record, history, seen
// mark), and commitSharded runs the rest in steps of their own.
//
// KEYS:
//
//	[1] the chat's hash (store.Chat: fields rec, ver, pending, last, msgs)
//	[2] the chat's history list (store.ChatHistory)
//	[3] the site's chat index (store.Chats, scored by first message ms);
//	    the chat's hash again when ARGV[3] is "1"
//	[4] the message's seen mark (store.MessageSeen)
//	[5] the claimed visit's matched key (store.VisitMatched)
//	[6] the claimed visit's chats, a set of the chats its code matched
//	    (store.VisitChats)
//	[7] the matched key of a visit this chat held by a guess and releases
//
// ARGV:
//
//	[1]  the "ver" the record was loaded at
//	[2]  the new record JSON, or "" to keep it
//	[3]  "1" to leave the index alone (a site of several shards, where the
//	     chat and the index live on different slots: indexScript does it)
//	[4]  the chat's first message time in ms, its index score (only ever
//	     lowered, by a late-delivered earlier message)
//	[5]  this message's time in ms, or "" (not a message: last and msgs
//	     stay)
//	[6]  the seen mark's TTL in ms, or "0" (no message ID)
//	[7]  the visit claim's TTL in ms, or "0" (no claim)
//	[8]  the chat key
//	[9]  the pending facts JSON, or ""
//	[10] the history cap
//	[11] the claim kind: "f" (a code), "c" (an operator's confirmation) or
//	     "h" (a heuristic guess)
//	[12] "1" to release KEYS[7] when this chat holds it by a guess
//	[13…] history entries (JSON) to append
//
// The claim is stored as "<kind>|<chat>" (the first chat to claim). A code
// or a confirmation takes a visit from another chat's guess; a code shares a
// visit another chat's code or confirmation holds (each chat that sends a
// live code is matched); a guess or a confirmation never takes a visit from
// a code or a confirmation.
//
// Returns "ok", "ok|<chat>" (stored; the visit was taken from that chat's
// guess), "dup" (the message was seen before; nothing changed), "conflict"
// (ver moved; nothing changed) or "claimed" (the visit belongs to another
// chat; nothing changed). parseReply reads it into a Result, the only place
// that knows these strings.
var commitScript = redis.NewScript(claimRules + `
if ARGV[6] ~= '0' and redis.call('EXISTS', KEYS[4]) == 1 then return 'dup' end
local ver = redis.call('HGET', KEYS[1], 'ver') or '0'
if ver ~= ARGV[1] then return 'conflict' end
local taken = ''
if ARGV[7] ~= '0' then
  local verdict, from = claim(redis.call('GET', KEYS[5]), ARGV[8], ARGV[11])
  if verdict == 'claimed' then return 'claimed' end
  if verdict == 'take' then taken = from end
  if verdict ~= 'keep' then redis.call('SET', KEYS[5], ARGV[11] .. '|' .. ARGV[8], 'PX', ARGV[7]) end
  if ARGV[11] ~= 'h' then
    redis.call('SADD', KEYS[6], ARGV[8])
    redis.call('PEXPIRE', KEYS[6], ARGV[7])
  end
end
if ARGV[12] == '1' and redis.call('GET', KEYS[7]) == 'h|' .. ARGV[8] then
  redis.call('DEL', KEYS[7])
end
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[1], 'rec', ARGV[2])
  redis.call('HSET', KEYS[1], 'ver', tostring(tonumber(ver) + 1))
end
if ARGV[9] ~= '' then redis.call('HSET', KEYS[1], 'pending', ARGV[9]) end
if ARGV[5] ~= '' then
  local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
  if tonumber(ARGV[5]) > last then redis.call('HSET', KEYS[1], 'last', ARGV[5]) end
  redis.call('HINCRBY', KEYS[1], 'msgs', 1)
end
if #ARGV > 12 then
  for i = 13, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[10]), -1)
end
if ARGV[3] ~= '1' then
  local indexed = redis.call('ZSCORE', KEYS[3], ARGV[8])
  if not indexed or tonumber(ARGV[4]) < tonumber(indexed) then
    redis.call('ZADD', KEYS[3], ARGV[4], ARGV[8])
  end
end
if ARGV[6] ~= '0' then redis.call('SET', KEYS[4], '1', 'PX', ARGV[6]) end
if taken ~= '' then return 'ok|' .. taken end
return 'ok'
`)

// clearPendingScript removes a chat's pending fact once it is handed over,
// unless a newer one replaced it meanwhile.
//
// KEYS[1] chat hash. ARGV[1] the fact JSON handed over. Returns 1 when
// cleared.
var clearPendingScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'pending') == ARGV[1] then
  return redis.call('HDEL', KEYS[1], 'pending')
end
return 0
`)

// ClaimKind is how a commit claims a visit (see commitScript).
type ClaimKind string

// Claim kinds of a visit.
const (
	ClaimCode    ClaimKind = "f"
	ClaimConfirm ClaimKind = "c"
	ClaimGuess   ClaimKind = "h"
)

// Commit is one change of a chat, stored by one call of commitScript.
type Commit struct {
	Chat string
	// Ver is the version the chat was loaded at (Stored.Ver).
	Ver     string
	Record  *Record // nil: the record stays
	History []HistoryEntry
	// MessageAt is the message's time; zero: the commit is no message
	// (last, msgs and the chat's index score do not move).
	MessageAt time.Time
	MessageID string
	// Claim is the visit number to claim; 0: none. ClaimTTL is how long
	// the claim lives, ClaimKind its kind (ClaimGuess when "").
	Claim     uint64
	ClaimTTL  time.Duration
	ClaimKind ClaimKind
	// Release is a visit this chat held by a guess and lets go; 0: none.
	Release uint64
	// Facts are the reports facts to hand over, kept pending until they
	// are.
	Facts []reports.Conversation
}

// Outcome is what commitScript did with one commit.
type Outcome int

const (
	// Stored: the commit is stored.
	Stored Outcome = iota + 1
	// Duplicate: the message was stored before; nothing changed.
	Duplicate
	// Claimed: the visit belongs to another chat; nothing changed.
	Claimed
	// conflict: the chat changed since it was loaded; nothing changed.
	// Commit answers it as ErrRetry.
	conflict
)

// Result is commitScript's answer, read once.
type Result struct {
	Outcome Outcome
	// TakenFrom is the chat whose heuristic guess of the visit the commit
	// took, or "".
	TakenFrom string
}

// parseReply reads commitScript's reply: "ok", "ok|<chat>", "dup",
// "conflict" or "claimed".
func parseReply(res string) (Result, error) {
	switch res {
	case "ok":
		return Result{Outcome: Stored}, nil
	case "dup":
		return Result{Outcome: Duplicate}, nil
	case "conflict":
		return Result{Outcome: conflict}, nil
	case "claimed":
		return Result{Outcome: Claimed}, nil
	}
	if from, ok := strings.CutPrefix(res, "ok|"); ok && from != "" {
		return Result{Outcome: Stored, TakenFrom: from}, nil
	}
	return Result{}, fmt.Errorf("commit script: unexpected reply %q", res)
}

// Commit stores c on the site's chat. A chat changed since c.Ver was loaded
// is ErrRetry; a duplicate message or a visit claimed by another chat is
// the Result's Outcome.
func (l *Ledger) Commit(ctx context.Context, site string, c Commit) (Result, error) {
	var rec []byte
	var err error
	if c.Record != nil {
		if rec, err = json.Marshal(c.Record); err != nil {
			return Result{}, fmt.Errorf("commit: %w", err)
		}
	}
	pending := ""
	if len(c.Facts) > 0 {
		b, err := json.Marshal(c.Facts)
		if err != nil {
			return Result{}, fmt.Errorf("commit: %w", err)
		}
		pending = string(b)
	}
	first := c.MessageAt
	if c.Record != nil {
		first = time.UnixMilli(c.Record.First)
	}
	msgAt, seen, claim, release := "", "0", "0", "0"
	kind := c.ClaimKind
	if kind == "" {
		kind = ClaimGuess
	}
	if !c.MessageAt.IsZero() {
		msgAt = strconv.FormatInt(c.MessageAt.UnixMilli(), 10)
	}
	sh := l.Shards(site)
	seenKey := sh.MessageSeen(c.Chat, "-")
	if c.MessageID != "" {
		seen, seenKey = strconv.FormatInt(SeenTTL.Milliseconds(), 10), sh.MessageSeen(c.Chat, c.MessageID)
	}
	if c.Claim != 0 {
		claim = strconv.FormatInt(c.ClaimTTL.Milliseconds(), 10)
	}
	if c.Release != 0 {
		release = "1"
	}
	args := []any{c.Ver, string(rec), "", first.UnixMilli(), msgAt, seen, claim, c.Chat, pending, HistoryCap, string(kind), release}
	for i := range c.History {
		b, err := json.Marshal(&c.History[i])
		if err != nil {
			return Result{}, fmt.Errorf("commit: %w", err)
		}
		args = append(args, string(b))
	}
	// One script when every key is under the site's own tag: a site of one
	// shard.
	if sh.Count() > 1 {
		return l.commitSharded(ctx, site, sh, c, args, seenKey)
	}
	res, err := commitScript.Run(ctx, l.rdb,
		[]string{sh.Chat(c.Chat), sh.ChatHistory(c.Chat), store.Chats(site), seenKey,
			sh.VisitMatched(c.Claim), sh.VisitChats(c.Claim), sh.VisitMatched(c.Release)},
		args...).Text()
	if err != nil {
		return Result{}, fmt.Errorf("commit %s: %w", c.Chat, err)
	}
	out, err := parseReply(res)
	if err != nil {
		return Result{}, fmt.Errorf("commit %s: %w", c.Chat, err)
	}
	if out.Outcome == conflict {
		return Result{}, fmt.Errorf("commit %s: %w", c.Chat, ErrRetry)
	}
	return out, nil
}

// claimScript is the visit's part of a commit on a site of several shards,
// run on the visit's shard before the chat's part: the claim rules of
// commitScript, and the note of a guess it took (store.VisitTaken), so that
// a retried commit, finding the visit already held by its chat, still
// learns whose guess to revoke.
//
// KEYS: [1] store.VisitMatched, [2] store.VisitChats, [3] store.VisitTaken
// of the visit. ARGV: [1] the chat key, [2] the claim kind, [3] the claim's
// TTL in ms, [4] the note's TTL in ms.
//
// Returns "ok", "ok|<chat>" (the visit was, or had been, taken from that
// chat's guess) or "claimed" (the visit belongs to another chat; nothing
// changed).
var claimScript = redis.NewScript(claimRules + `
local taken = ''
local verdict, from = claim(redis.call('GET', KEYS[1]), ARGV[1], ARGV[2])
if verdict == 'claimed' then return 'claimed' end
if verdict == 'take' then taken = from end
if verdict == 'mine' then
  local note = redis.call('GET', KEYS[3])
  local mine = ARGV[1] .. '|'
  if note and string.sub(note, 1, #mine) == mine then taken = string.sub(note, #mine + 1) end
end
if verdict ~= 'keep' then redis.call('SET', KEYS[1], ARGV[2] .. '|' .. ARGV[1], 'PX', ARGV[3]) end
if taken ~= '' then redis.call('SET', KEYS[3], ARGV[1] .. '|' .. taken, 'PX', ARGV[4]) end
if ARGV[2] ~= 'h' then
  redis.call('SADD', KEYS[2], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
if taken ~= '' then return 'ok|' .. taken end
return 'ok'
`)

// releaseScript lets go of a visit a chat held by a guess, on the visit's
// shard. KEYS[1] store.VisitMatched; ARGV[1] "h|<chat>". Returns 1 when
// released.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// indexScript puts a chat in the site's index (store.Chats) or lowers its
// score, as commitScript does on a site of one shard. KEYS[1] the index;
// ARGV[1] the chat key, ARGV[2] its first message time in ms. Running it
// again changes nothing.
var indexScript = redis.NewScript(`
local indexed = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not indexed or tonumber(ARGV[2]) < tonumber(indexed) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
  return 1
end
return 0
`)

// commitSharded stores c on a site of several shards, where the chat, the
// site's chat index and the visits it claims and releases live on
// different slots, in steps each atomic on its own slot and ordered so that
// a stop between two of them leaves nothing counted twice and a retry
// completes the commit:
//
//  1. a message seen before is a duplicate, before anything is claimed
//     (the seen mark lives on the chat's shard);
//  2. the claim (claimScript, the visit's shard): "claimed" ends the commit
//     with nothing changed; a claim already held by this chat is kept, so a
//     retry passes it again;
//  3. the chat (commitScript without its claim, release and index, the
//     chat's shard): record, history and seen mark together, so the
//     message is stored whole or not marked seen;
//  4. the chat's index entry (indexScript, the site's tag), after the chat
//     is stored, and again on a duplicate whose chat is stored, so that the
//     platform's retry of a message whose commit stopped after step 3
//     indexes the chat; an index entry never names a chat not yet stored;
//  5. the release of a guessed visit (releaseScript, its shard), after the
//     chat stopped naming it, so a stop before it leaves the visit held a
//     while longer, never held by two chats.
func (l *Ledger) commitSharded(ctx context.Context, site string, sh store.Shards, c Commit, args []any, seenKey string) (Result, error) {
	chatKey := sh.Chat(c.Chat)
	if c.MessageID != "" {
		n, err := l.rdb.Exists(ctx, seenKey).Result()
		if err != nil {
			return Result{}, fmt.Errorf("commit %s: seen: %w", c.Chat, err)
		}
		if n > 0 {
			if err := l.indexStored(ctx, site, chatKey, c.Chat, args[3]); err != nil {
				return Result{}, err
			}
			return Result{Outcome: Duplicate}, nil
		}
	}
	var taken string
	if c.Claim != 0 {
		res, err := claimScript.Run(ctx, l.rdb,
			[]string{sh.VisitMatched(c.Claim), sh.VisitChats(c.Claim), sh.VisitTaken(c.Claim)},
			c.Chat, args[10], args[6], min(c.ClaimTTL, SeenTTL).Milliseconds()).Text()
		if err != nil {
			return Result{}, fmt.Errorf("commit %s: claim: %w", c.Chat, err)
		}
		out, err := parseReply(res)
		if err != nil || out.Outcome == Duplicate || out.Outcome == conflict {
			return Result{}, fmt.Errorf("commit %s: claim: unexpected reply %q", c.Chat, res)
		}
		if out.Outcome == Claimed {
			return out, nil
		}
		taken = out.TakenFrom
	}
	chatArgs := append([]any(nil), args...)
	chatArgs[2], chatArgs[6], chatArgs[11] = "1", "0", "0" // indexed, claimed and released apart
	res, err := commitScript.Run(ctx, l.rdb,
		[]string{chatKey, sh.ChatHistory(c.Chat), chatKey, seenKey, chatKey, chatKey, chatKey},
		chatArgs...).Text()
	if err != nil {
		return Result{}, fmt.Errorf("commit %s: %w", c.Chat, err)
	}
	out, err := parseReply(res)
	if err != nil {
		return Result{}, fmt.Errorf("commit %s: %w", c.Chat, err)
	}
	switch out.Outcome {
	case conflict:
		return Result{}, fmt.Errorf("commit %s: %w", c.Chat, ErrRetry)
	case Duplicate:
		if err := l.indexStored(ctx, site, chatKey, c.Chat, args[3]); err != nil {
			return Result{}, err
		}
		return out, nil
	case Stored:
		out.TakenFrom = taken
	default:
		return out, nil
	}
	if err := indexScript.Run(ctx, l.rdb, []string{store.Chats(site)}, c.Chat, args[3]).Err(); err != nil {
		return Result{}, fmt.Errorf("commit %s: index: %w", c.Chat, err)
	}
	if c.Release != 0 {
		if err := releaseScript.Run(ctx, l.rdb, []string{sh.VisitMatched(c.Release)}, "h|"+c.Chat).Err(); err != nil {
			return Result{}, fmt.Errorf("commit %s: release: %w", c.Chat, err)
		}
	}
	return out, nil
}

// IndexSeen puts a stored chat whose message was seen before in the site's
// index, on a site of several shards (a no-op on one shard, where the chat
// commit indexes the chat in the same script): the platform's retry of a
// message whose commit stopped between storing the chat and indexing it
// completes the commit. c is the chat as loaded; a chat not stored is left
// out.
func (l *Ledger) IndexSeen(ctx context.Context, site, chat string, c *Chat) error {
	if l.Shards(site).Count() == 1 || c == nil || c.Record == nil {
		return nil
	}
	if err := indexScript.Run(ctx, l.rdb, []string{store.Chats(site)}, chat, c.Record.First).Err(); err != nil {
		return fmt.Errorf("index %s: %w", chat, err)
	}
	return nil
}

// indexStored indexes a chat a duplicate message names, when the chat is
// stored (an erased chat's seen marks outlive it; its redelivered message
// must not index it again): the index step of a commit that stopped after
// storing the chat.
func (l *Ledger) indexStored(ctx context.Context, site, chatKey, chat string, first any) error {
	n, err := l.rdb.Exists(ctx, chatKey).Result()
	if err != nil {
		return fmt.Errorf("commit %s: index: %w", chat, err)
	}
	if n == 0 {
		return nil
	}
	if err := indexScript.Run(ctx, l.rdb, []string{store.Chats(site)}, chat, first).Err(); err != nil {
		return fmt.Errorf("commit %s: index: %w", chat, err)
	}
	return nil
}
