package collector

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/collector/score"
	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store"
)

// Chat storage limits.
const (
	// seenTTL outlives WhatsApp's retries (36 hours documented, up to 7 days
	// reported) so a redelivery is always recognised.
	seenTTL = 8 * 24 * time.Hour
	// historyCap bounds one chat's history list.
	historyCap = 1000
	// maxStoredText bounds the first-message text kept for review.
	maxStoredText = 1000
	// commitTries is how often a message is re-matched when another
	// delivery changed the same chat or took the same visit meanwhile.
	commitTries = 8
)

// sourceView is where a chat came from, as the chat record shows it; it is
// a snapshot taken at attribution, so it outlives the visit.
type sourceView struct {
	Channel     string `json:"channel"`
	UTMSource   string `json:"utm_source"`
	UTMMedium   string `json:"utm_medium"`
	UTMCampaign string `json:"utm_campaign"`
	UTMContent  string `json:"utm_content"`
	UTMTerm     string `json:"utm_term"`
	Referrer    string `json:"referrer"`
	LandingPage string `json:"landing_page"`
	Page        string `json:"page"`
	AdID        string `json:"ad_id"`
	AdTitle     string `json:"ad_title"`
	ClickID     string `json:"click_id"`
	// AdType (ad/post) and OfflineSource (flyer, billboard) go beyond the
	// fixed keys; reports use them.
	AdType        string `json:"ad_type,omitempty"`
	OfflineSource string `json:"offline_source,omitempty"`
}

// visitorView is who the visitor was, as the chat record shows it.
type visitorView struct {
	Country  string `json:"country"`
	Region   string `json:"region"`
	City     string `json:"city"`
	OS       string `json:"os"`
	Browser  string `json:"browser"`
	Device   string `json:"device"`
	Screen   string `json:"screen"`
	Language string `json:"language"`
}

// chatState is the stored record of a chat (field "rec" of store.Chat).
type chatState struct {
	Chat      string `json:"chat"`
	Messenger string `json:"messenger"`
	Name      string `json:"name,omitempty"`
	Username  string `json:"username,omitempty"`
	Phone     string `json:"phone,omitempty"`
	Language  string `json:"language,omitempty"`
	Target    string `json:"target,omitempty"`
	// First is the chat's first message time; ConvAt the current
	// conversation's (Unix ms, platform timestamps).
	First  int64 `json:"first"`
	ConvAt int64 `json:"conv_at"`
	// Conversations counts the chat's conversations (attributed or not).
	Conversations int     `json:"conversations"`
	Dialog        string  `json:"dialog"`
	Method        string  `json:"method"`
	Confidence    float64 `json:"confidence"`
	Confirmed     bool    `json:"confirmed,omitempty"`
	// VisitN and Visit identify the current conversation's visit.
	VisitN     uint64            `json:"visit_n,omitempty"`
	Visit      string            `json:"visit,omitempty"`
	Source     sourceView        `json:"source"`
	Visitor    visitorView       `json:"visitor"`
	Candidates []score.Candidate `json:"candidates,omitempty"`
	// Starts are the chat's conversation starts, oldest first (at most
	// maxStarts): what decides whether a later message, or a late-delivered
	// earlier one, starts a conversation.
	Starts []convStart `json:"starts,omitempty"`
	// ConvMsg names the message that began the current conversation (in
	// the form notices refer to it), so an edit of it can be told apart.
	ConvMsg string `json:"conv_msg,omitempty"`
}

// convStart is one conversation start of a chat.
type convStart struct {
	// At is the starting message's time (Unix ms).
	At int64 `json:"at"`
	// Reason is why the message started a conversation: "first" (it was
	// the chat's earliest message), "referral" (a click-to-WhatsApp ad) or
	// "code" (the first message of the chat with a visit's code).
	Reason string `json:"reason"`
	Method string `json:"method"`
	VisitN uint64 `json:"visit_n,omitempty"`
	// Msg is the starting message's ID, when the platform gave one.
	Msg string `json:"msg,omitempty"`
}

// Reasons a message starts a conversation.
const (
	startFirst    = "first"
	startReferral = "referral"
	startCode     = "code"
)

// maxStarts bounds the starts a chat record keeps.
const maxStarts = 200

// startsOf returns a chat's conversation starts. A record written before
// starts were kept yields its current conversation.
func startsOf(cs *chatState) []convStart {
	if cs == nil {
		return nil
	}
	if len(cs.Starts) > 0 || cs.ConvAt == 0 {
		return cs.Starts
	}
	reason := startFirst
	switch cs.Method {
	case reports.MethodID:
		reason = startCode
	case reports.MethodReferral:
		reason = startReferral
	}
	return []convStart{{At: cs.ConvAt, Reason: reason, Method: cs.Method, VisitN: cs.VisitN}}
}

// startOfVisit returns the start that a visit's code began, or nil.
func startOfVisit(starts []convStart, n uint64) *convStart {
	for i := range starts {
		if starts[i].VisitN == n {
			return &starts[i]
		}
	}
	return nil
}

// historyEntry is one conversation or contact of a chat.
type historyEntry struct {
	Time string `json:"time"`
	// Kind is "conversation" (a new conversation, attributed or not),
	// "message" (a later message of the same conversation), "confirmed"
	// (an operator confirmed a candidate), "revoked" (a code proved the
	// heuristic's visit belonged to another chat), or a notice about an
	// earlier message: "reaction", "edited", "deleted" (notices.go).
	Kind       string   `json:"kind"`
	Method     string   `json:"method,omitempty"`
	Confidence *float64 `json:"confidence,omitempty"`
	Visit      string   `json:"visit,omitempty"`
	MessageID  string   `json:"message_id,omitempty"`
	// PlatformTime is the message's time as the platform gave it, when it
	// was too far ahead to be believed and Time is when it was received.
	PlatformTime string `json:"platform_time,omitempty"`
	// Text is the conversation's first message, kept for review, or an
	// edit's new text.
	Text string `json:"text,omitempty"`
	// Ref is the message a notice is about; Emoji a reaction's emoji
	// ("" in a reaction: the reaction was removed).
	Ref   string `json:"ref,omitempty"`
	Emoji string `json:"emoji,omitempty"`
}

// MatchResult is the matcher's answer for one inbound message.
type MatchResult struct {
	Chat       string
	Method     string
	Confidence float64
	Visit      *visit.Visit
	// NewChat is set for the first message of a chat, NewConversation for
	// the first message of any conversation.
	NewChat         bool
	NewConversation bool
	// Duplicate is set when the message was processed before.
	Duplicate bool
}

// errRetry makes receive match a message again from fresh state.
var errRetry = errors.New("chat changed meanwhile")

// commitScript stores one message's effect on a chat atomically: the
// record, the history, the index, the visit's claim and the message's seen
// mark, so that a message is either fully stored or not marked seen.
//
// KEYS[1] chat hash, KEYS[2] chat history, KEYS[3] site's chat index,
// KEYS[4] message-seen key, KEYS[5] visit-matched key, KEYS[6] the visit's
// chats (a set of the chats its code matched), KEYS[7] visit-matched key of
// a guess to release.
// ARGV[1] expected "ver", ARGV[2] new record JSON or "", ARGV[3] unused,
// ARGV[4] first message time (index score,
// ms; only ever lowered, by a late-delivered earlier message), ARGV[5] this
// message's time in ms or "" (not a message), ARGV[6] seen TTL ms or "0" (no
// message ID), ARGV[7] visit claim TTL ms or "0" (no claim), ARGV[8] chat
// key, ARGV[9] pending facts JSON or "", ARGV[10] history cap, ARGV[11]
// claim kind: "f" (a code), "c" (an operator's confirmation) or "h" (a
// heuristic guess), ARGV[12] "1" to release KEYS[7] when this chat holds it
// by a guess, ARGV[13..] history entries (JSON) to append.
// The claim is stored as "<kind>|<chat>" (the first chat to claim). A code
// or a confirmation takes a visit from another chat's guess; a code shares
// a visit another chat's code or confirmation holds (each chat that sends a
// live code is matched); a guess or a confirmation never takes a visit from
// a code or a confirmation.
// Returns "ok", "ok|<chat>" (the visit was taken from that chat's guess),
// "dup" (seen before), "conflict" (ver moved) or "claimed" (the visit
// belongs to another chat); parseCommitReply reads it into a commitResult,
// the only place that knows these strings.
var commitScript = redis.NewScript(`
if ARGV[6] ~= '0' and redis.call('EXISTS', KEYS[4]) == 1 then return 'dup' end
local ver = redis.call('HGET', KEYS[1], 'ver') or '0'
if ver ~= ARGV[1] then return 'conflict' end
local taken = ''
if ARGV[7] ~= '0' then
  local holder = redis.call('GET', KEYS[5])
  local keep = false
  if holder then
    local kind, chat = string.sub(holder, 1, 1), string.sub(holder, 3)
    if chat ~= ARGV[8] then
      if kind == 'h' and ARGV[11] ~= 'h' then
        taken = chat
      elseif kind ~= 'h' and ARGV[11] == 'f' then
        keep = true
      else
        return 'claimed'
      end
    end
  end
  if not keep then redis.call('SET', KEYS[5], ARGV[11] .. '|' .. ARGV[8], 'PX', ARGV[7]) end
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
local indexed = redis.call('ZSCORE', KEYS[3], ARGV[8])
if not indexed or tonumber(ARGV[4]) < tonumber(indexed) then
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[8])
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

// storedChat is a chat as loaded: its record, version and pending fact.
type storedChat struct {
	State   *chatState
	Ver     string
	Pending string
	Last    int64
	Msgs    int64
}

// loadChat reads a chat; State is nil when the chat is new.
func (s *Server) loadChat(ctx context.Context, st *site, chat string) (*storedChat, error) {
	vals, err := s.rdb.HMGet(ctx, store.Chat(st.cfg.Name, chat), "rec", "ver", "pending", "last", "msgs").Result()
	if err != nil {
		return nil, fmt.Errorf("loadChat: %w", err)
	}
	sc := &storedChat{Ver: "0"}
	str := func(i int) string { v, _ := vals[i].(string); return v }
	if rec := str(0); rec != "" {
		sc.State = &chatState{}
		if err := json.Unmarshal([]byte(rec), sc.State); err != nil {
			return nil, fmt.Errorf("loadChat %s: %w", chat, err)
		}
	}
	if v := str(1); v != "" {
		sc.Ver = v
	}
	sc.Pending = str(2)
	for _, f := range []struct {
		i   int
		dst *int64
	}{{3, &sc.Last}, {4, &sc.Msgs}} {
		if v := str(f.i); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("loadChat %s: field %d: %w", chat, f.i, err)
			}
			*f.dst = n
		}
	}
	return sc, nil
}

// Claim kinds of a visit (see commitScript).
const (
	claimCode    = "f"
	claimConfirm = "c"
	claimGuess   = "h"
)

// commit is one call of commitScript.
type commit struct {
	Chat      string
	Ver       string
	State     *chatState
	History   []historyEntry
	MessageAt time.Time // zero: not a message
	MessageID string
	Claim     uint64 // visit number to claim; 0: none
	// ClaimKind is claimCode, claimConfirm or claimGuess.
	ClaimKind string
	// Release is a visit this chat held by a guess and lets go; 0: none.
	Release uint64
	// Facts are the reports facts to hand over, kept pending until they
	// are.
	Facts []reports.Conversation
}

func (s *Server) commit(ctx context.Context, st *site, c commit) (commitResult, error) {
	name := st.cfg.Name
	var rec []byte
	var err error
	if c.State != nil {
		if rec, err = json.Marshal(c.State); err != nil {
			return commitResult{}, fmt.Errorf("commit: %w", err)
		}
	}
	pending := ""
	if len(c.Facts) > 0 {
		b, err := json.Marshal(c.Facts)
		if err != nil {
			return commitResult{}, fmt.Errorf("commit: %w", err)
		}
		pending = string(b)
	}
	first := c.MessageAt
	if c.State != nil {
		first = time.UnixMilli(c.State.First)
	}
	msgAt, seen, claim, release := "", "0", "0", "0"
	kind := c.ClaimKind
	if kind == "" {
		kind = claimGuess
	}
	if !c.MessageAt.IsZero() {
		msgAt = strconv.FormatInt(c.MessageAt.UnixMilli(), 10)
	}
	seenKey := store.MessageSeen(name, "-")
	if c.MessageID != "" {
		seen, seenKey = strconv.FormatInt(seenTTL.Milliseconds(), 10), store.MessageSeen(name, c.MessageID)
	}
	if c.Claim != 0 {
		claim = strconv.FormatInt(st.visitTTL().Milliseconds(), 10)
	}
	if c.Release != 0 {
		release = "1"
	}
	args := []any{c.Ver, string(rec), "", first.UnixMilli(), msgAt, seen, claim, c.Chat, pending, historyCap, kind, release}
	for i := range c.History {
		b, err := json.Marshal(&c.History[i])
		if err != nil {
			return commitResult{}, fmt.Errorf("commit: %w", err)
		}
		args = append(args, string(b))
	}
	res, err := commitScript.Run(ctx, s.rdb,
		[]string{store.Chat(name, c.Chat), store.ChatHistory(name, c.Chat), store.Chats(name), seenKey,
			store.VisitMatched(name, c.Claim), store.VisitChats(name, c.Claim), store.VisitMatched(name, c.Release)},
		args...).Text()
	if err != nil {
		return commitResult{}, fmt.Errorf("commit %s: %w", c.Chat, err)
	}
	out, err := parseCommitReply(res)
	if err != nil {
		return commitResult{}, fmt.Errorf("commit %s: %w", c.Chat, err)
	}
	if out.Outcome == commitConflict {
		return commitResult{}, fmt.Errorf("commit %s: %w", c.Chat, errRetry)
	}
	return out, nil
}

// commitOutcome is what commitScript did with one commit.
type commitOutcome int

const (
	// committed: the commit is stored.
	committed commitOutcome = iota + 1
	// commitDuplicate: the message was stored before; nothing changed.
	commitDuplicate
	// commitConflict: the chat changed since it was loaded; nothing
	// changed. commit answers it as errRetry.
	commitConflict
	// commitClaimed: the visit belongs to another chat; nothing changed.
	commitClaimed
)

// commitResult is commitScript's answer, read once.
type commitResult struct {
	Outcome commitOutcome
	// TakenFrom is the chat whose heuristic guess of the visit the commit
	// took, or "".
	TakenFrom string
}

// parseCommitReply reads commitScript's reply: "ok", "ok|<chat>", "dup",
// "conflict" or "claimed".
func parseCommitReply(res string) (commitResult, error) {
	switch res {
	case "ok":
		return commitResult{Outcome: committed}, nil
	case "dup":
		return commitResult{Outcome: commitDuplicate}, nil
	case "conflict":
		return commitResult{Outcome: commitConflict}, nil
	case "claimed":
		return commitResult{Outcome: commitClaimed}, nil
	}
	if from, ok := strings.CutPrefix(res, "ok|"); ok && from != "" {
		return commitResult{Outcome: committed, TakenFrom: from}, nil
	}
	return commitResult{}, fmt.Errorf("commit script: unexpected reply %q", res)
}

// updateChat is the chat ledger's one retry loop: it loads the chat and runs
// change on it, and when change answers errRetry (another delivery changed
// the chat, or took the visit, meanwhile) it runs change again on the chat
// as it now stands, at most commitTries times. op names the operation in
// errors.
func updateChat[T any](ctx context.Context, s *Server, st *site, chat, op string, change func(sc *storedChat) (T, error)) (T, error) {
	var zero T
	for range commitTries {
		sc, err := s.loadChat(ctx, st, chat)
		if err != nil {
			return zero, fmt.Errorf("%s: %w", op, err)
		}
		out, err := change(sc)
		if errors.Is(err, errRetry) {
			continue
		}
		return out, err
	}
	return zero, fmt.Errorf("%s %s: %w after %d tries", op, chat, errRetry, commitTries)
}

// receive runs one inbound message through the matcher and stores its
// effect. It returns only after the message is stored, so a platform that
// gets an error retries and loses nothing; a redelivered message (same
// MessageID) is reported as Duplicate and changes nothing.
func (s *Server) receive(ctx context.Context, st *site, in *inbound.Message) (*MatchResult, error) {
	return updateChat(ctx, s, st, in.Chat, "receive", func(sc *storedChat) (*MatchResult, error) {
		return s.receiveOnce(ctx, st, in, sc)
	})
}

// validReferral tells a click-to-WhatsApp referral that names its ad.
func validReferral(r *inbound.Referral) bool {
	return r != nil && (r.SourceID != "" || r.CtwaClid != "" || r.SourceURL != "")
}

// startDecision is what one message does to a chat's conversations.
type startDecision struct {
	// Conv is the conversation the message starts, nil for a continuation.
	Conv   *conversation
	Reason string
	// Drop are starts the message shows were no starts: a late-delivered
	// earlier message took the place of the chat's first message, or
	// brought a code earlier than the message that was counted for it.
	Drop []convStart
}

// decideStart applies the conversation rules to one message. A message
// starts a conversation when it carries a click-to-WhatsApp referral, when
// it carries a live code of a visit that no earlier message of the chat
// brought, or when it is the chat's earliest message (then, without
// referral or code, the matcher decides its source). Anything else
// continues the conversation in progress.
func (s *Server) decideStart(ctx context.Context, st *site, cs *chatState, in *inbound.Message, code *foundCode) (startDecision, error) {
	var d startDecision
	starts := startsOf(cs)
	t := in.Time.UnixMilli()
	switch {
	case validReferral(in.Referral):
		d.Conv = &conversation{Time: in.Time, Method: reports.MethodReferral, Confidence: 1, Referral: in.Referral}
		d.Reason = startReferral
	case code != nil && !code.Mine:
		d.Conv, d.Reason = s.idConversation(in, code), startCode
	case code != nil:
		if old := startOfVisit(starts, code.Visit.N); old != nil && t < old.At {
			d.Conv, d.Reason = s.idConversation(in, code), startCode
			d.Drop = append(d.Drop, *old)
		}
	}
	if cs == nil || (len(starts) > 0 && t < starts[0].At) {
		if d.Conv == nil {
			conv, err := s.match(ctx, st, in)
			if err != nil {
				return d, fmt.Errorf("decideStart: %w", err)
			}
			d.Conv, d.Reason = conv, startFirst
		}
		if len(starts) > 0 && starts[0].Reason == startFirst && (len(d.Drop) == 0 || d.Drop[0].At != starts[0].At) {
			d.Drop = append(d.Drop, starts[0])
		}
	}
	return d, nil
}

// receiveOnce is one round of receive on the chat as loaded.
func (s *Server) receiveOnce(ctx context.Context, st *site, in *inbound.Message, sc *storedChat) (*MatchResult, error) {
	if in.MessageID != "" {
		n, err := s.rdb.Exists(ctx, store.MessageSeen(st.cfg.Name, in.MessageID)).Result()
		if err != nil {
			return nil, fmt.Errorf("receive: seen: %w", err)
		}
		if n > 0 {
			return s.duplicate(ctx, st, in)
		}
	}
	if err := s.handOver(ctx, st, in.Chat, sc.Pending); err != nil {
		return nil, fmt.Errorf("receive: %w", err)
	}
	code, err := s.findCode(ctx, st, in, startsOf(sc.State))
	if err != nil {
		return nil, fmt.Errorf("receive: %w", err)
	}
	d, err := s.decideStart(ctx, st, sc.State, in, code)
	if err != nil {
		return nil, fmt.Errorf("receive: %w", err)
	}
	conv := d.Conv
	if conv != nil && conv.Method == reports.MethodID {
		if conv.Click, err = s.visitClick(ctx, st, conv.Visit.N); err != nil {
			return nil, fmt.Errorf("receive: %w", err)
		}
	}
	state, facts := s.nextState(st, sc.State, in, d)
	c := commit{Chat: in.Chat, Ver: sc.Ver, State: state, MessageAt: in.Time, MessageID: in.MessageID, Facts: facts}
	at := in.Time.UTC().Format(time.RFC3339)
	for _, dr := range d.Drop {
		c.History = append(c.History, historyEntry{Time: rfc3339ms(dr.At), Kind: "continued", Method: dr.Method,
			MessageID: dr.Msg})
		if dr.Method == reports.MethodHeuristic && dr.VisitN != 0 && (conv == nil || conv.Visit == nil || conv.Visit.N != dr.VisitN) {
			c.Release = dr.VisitN
		}
	}
	if conv != nil {
		conf := conv.Confidence
		var visit string
		if conv.Visit != nil {
			visit = st.codec.VisitID(conv.Visit.N)
		}
		c.History = append(c.History, historyEntry{Time: at, Kind: "conversation", Method: conv.Method,
			Confidence: &conf, Visit: visit, MessageID: in.MessageID, Text: inbound.CleanText(in.Text, maxStoredText),
			PlatformTime: inbound.PlatformTimeText(in.PlatformTime)})
		if conv.Visit != nil && !conv.Visit.Static {
			c.Claim, c.ClaimKind = conv.Visit.N, claimGuess
			if conv.Method == reports.MethodID {
				c.ClaimKind = claimCode
			}
		}
	} else {
		c.History = append(c.History, historyEntry{Time: at, Kind: "message", MessageID: in.MessageID,
			PlatformTime: inbound.PlatformTimeText(in.PlatformTime)})
	}
	res, err := s.commit(ctx, st, c)
	if err != nil {
		return nil, fmt.Errorf("receive: %w", err)
	}
	switch res.Outcome {
	case commitDuplicate:
		return s.duplicate(ctx, st, in)
	case commitClaimed:
		return nil, errRetry
	}
	if res.TakenFrom != "" {
		if err := s.revokeGuess(ctx, st, res.TakenFrom, conv.Visit.N); err != nil {
			return nil, fmt.Errorf("receive: %w", err)
		}
	}
	if len(facts) > 0 {
		pending, err := json.Marshal(facts)
		if err != nil {
			return nil, fmt.Errorf("receive: %w", err)
		}
		if err := s.handOver(ctx, st, in.Chat, string(pending)); err != nil {
			return nil, fmt.Errorf("receive: %w", err)
		}
	}
	out := &MatchResult{Chat: in.Chat, Method: state.Method, Confidence: state.Confidence,
		NewChat: sc.State == nil, NewConversation: conv != nil}
	if conv != nil {
		s.countMatch(conv.Method)
		out.Method, out.Confidence, out.Visit = conv.Method, conv.Confidence, conv.Visit
	} else if state.VisitN != 0 {
		out.Visit = s.answerVisit(ctx, st, state.VisitN)
	}
	return out, nil
}

// duplicate answers a message processed before: the chat as it stands. A
// fact whose hand-over failed the first time is handed over now, which is
// why platforms' retries after an error recover it.
func (s *Server) duplicate(ctx context.Context, st *site, in *inbound.Message) (*MatchResult, error) {
	sc, err := s.loadChat(ctx, st, in.Chat)
	if err != nil {
		return nil, fmt.Errorf("receive: duplicate: %w", err)
	}
	if err := s.handOver(ctx, st, in.Chat, sc.Pending); err != nil {
		return nil, fmt.Errorf("receive: duplicate: %w", err)
	}
	out := &MatchResult{Chat: in.Chat, Method: reports.MethodNone, Duplicate: true}
	if sc.State != nil {
		out.Method, out.Confidence = sc.State.Method, sc.State.Confidence
		if sc.State.VisitN != 0 {
			out.Visit = s.answerVisit(ctx, st, sc.State.VisitN)
		}
	}
	return out, nil
}

// liveVisit loads a visit, answering nil without error when it expired.
func (s *Server) liveVisit(ctx context.Context, st *site, n uint64) (*visit.Visit, error) {
	v, err := s.loadVisit(ctx, st, n)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return v, err
}

// answerVisit is the chat's visit for an answer given after the message is
// stored: a failure to read it must not fail the message (the platform would
// retry what is already kept), so it is logged and the answer goes without it.
func (s *Server) answerVisit(ctx context.Context, st *site, n uint64) *visit.Visit {
	v, err := s.liveVisit(ctx, st, n)
	if err != nil {
		s.log.Warn("answer without the chat's visit", "site", st.cfg.Name, "visit", n, "err", err)
	}
	return v
}

func (s *Server) idConversation(in *inbound.Message, code *foundCode) *conversation {
	return &conversation{Time: in.Time, Method: reports.MethodID, Confidence: 1, Visit: code.Visit}
}

// nextState is the chat's record after the message, and the reports facts
// it makes: who wrote is refreshed; a conversation start is added to the
// chat's starts (the starts it proves were none are dropped) and, when it is
// the latest, becomes the record's attribution.
func (s *Server) nextState(st *site, prev *chatState, in *inbound.Message, d startDecision) (*chatState, []reports.Conversation) {
	var next chatState
	if prev != nil {
		next = *prev
		next.Starts = append([]convStart(nil), startsOf(prev)...)
		// A message delivered late (a platform's retry) may predate the
		// one that created the chat: the chat began when it was sent.
		if at := in.Time.UnixMilli(); at < next.First {
			next.First = at
		}
	} else {
		next = chatState{Chat: in.Chat, Messenger: in.Messenger, First: in.Time.UnixMilli()}
	}
	if in.Name != "" {
		next.Name = inbound.CleanName(in.Name)
	}
	if in.Username != "" {
		next.Username = inbound.CleanName(in.Username)
	}
	if in.Phone != "" {
		next.Phone = in.Phone
	}
	if in.Language != "" {
		next.Language = inbound.CleanName(in.Language)
	}
	if in.Target != "" {
		next.Target = in.Target
	}
	conv := d.Conv
	if conv == nil {
		return &next, nil
	}
	var facts []reports.Conversation
	currentDropped := false
	for _, dr := range d.Drop {
		next.Starts = slices.DeleteFunc(next.Starts, func(x convStart) bool { return x.At == dr.At })
		next.Conversations--
		currentDropped = currentDropped || dr.At == next.ConvAt
		facts = append(facts, reports.Conversation{Site: st.cfg.Name, Chat: next.Chat, Time: time.UnixMilli(dr.At).UTC(), Retract: true})
	}
	t := conv.Time.UnixMilli()
	start := convStart{At: t, Reason: d.Reason, Method: conv.Method, Msg: in.MessageID}
	if conv.Visit != nil {
		start.VisitN = conv.Visit.N
	}
	i, _ := slices.BinarySearchFunc(next.Starts, t, func(x convStart, t int64) int { return cmp.Compare(x.At, t) })
	next.Starts = slices.Insert(next.Starts, i, start)
	if len(next.Starts) > maxStarts {
		next.Starts = next.Starts[len(next.Starts)-maxStarts:]
	}
	next.Conversations++
	if next.Conversations < len(next.Starts) {
		next.Conversations = len(next.Starts)
	}
	attributed := next
	attributed.ConvAt = t
	attributed.ConvMsg = in.NoticeRef()
	s.attribute(st, &attributed, conv)
	facts = append(facts, s.conversationFact(st, &attributed))
	if prev == nil || currentDropped || t >= prev.ConvAt {
		next = attributed
	}
	next.Dialog = reports.DialogRepeat
	if len(next.Starts) > 0 && next.Starts[0].At == next.ConvAt && next.Conversations == len(next.Starts) {
		next.Dialog = reports.DialogNew
	}
	return &next, facts
}

// attribute writes a conversation's match into the record.
func (s *Server) attribute(st *site, next *chatState, conv *conversation) {
	next.Method, next.Confidence, next.Confirmed = conv.Method, conv.Confidence, conv.Confirmed
	next.VisitN, next.Visit = 0, ""
	next.Source, next.Visitor, next.Candidates = sourceView{}, visitorView{}, conv.Candidates
	switch {
	case conv.Visit != nil:
		v := conv.Visit
		next.VisitN, next.Visit = v.N, st.codec.VisitID(v.N)
		next.Source = visitSource(st, v, conv.Click)
		next.Visitor = visitorView{Country: v.Country, Region: v.Region, City: v.City, OS: v.OS,
			Browser: v.Browser, Device: v.Device, Screen: v.Screen, Language: v.Language}
	case conv.Referral != nil:
		r := conv.Referral
		title := r.Headline
		if title == "" {
			title = r.Body
		}
		next.Source = sourceView{Channel: "messenger_ad", Referrer: r.SourceURL, AdID: r.SourceID,
			AdTitle: title, AdType: r.SourceType, ClickID: r.CtwaClid}
	case conv.Source != nil:
		next.Source = sourceView{Channel: conv.Source.Channel, AdTitle: conv.Source.Title, OfflineSource: conv.Source.Name}
	}
}

// visitSource is the source snapshot of a visit: the page is the one its
// chat link was clicked on, else the visit's own page.
func visitSource(st *site, v *visit.Visit, click *clickInfo) sourceView {
	src := sourceView{Channel: v.Channel, UTMSource: v.UTMSource, UTMMedium: v.UTMMedium,
		UTMCampaign: v.UTMCampaign, UTMContent: v.UTMContent, UTMTerm: v.UTMTerm,
		Referrer: v.Referrer, LandingPage: v.Landing, Page: v.Page, ClickID: v.ClickID,
		AdID: v.UTMContent, OfflineSource: v.Source}
	if src.AdID == "" {
		src.AdID = v.UTMCampaign
	}
	// A paid web campaign is an ad in the ads report's type column, as a
	// click-to-WhatsApp referral's source_type is.
	if src.AdID != "" && (v.Channel == reports.ChannelPaidSearch || v.Channel == reports.ChannelPaidSocial || v.Channel == reports.ChannelMessengerAd) {
		src.AdType = "ad"
	}
	if click != nil && click.Page != "" {
		src.Page = click.Page
	}
	if v.Source != "" {
		if cfgSrc := st.cfg.Sources[v.Source]; cfgSrc != nil {
			src.AdTitle = cfgSrc.Title
			if src.Channel == "" {
				src.Channel = cfgSrc.Channel
			}
		}
	}
	return src
}

// revokeGuess undoes a chat's heuristic match to visit n after a code
// proved the visit belongs to another chat: the chat goes back to
// unmatched, its other candidates kept for review, and reports get the
// corrected fact (same Site, Chat and Time, method none).
func (s *Server) revokeGuess(ctx context.Context, st *site, chat string, n uint64) error {
	_, err := updateChat(ctx, s, st, chat, "revokeGuess", func(sc *storedChat) (struct{}, error) {
		cs := sc.State
		if cs == nil || cs.VisitN != n || cs.Method != reports.MethodHeuristic || cs.Confirmed {
			return struct{}{}, nil
		}
		if err := s.handOver(ctx, st, chat, sc.Pending); err != nil {
			return struct{}{}, fmt.Errorf("revokeGuess: %w", err)
		}
		taken := cs.Visit
		next := *cs
		var rest []score.Candidate
		for _, c := range cs.Candidates {
			if c.Visit != taken {
				rest = append(rest, c)
			}
		}
		s.attribute(st, &next, &conversation{Method: reports.MethodNone, Candidates: rest})
		next.Starts = setStart(startsOf(cs), cs.ConvAt, reports.MethodNone, 0)
		facts := []reports.Conversation{s.conversationFact(st, &next)}
		zero := 0.0
		// No claim and no message ID: the commit is stored or conflicts.
		_, err := s.commit(ctx, st, commit{Chat: chat, Ver: sc.Ver, State: &next, Facts: facts,
			History: []historyEntry{{Time: s.clock.Now().UTC().Format(time.RFC3339), Kind: "revoked",
				Method: reports.MethodNone, Confidence: &zero, Visit: taken}}})
		if err != nil {
			return struct{}{}, fmt.Errorf("revokeGuess: %w", err)
		}
		pending, err := json.Marshal(facts)
		if err != nil {
			return struct{}{}, fmt.Errorf("revokeGuess: %w", err)
		}
		return struct{}{}, s.handOver(ctx, st, chat, string(pending))
	})
	return err
}

// setStart returns starts with the one at "at" given a new method and
// visit.
func setStart(starts []convStart, at int64, method string, visit uint64) []convStart {
	out := append([]convStart(nil), starts...)
	for i := range out {
		if out[i].At == at {
			out[i].Method, out[i].VisitN = method, visit
		}
	}
	return out
}

// conversationFact is the reports fact of the chat's current conversation.
func (s *Server) conversationFact(st *site, cs *chatState) reports.Conversation {
	return reports.Conversation{
		Site: st.cfg.Name, Chat: cs.Chat, Time: time.UnixMilli(cs.ConvAt).UTC(), Messenger: cs.Messenger,
		Method: cs.Method, Confidence: cs.Confidence,
		Channel: cs.Source.Channel, UTMSource: cs.Source.UTMSource, UTMMedium: cs.Source.UTMMedium,
		UTMCampaign: cs.Source.UTMCampaign, UTMContent: cs.Source.UTMContent, UTMTerm: cs.Source.UTMTerm,
		AdID: cs.Source.AdID, AdTitle: cs.Source.AdTitle, AdType: cs.Source.AdType, ClickID: cs.Source.ClickID,
		Page: cs.Source.Page, Landing: cs.Source.LandingPage, Referrer: cs.Source.Referrer, Source: cs.Source.OfflineSource,
	}
}

// handOver gives stored pending conversation facts to reports and clears
// them. Facts are handed over at least once: when the hand-over fails, they
// stay pending and go with the chat's next delivery (the platform's retry of
// the failed one included), so reports must take a fact again for the same
// Site, Chat and Time as the same conversation. pending is a JSON array of
// facts, or one fact as earlier versions stored it.
func (s *Server) handOver(ctx context.Context, st *site, chat, pending string) error {
	if pending == "" {
		return nil
	}
	var facts []reports.Conversation
	if strings.HasPrefix(pending, "[") {
		if err := json.Unmarshal([]byte(pending), &facts); err != nil {
			return fmt.Errorf("handOver %s: %w", chat, err)
		}
	} else {
		var fact reports.Conversation
		if err := json.Unmarshal([]byte(pending), &fact); err != nil {
			return fmt.Errorf("handOver %s: %w", chat, err)
		}
		facts = append(facts, fact)
	}
	for _, fact := range facts {
		if err := s.onConversation(ctx, fact); err != nil {
			return fmt.Errorf("handOver %s: %w", chat, err)
		}
	}
	if err := clearPendingScript.Run(ctx, s.rdb, []string{store.Chat(st.cfg.Name, chat)}, pending).Err(); err != nil {
		return fmt.Errorf("handOver %s: clear: %w", chat, err)
	}
	return nil
}

// SetConversationSink makes fn, in place of the reports store, receive every
// conversation fact (the first message of each chat and each later
// attributed conversation), at least once. Call it before Serve.
func (s *Server) SetConversationSink(fn func(context.Context, reports.Conversation) error) {
	s.onConversation = fn
}
