package collector

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/httperr"
	"github.com/messtrack/messtrack/collector/ledger"
	"github.com/messtrack/messtrack/collector/score"
	"github.com/messtrack/messtrack/reports"
)

// routesChats registers the operators' chat endpoints.
func (s *Server) routesChats(r fiber.Router) {
	r.Get("/v1/sites/:site/chats", s.requireKey, s.handleListChats)
	r.Get("/v1/sites/:site/chats/:chat", s.requireKey, s.handleChat)
	r.Post("/v1/sites/:site/chats/:chat/confirm", s.requireKey, s.handleConfirm)
}

// routesPeople registers a person's export and erasure.
func (s *Server) routesPeople(r fiber.Router) {
	s.people.Register(r, s.requireKey, func(c *fiber.Ctx) string { return authedSite(c).cfg.Name })
}

// chatRecord is a chat's source record as GET /v1/sites/{site}/chats/{chat}
// answers it: the keys README.md documents, then what operators review.
type chatRecord struct {
	Chat           string                `json:"chat"`
	Name           string                `json:"name"`
	FirstMessageAt string                `json:"first_message_at"`
	Dialog         string                `json:"dialog"`
	Method         string                `json:"method"`
	Confidence     float64               `json:"confidence"`
	Source         ledger.Source         `json:"source"`
	Visitor        ledger.Visitor        `json:"visitor"`
	Sessions       []reports.Session     `json:"sessions"`
	History        []ledger.HistoryEntry `json:"history"`

	Messenger      string            `json:"messenger"`
	Phone          string            `json:"phone,omitempty"`
	Username       string            `json:"username,omitempty"`
	Language       string            `json:"language,omitempty"`
	Visit          string            `json:"visit,omitempty"`
	Confirmed      bool              `json:"confirmed"`
	ConversationAt string            `json:"conversation_at"`
	LastMessageAt  string            `json:"last_message_at,omitempty"`
	Messages       int64             `json:"messages"`
	Candidates     []score.Candidate `json:"candidates"`
	// OtherChats are the other chats the current visit's code (or an
	// operator's confirmation) matched: one page view may start several.
	OtherChats []string `json:"other_chats"`

	// The record's times as instants, for the dashboard; zero when unknown.
	firstAt, convAt, lastAt time.Time
}

// msTime is a stored Unix-millisecond time as an instant; 0 is the zero time.
func msTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func rfc3339ms(ms int64) string {
	if ms == 0 {
		return ""
	}
	return time.UnixMilli(ms).UTC().Format(time.RFC3339)
}

// chatRecord builds a chat's record, or ErrNotFound.
func (s *Server) chatRecord(ctx context.Context, st *site, chat string) (*chatRecord, error) {
	sc, err := s.ledger.Load(ctx, st.cfg.Name, chat)
	if err != nil {
		return nil, fmt.Errorf("chatRecord: %w", err)
	}
	if sc.Record == nil {
		return nil, fail(ErrNotFound, "no chat %q on this site", clip(chat, 80))
	}
	raw, err := s.ledger.History(ctx, st.cfg.Name, chat)
	if err != nil {
		return nil, fmt.Errorf("chatRecord: %w", err)
	}
	cs := sc.Record
	rec := &chatRecord{
		Chat: cs.Chat, Name: cs.Name, FirstMessageAt: rfc3339ms(cs.First), Dialog: cs.Dialog,
		Method: cs.Method, Confidence: cs.Confidence, Source: cs.Source, Visitor: cs.Visitor,
		History:   make([]ledger.HistoryEntry, 0, len(raw)),
		Messenger: cs.Messenger, Phone: cs.Phone, Username: cs.Username, Language: cs.Language,
		Visit: cs.Visit, Confirmed: cs.Confirmed, ConversationAt: rfc3339ms(cs.ConvAt),
		LastMessageAt: rfc3339ms(sc.Last), Messages: sc.Msgs, Candidates: cs.Candidates,
		firstAt: msTime(cs.First), convAt: msTime(cs.ConvAt), lastAt: msTime(sc.Last),
	}
	if rec.Candidates == nil {
		rec.Candidates = []score.Candidate{}
	}
	rec.OtherChats = []string{}
	if cs.VisitN != 0 {
		chats, err := s.ledger.VisitChats(ctx, st.cfg.Name, cs.VisitN)
		if err != nil {
			return nil, fmt.Errorf("chatRecord: %w", err)
		}
		for _, other := range chats {
			if other != chat {
				rec.OtherChats = append(rec.OtherChats, other)
			}
		}
		slices.Sort(rec.OtherChats)
	}
	for _, r := range raw {
		var h ledger.HistoryEntry
		if err := json.Unmarshal([]byte(r), &h); err != nil {
			s.log.Warn("chat history entry unreadable", "site", st.cfg.Name, "chat", chat, "err", err)
			continue
		}
		rec.History = append(rec.History, h)
	}
	if rec.Sessions, err = s.reports.ChatSessions(ctx, st.cfg.Name, chat); err != nil {
		return nil, fmt.Errorf("chatRecord: sessions: %w", err)
	}
	if rec.Sessions == nil {
		rec.Sessions = []reports.Session{} // the contract's "sessions" is a list, never null
	}
	return rec, nil
}

func (s *Server) handleChat(c *fiber.Ctx) error {
	chat, err := httperr.ChatKey(c.Params("chat"))
	if err != nil {
		return err
	}
	rec, err := s.chatRecord(c.UserContext(), authedSite(c), chat)
	if err != nil {
		return err
	}
	return c.JSON(rec)
}

// --- listing ----------------------------------------------------------------

// chatFilter selects chats for the operators' list.
type chatFilter struct {
	// From and To bound the first message time: [From, To).
	From, To time.Time
	Method   string
	Channel  string
	// Campaign matches the source's utm_campaign, ad ID or ad title.
	Campaign string
	// Tag matches any of the source's UTM tags.
	Tag       string
	Messenger string
	// Query is a case-insensitive substring of the name, phone, username,
	// chat key or visit ID (the code).
	Query  string
	Limit  int
	Cursor string
}

// chatSummary is one row of the chat list.
type chatSummary struct {
	Chat           string  `json:"chat"`
	Name           string  `json:"name"`
	Phone          string  `json:"phone,omitempty"`
	Messenger      string  `json:"messenger"`
	FirstMessageAt string  `json:"first_message_at"`
	LastMessageAt  string  `json:"last_message_at,omitempty"`
	Dialog         string  `json:"dialog"`
	Method         string  `json:"method"`
	Confidence     float64 `json:"confidence"`
	Confirmed      bool    `json:"confirmed"`
	Visit          string  `json:"visit,omitempty"`
	Channel        string  `json:"channel"`
	UTMCampaign    string  `json:"utm_campaign"`
	AdID           string  `json:"ad_id"`
	AdTitle        string  `json:"ad_title"`
	Candidates     int     `json:"candidates"`

	// firstAt is FirstMessageAt as an instant, for the dashboard.
	firstAt time.Time
}

// chatPage is a page of the chat list, newest first; Next is the cursor of
// the following page, "" at the end.
type chatPage struct {
	Chats []chatSummary `json:"chats"`
	Next  string        `json:"next"`
}

// List limits: a page holds at most maxListLimit rows; one call reads at
// most listScanCap chats of the index, answering a cursor to go on, so a
// narrow filter over a long history never makes one slow request.
const (
	defaultListLimit = 50
	maxListLimit     = 500
	listScanCap      = 5000
	listBatch        = 200
)

func (f *chatFilter) matches(cs *ledger.Record) bool {
	if f.Method != "" && cs.Method != f.Method {
		return false
	}
	if f.Channel != "" && !strings.EqualFold(cs.Source.Channel, f.Channel) {
		return false
	}
	if f.Messenger != "" && !strings.EqualFold(cs.Messenger, f.Messenger) {
		return false
	}
	if f.Campaign != "" && !strings.EqualFold(cs.Source.UTMCampaign, f.Campaign) &&
		!strings.EqualFold(cs.Source.AdID, f.Campaign) && !strings.EqualFold(cs.Source.AdTitle, f.Campaign) {
		return false
	}
	if f.Tag != "" {
		hit := false
		for _, tag := range []string{cs.Source.UTMSource, cs.Source.UTMMedium, cs.Source.UTMCampaign, cs.Source.UTMContent, cs.Source.UTMTerm} {
			hit = hit || strings.EqualFold(tag, f.Tag)
		}
		if !hit {
			return false
		}
	}
	if f.Query != "" {
		q := strings.ToLower(f.Query)
		hit := false
		for _, field := range []string{cs.Name, cs.Phone, cs.Username, cs.Chat, cs.Visit} {
			if strings.Contains(strings.ToLower(field), q) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

// listPos is a position in the chat index: a score and the member there.
type listPos struct {
	Score  int64
	Member string
}

func (p listPos) cursor() string {
	return strconv.FormatInt(p.Score, 10) + "." + base64.RawURLEncoding.EncodeToString([]byte(p.Member))
}

func parseCursor(cur string) (listPos, error) {
	a, b, ok := strings.Cut(cur, ".")
	score, err := strconv.ParseInt(a, 10, 64)
	member, err2 := base64.RawURLEncoding.DecodeString(b)
	if !ok || err != nil || err2 != nil {
		return listPos{}, fail(ErrBadInput, "cursor %q is not one this API gave", clip(cur, 40))
	}
	return listPos{Score: score, Member: string(member)}, nil
}

// listChats answers a page of chats, newest first message first.
func (s *Server) listChats(ctx context.Context, st *site, f chatFilter) (*chatPage, error) {
	if f.Limit <= 0 {
		f.Limit = defaultListLimit
	}
	f.Limit = min(f.Limit, maxListLimit)
	maxScore := "+inf"
	if !f.To.IsZero() {
		maxScore = "(" + strconv.FormatInt(f.To.UnixMilli(), 10)
	}
	minScore := "-inf"
	if !f.From.IsZero() {
		minScore = strconv.FormatInt(f.From.UnixMilli(), 10)
	}
	// after is the last position passed: members at its score sort
	// descending in a reverse range, so those >= its member are behind us.
	var after *listPos
	if f.Cursor != "" {
		p, err := parseCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		after = &p
	}
	page := &chatPage{Chats: []chatSummary{}}
	scanned, count := 0, int64(listBatch)
	for scanned < listScanCap {
		top := maxScore
		if after != nil && (maxScore == "+inf" || after.Score < mustScore(maxScore)) {
			top = strconv.FormatInt(after.Score, 10)
		}
		zs, err := s.ledger.Index(ctx, st.cfg.Name, top, minScore, count)
		if err != nil {
			return nil, fmt.Errorf("listChats: %w", err)
		}
		fresh := zs[:0]
		for _, z := range zs {
			if after != nil && z.Score == after.Score && z.Chat >= after.Member {
				continue
			}
			fresh = append(fresh, z)
		}
		if len(fresh) == 0 {
			if int64(len(zs)) < count {
				return page, nil // the index is exhausted
			}
			count *= 2 // a run of equal scores longer than a batch
			continue
		}
		count = listBatch
		chats := make([]string, len(fresh))
		for i, z := range fresh {
			chats[i] = z.Chat
		}
		recs, err := s.ledger.Records(ctx, st.cfg.Name, chats)
		if err != nil {
			return nil, fmt.Errorf("listChats: %w", err)
		}
		for i, z := range fresh {
			after = &listPos{Score: z.Score, Member: z.Chat}
			scanned++
			r := recs[i]
			if r.Err != nil {
				s.log.Warn("chat record unreadable: left out of the list", "site", st.cfg.Name, "chat", z.Chat, "err", r.Err)
			}
			if r.Record == nil || !f.matches(r.Record) {
				continue
			}
			page.Chats = append(page.Chats, summarize(r.Record, r.Last))
			if len(page.Chats) == f.Limit {
				page.Next = after.cursor()
				return page, nil
			}
		}
	}
	page.Next = after.cursor()
	return page, nil
}

// mustScore reads a score bound built above ("(123" or "123").
func mustScore(bound string) int64 {
	v, _ := strconv.ParseInt(strings.TrimPrefix(bound, "("), 10, 64)
	return v
}

func summarize(cs *ledger.Record, last int64) chatSummary {
	return chatSummary{
		Chat: cs.Chat, Name: cs.Name, Phone: cs.Phone, Messenger: cs.Messenger,
		FirstMessageAt: rfc3339ms(cs.First), LastMessageAt: rfc3339ms(last), Dialog: cs.Dialog,
		Method: cs.Method, Confidence: cs.Confidence, Confirmed: cs.Confirmed, Visit: cs.Visit,
		Channel: cs.Source.Channel, UTMCampaign: cs.Source.UTMCampaign, AdID: cs.Source.AdID,
		AdTitle: cs.Source.AdTitle, Candidates: len(cs.Candidates), firstAt: msTime(cs.First),
	}
}

// parseDay reads a from/to query value: a date (YYYY-MM-DD, in the site's
// time zone) or an RFC 3339 time. A date as "to" means the end of that day.
func parseDay(st *site, field, v string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseInLocation(time.DateOnly, v, st.cfg.Location); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fail(ErrBadInput, "%s %q is neither YYYY-MM-DD nor an RFC 3339 time", field, clip(v, 40))
	}
	return t, nil
}

func (s *Server) handleListChats(c *fiber.Ctx) error {
	st := authedSite(c)
	f := chatFilter{
		Method: c.Query("method"), Channel: c.Query("channel"), Campaign: c.Query("campaign"),
		Messenger: c.Query("messenger"), Query: c.Query("q"), Cursor: c.Query("cursor"),
	}
	var err error
	if f.From, err = parseDay(st, "from", c.Query("from"), false); err != nil {
		return err
	}
	if f.To, err = parseDay(st, "to", c.Query("to"), true); err != nil {
		return err
	}
	if l := c.Query("limit"); l != "" {
		if f.Limit, err = strconv.Atoi(l); err != nil || f.Limit < 1 {
			return fail(ErrBadInput, "limit %q is not a positive number", clip(l, 20))
		}
	}
	switch f.Method {
	case "", reports.MethodID, reports.MethodReferral, reports.MethodDedicatedNumber, reports.MethodHeuristic, reports.MethodNone:
	default:
		return fail(ErrBadInput, "method %q is not one of id, referral, dedicated_number, heuristic, none", clip(f.Method, 30))
	}
	page, err := s.listChats(c.UserContext(), st, f)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

// --- confirming a candidate -------------------------------------------------

// confirmCandidate attributes an unmatched chat to one of its candidates, as
// an operator decided: the method stays heuristic, with confidence 1 and the
// confirmed flag. The chat's conversation fact is handed over again with
// the new source (same Site, Chat and Time).
func (s *Server) confirmCandidate(ctx context.Context, st *site, chat, visitID string) (*chatRecord, error) {
	n, err := st.codec.ParseVisitID(strings.TrimSpace(visitID))
	if err != nil {
		return nil, fail(ErrBadInput, "visit %q is not a visit ID", clip(visitID, 32))
	}
	return ledger.Update(ctx, s.ledger, st.cfg.Name, chat, "confirmCandidate", func(sc *ledger.Chat) (*chatRecord, error) {
		if sc.Record == nil {
			return nil, fail(ErrNotFound, "no chat %q on this site", clip(chat, 80))
		}
		if err := s.ledger.HandOver(ctx, st.cfg.Name, chat, sc.Pending); err != nil {
			return nil, fmt.Errorf("confirmCandidate: %w", err)
		}
		cs := sc.Record
		if cs.Method != reports.MethodNone {
			return nil, fail(ErrBadInput, "the chat is already attributed (method %s)", cs.Method)
		}
		want := st.codec.VisitID(n)
		known := false
		for _, cand := range cs.Candidates {
			known = known || cand.Visit == want
		}
		if !known {
			return nil, fail(ErrBadInput, "visit %s is not one of the chat's candidates", want)
		}
		v, err := s.loadVisit(ctx, st, n)
		if errors.Is(err, ErrNotFound) {
			return nil, fail(ErrNotFound, "visit %s has expired", want)
		}
		if err != nil {
			return nil, fmt.Errorf("confirmCandidate: %w", err)
		}
		click, err := s.visitClick(ctx, st, n)
		if err != nil {
			return nil, fmt.Errorf("confirmCandidate: %w", err)
		}
		next := *cs
		s.attribute(st, &next, &conversation{Time: time.UnixMilli(cs.ConvAt), Method: reports.MethodHeuristic,
			Confidence: 1, Visit: v, Click: click, Candidates: cs.Candidates, Confirmed: true})
		next.Starts = ledger.SetStart(ledger.StartsOf(cs), cs.ConvAt, reports.MethodHeuristic, n)
		facts := []reports.Conversation{s.conversationFact(st, &next)}
		one := 1.0
		res, err := s.ledger.Commit(ctx, st.cfg.Name, ledger.Commit{Chat: chat, Ver: sc.Ver, Record: &next, Claim: n, ClaimTTL: st.visitTTL(), ClaimKind: ledger.ClaimConfirm, Facts: facts,
			History: []ledger.HistoryEntry{{Time: s.clock.Now().UTC().Format(time.RFC3339), Kind: ledger.KindConfirmed,
				Method: reports.MethodHeuristic, Confidence: &one, Visit: want}}})
		if err != nil {
			return nil, fmt.Errorf("confirmCandidate: %w", err)
		}
		if res.Outcome == ledger.Claimed {
			return nil, fail(ErrBadInput, "visit %s already belongs to another chat", want)
		}
		if res.TakenFrom != "" {
			if err := s.revokeGuess(ctx, st, res.TakenFrom, n); err != nil {
				return nil, fmt.Errorf("confirmCandidate: %w", err)
			}
		}
		if err := s.ledger.HandOverFacts(ctx, st.cfg.Name, chat, facts); err != nil {
			return nil, fmt.Errorf("confirmCandidate: %w", err)
		}
		s.countConfirmed(ctx, st, chat, cs.ConvAt, v, click)
		return s.chatRecord(ctx, st, chat)
	})
}

// confirmRequest is the body of POST .../chats/{chat}/confirm.
type confirmRequest struct {
	Visit string `json:"visit"`
}

func (s *Server) handleConfirm(c *fiber.Ctx) error {
	chat, err := httperr.ChatKey(c.Params("chat"))
	if err != nil {
		return err
	}
	var in confirmRequest
	if err := readJSON(c, 1<<10, &in); err != nil {
		return err
	}
	if in.Visit == "" {
		return fail(ErrBadInput, "visit is required")
	}
	rec, err := s.confirmCandidate(c.UserContext(), authedSite(c), chat, in.Visit)
	if err != nil {
		return err
	}
	return c.JSON(rec)
}
