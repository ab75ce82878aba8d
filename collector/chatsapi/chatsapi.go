// Package chatsapi is the operators' chat API: a chat's source record
// (GET /v1/sites/{site}/chats/{chat}), the chat list with its filters and
// cursor (GET /v1/sites/{site}/chats), and an operator's confirmation of one
// of an unmatched chat's candidates (POST .../chats/{chat}/confirm). It
// reads the chat ledger and the reports' sessions; the confirmation itself
// is the collector's (Options.Confirm), as it runs the matcher's
// attribution.
package chatsapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/httperr"
	"github.com/messtrack/messtrack/collector/ledger"
	"github.com/messtrack/messtrack/collector/score"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/reports"
)

// Options are what the chat API needs from the server.
type Options struct {
	Ledger *ledger.Ledger
	// Reports gives a chat's sessions.
	Reports *reports.Store
	// Guard checks the site's API key; SiteOf is the site it let through.
	Guard  fiber.Handler
	SiteOf func(c *fiber.Ctx) *config.Site
	// Confirm attributes the site's unmatched chat to its candidate visit
	// (a visit ID), as an operator decided, and answers the chat's record
	// after it, or a client error (not a candidate, already attributed,
	// the visit expired). A hook on a confirmation wraps it.
	Confirm func(ctx context.Context, site, chat, visit string) (*Record, error)
	Log     *slog.Logger
}

// API answers the operators' chat endpoints.
type API struct{ opt Options }

// New builds the chat API.
func New(opt Options) *API { return &API{opt: opt} }

// Register adds the chat endpoints to r.
func (a *API) Register(r fiber.Router) {
	r.Get("/v1/sites/:site/chats", a.opt.Guard, a.handleListChats)
	r.Get("/v1/sites/:site/chats/:chat", a.opt.Guard, a.handleChat)
	r.Post("/v1/sites/:site/chats/:chat/confirm", a.opt.Guard, a.handleConfirm)
}

// Record is a chat's source record as GET /v1/sites/{site}/chats/{chat}
// answers it: the keys README.md documents, then what operators review.
type Record struct {
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
	// Tags are the operators' tags on the chat (PUT .../chats/{chat}/tags).
	Tags []string `json:"tags"`

	// The record's times as instants, for the dashboard; zero when unknown.
	FirstAt time.Time `json:"-"`
	ConvAt  time.Time `json:"-"`
	LastAt  time.Time `json:"-"`
}

// Record builds the site's chat's record, or a not-found error.
func (a *API) Record(ctx context.Context, site, chat string) (*Record, error) {
	sc, err := a.opt.Ledger.Load(ctx, site, chat)
	if err != nil {
		return nil, fmt.Errorf("chatsapi.Record: %w", err)
	}
	if sc.Record == nil {
		return nil, httperr.Fail(httperr.ErrNotFound, "no chat %q on this site", httperr.Clip(chat, 80))
	}
	raw, err := a.opt.Ledger.History(ctx, site, chat)
	if err != nil {
		return nil, fmt.Errorf("chatsapi.Record: %w", err)
	}
	cs := sc.Record
	rec := &Record{
		Chat: cs.Chat, Name: cs.Name, FirstMessageAt: ledger.Stamp(cs.First), Dialog: cs.Dialog,
		Method: cs.Method, Confidence: cs.Confidence, Source: cs.Source, Visitor: cs.Visitor,
		History:   make([]ledger.HistoryEntry, 0, len(raw)),
		Messenger: cs.Messenger, Phone: cs.Phone, Username: cs.Username, Language: cs.Language,
		Visit: cs.Visit, Confirmed: cs.Confirmed, ConversationAt: ledger.Stamp(cs.ConvAt),
		LastMessageAt: ledger.Stamp(sc.Last), Messages: sc.Msgs, Candidates: cs.Candidates,
		FirstAt: ledger.At(cs.First), ConvAt: ledger.At(cs.ConvAt), LastAt: ledger.At(sc.Last),
	}
	if rec.Candidates == nil {
		rec.Candidates = []score.Candidate{}
	}
	rec.Tags = append([]string{}, cs.Tags...)
	rec.OtherChats = []string{}
	if cs.VisitN != 0 {
		chats, err := a.opt.Ledger.VisitChats(ctx, site, cs.VisitN)
		if err != nil {
			return nil, fmt.Errorf("chatsapi.Record: %w", err)
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
			a.opt.Log.Warn("chat history entry unreadable", "site", site, "chat", chat, "err", err)
			continue
		}
		rec.History = append(rec.History, h)
	}
	if rec.Sessions, err = a.opt.Reports.ChatSessions(ctx, site, chat); err != nil {
		return nil, fmt.Errorf("chatsapi.Record: sessions: %w", err)
	}
	if rec.Sessions == nil {
		rec.Sessions = []reports.Session{} // the contract's "sessions" is a list, never null
	}
	return rec, nil
}

func (a *API) handleChat(c *fiber.Ctx) error {
	chat, err := httperr.ChatKey(c.Params("chat"))
	if err != nil {
		return err
	}
	rec, err := a.Record(c.UserContext(), a.opt.SiteOf(c).Name, chat)
	if err != nil {
		return err
	}
	return c.JSON(rec)
}

// --- listing ----------------------------------------------------------------

// Filter selects chats for the operators' list.
type Filter struct {
	// From and To bound the first message time: [From, To).
	From, To time.Time
	Method   string
	Channel  string
	// Campaign matches the source's utm_campaign, ad ID or ad title.
	Campaign string
	// Tag matches any of the source's UTM tags or the operators' tags.
	Tag       string
	Messenger string
	// Query is a case-insensitive substring of the name, phone, username,
	// chat key or visit ID (the code).
	Query  string
	Limit  int
	Cursor string
}

// Summary is one row of the chat list.
type Summary struct {
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

	// FirstAt is FirstMessageAt as an instant, for the dashboard.
	FirstAt time.Time `json:"-"`
}

// Page is a page of the chat list, newest first; Next is the cursor of
// the following page, "" at the end.
type Page struct {
	Chats []Summary `json:"chats"`
	Next  string    `json:"next"`
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

func (f *Filter) matches(cs *ledger.Record) bool {
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
		for _, tag := range append([]string{cs.Source.UTMSource, cs.Source.UTMMedium, cs.Source.UTMCampaign, cs.Source.UTMContent, cs.Source.UTMTerm}, cs.Tags...) {
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
		return listPos{}, httperr.Fail(httperr.ErrBadInput, "cursor %q is not one this API gave", httperr.Clip(cur, 40))
	}
	return listPos{Score: score, Member: string(member)}, nil
}

// List answers a page of the site's chats, newest first message first.
func (a *API) List(ctx context.Context, site string, f Filter) (*Page, error) {
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
	page := &Page{Chats: []Summary{}}
	scanned, count := 0, int64(listBatch)
	for scanned < listScanCap {
		top := maxScore
		if after != nil && (maxScore == "+inf" || after.Score < mustScore(maxScore)) {
			top = strconv.FormatInt(after.Score, 10)
		}
		zs, err := a.opt.Ledger.Index(ctx, site, top, minScore, count)
		if err != nil {
			return nil, fmt.Errorf("chatsapi.List: %w", err)
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
		recs, err := a.opt.Ledger.Records(ctx, site, chats)
		if err != nil {
			return nil, fmt.Errorf("chatsapi.List: %w", err)
		}
		for i, z := range fresh {
			after = &listPos{Score: z.Score, Member: z.Chat}
			scanned++
			r := recs[i]
			if r.Err != nil {
				a.opt.Log.Warn("chat record unreadable: left out of the list", "site", site, "chat", z.Chat, "err", r.Err)
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

func summarize(cs *ledger.Record, last int64) Summary {
	return Summary{
		Chat: cs.Chat, Name: cs.Name, Phone: cs.Phone, Messenger: cs.Messenger,
		FirstMessageAt: ledger.Stamp(cs.First), LastMessageAt: ledger.Stamp(last), Dialog: cs.Dialog,
		Method: cs.Method, Confidence: cs.Confidence, Confirmed: cs.Confirmed, Visit: cs.Visit,
		Channel: cs.Source.Channel, UTMCampaign: cs.Source.UTMCampaign, AdID: cs.Source.AdID,
		AdTitle: cs.Source.AdTitle, Candidates: len(cs.Candidates), FirstAt: ledger.At(cs.First),
	}
}

// parseDay reads a from/to query value: a date (YYYY-MM-DD, in the site's
// time zone) or an RFC 3339 time. A date as "to" means the end of that day.
func parseDay(st *config.Site, field, v string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseInLocation(time.DateOnly, v, st.Location); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, httperr.Fail(httperr.ErrBadInput, "%s %q is neither YYYY-MM-DD nor an RFC 3339 time", field, httperr.Clip(v, 40))
	}
	return t, nil
}

func (a *API) handleListChats(c *fiber.Ctx) error {
	st := a.opt.SiteOf(c)
	f := Filter{
		Method: c.Query("method"), Channel: c.Query("channel"), Campaign: c.Query("campaign"),
		Messenger: c.Query("messenger"), Query: c.Query("q"), Cursor: c.Query("cursor"), Tag: c.Query("tag"),
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
			return httperr.Fail(httperr.ErrBadInput, "limit %q is not a positive number", httperr.Clip(l, 20))
		}
	}
	switch f.Method {
	case "", reports.MethodID, reports.MethodReferral, reports.MethodDedicatedNumber, reports.MethodSendBack, reports.MethodHeuristic, reports.MethodNone:
	default:
		return httperr.Fail(httperr.ErrBadInput, "method %q is not one of id, referral, dedicated_number, send_back, heuristic, none", httperr.Clip(f.Method, 30))
	}
	page, err := a.List(c.UserContext(), st.Name, f)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

// confirmRequest is the body of POST .../chats/{chat}/confirm.
type confirmRequest struct {
	Visit string `json:"visit"`
}

func (a *API) handleConfirm(c *fiber.Ctx) error {
	chat, err := httperr.ChatKey(c.Params("chat"))
	if err != nil {
		return err
	}
	var in confirmRequest
	if err := httperr.DecodeJSON(c.Body(), 1<<10, &in); err != nil {
		return err
	}
	if in.Visit == "" {
		return httperr.Fail(httperr.ErrBadInput, "visit is required")
	}
	rec, err := a.opt.Confirm(c.UserContext(), a.opt.SiteOf(c).Name, chat, in.Visit)
	if err != nil {
		return err
	}
	return c.JSON(rec)
}
