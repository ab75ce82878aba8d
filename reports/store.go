package reports

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
)

// Store keeps attribution sessions and report aggregates in Redis and answers
// the report queries. It is safe for concurrent use.
type Store struct {
	rdb   redis.UniversalClient
	clock store.Clock
	cfg   *config.Config
}

// New returns a Store on rdb. clock decides "now" for session expiry shown in
// chat records, for the time a conversion-event choice takes effect and for
// default report ranges; cfg gives each site's window, time zone, currency
// and initial conversion event.
func New(rdb redis.UniversalClient, clock store.Clock, cfg *config.Config) *Store {
	if clock == nil {
		clock = store.SystemClock{}
	}
	return &Store{rdb: rdb, clock: clock, cfg: cfg}
}

// InvalidError is a fact or query that cannot be taken as it is; its Reason
// is meant for the client who sent it.
type InvalidError struct {
	Reason string
}

func (e *InvalidError) Error() string { return e.Reason }

func invalid(format string, args ...any) error {
	return &InvalidError{Reason: fmt.Sprintf(format, args...)}
}

// keepAfterWindow is how long a chat's sessions and the seen markers outlive
// the session window: long enough for late deliveries, short enough that
// Redis does not keep every chat forever.
const keepAfterWindow = 30 * 24 * time.Hour

// maxValue bounds an event's value so that thousandths stay exact in Lua's
// doubles and in the JSON the scripts store.
const maxValue = 1e9

// Unattributed is the member under which conversations without a source are
// counted in the channel, page and landing-page aggregates.
const Unattributed = "unattributed"

// NoPage is the member of attributed conversations that came without a page
// (a click-to-WhatsApp ad, a dedicated number).
const NoPage = "(no page)"

// siteConf returns the site's settings.
func (s *Store) siteConf(name string) (*config.Site, error) {
	st := s.cfg.Site(name)
	if st == nil {
		return nil, invalid("unknown site %q", clip(name, 64))
	}
	return st, nil
}

func window(st *config.Site) time.Duration {
	return time.Duration(st.SessionDays) * 24 * time.Hour
}

func ttlSeconds(st *config.Site) int64 {
	return int64((window(st) + keepAfterWindow) / time.Second)
}

// Day returns the site-local day of t, YYYY-MM-DD.
func Day(st *config.Site, t time.Time) string {
	return t.In(st.Location).Format(dateLayout)
}

// --- conversations -----------------------------------------------------------

// RecordConversation counts a conversation and, when it is attributed (Method
// other than "none"), opens a session for it, closing the chat's session open
// at that time without a conversion. A fact for a chat and time already
// recorded is the same conversation: replayed unchanged it counts once;
// changed (a heuristic guess revoked to none, a candidate confirmed) it
// replaces the counted one, moving its counts and its conversion. A fact with
// Retract set withdraws the conversation. Whether a conversation is the
// chat's first ("new") or not ("repeat") is decided here from the chat's
// conversations, whatever order they arrive in.
func (s *Store) RecordConversation(ctx context.Context, c Conversation) error {
	if err := s.RecordConversations(ctx, []Conversation{c}); err != nil {
		return err
	}
	return nil
}

// RecordConversations is RecordConversation for many facts in one round trip
// (imports, replays, the benchmark's million sessions). Facts are checked
// first: one bad fact stores nothing.
func (s *Store) RecordConversations(ctx context.Context, facts []Conversation) error {
	calls := make([]scriptCall, 0, len(facts))
	for i := range facts {
		call, err := s.conversationCall(&facts[i])
		if err != nil {
			if len(facts) > 1 {
				return fmt.Errorf("reports.RecordConversations: fact %d: %w", i+1, err)
			}
			return fmt.Errorf("reports.RecordConversation: %w", err)
		}
		calls = append(calls, call)
	}
	if _, err := s.runScripts(ctx, conversationScript, calls); err != nil {
		return fmt.Errorf("reports.RecordConversations: %w", err)
	}
	return nil
}

// scriptCall is one invocation of a Lua script.
type scriptCall struct {
	keys []string
	args []any
}

// dimension names of the aggregates (see store.ReportAgg).
const (
	dimAd      = "ad"
	dimChannel = "ch"
	dimPage    = "pg"
	dimLanding = "ld"
	dimDialog  = "dl"
)

// sep joins a channel and its source into one aggregate member; control
// characters are stripped from both, so it cannot occur inside either.
const sep = "\x1f"

func (s *Store) conversationCall(c *Conversation) (scriptCall, error) {
	st, err := s.siteConf(c.Site)
	if err != nil {
		return scriptCall{}, err
	}
	chat := cleanText(c.Chat, 256)
	if chat == "" {
		return scriptCall{}, invalid("the conversation has no chat")
	}
	if c.Time.IsZero() {
		return scriptCall{}, invalid("the conversation has no time")
	}
	method := strings.ToLower(strings.TrimSpace(c.Method))
	if method == "" && !c.Retract {
		return scriptCall{}, invalid("the conversation has no method (id, referral, dedicated_number, heuristic or none)")
	}
	ms := c.Time.UnixMilli()
	day := Day(st, c.Time)
	var ad, adType, adTitle string
	var pairs []any
	if method != "none" && !c.Retract {
		ad, adType, adTitle = adOf(c)
		channel := cleanText(c.Channel, 64)
		if channel == "" {
			channel = "(unknown)"
		}
		pairs = []any{
			dimChannel, channel + sep + sourceOf(c),
			dimPage, pageKey(c.Page),
			dimLanding, pageKey(c.Landing),
		}
		if ad != "" {
			pairs = append(pairs, dimAd, ad)
		}
	}
	retract := "0"
	if c.Retract {
		retract = "1"
	}
	seenID := chat + "@" + strconv.FormatInt(ms, 10)
	args := []any{
		store.ReportAggPrefix(st.Name), ms, day, method, window(st).Milliseconds(), ttlSeconds(st),
		st.ConversionEvent, ad, adType, adTitle, retract,
	}
	args = append(args, pairs...)
	return scriptCall{
		keys: []string{
			store.ReportChat(st.Name, chat), store.ReportSessionSeq(st.Name),
			store.ReportConversionEvents(st.Name), store.ReportAdInfo(st.Name),
			store.ReportSeen(st.Name, "u", seenID),
		},
		args: args,
	}, nil
}

// adOf returns the ad a conversation came from: the ad ID the matcher found
// (a click-to-WhatsApp source_id, a web campaign/content), or else the UTM
// campaign and content of the visit.
func adOf(c *Conversation) (id, typ, title string) {
	id = cleanText(c.AdID, 256)
	typ = strings.ToLower(cleanText(c.AdType, 16))
	title = cleanText(c.AdTitle, 256)
	if id == "" {
		campaign, content := cleanText(c.UTMCampaign, 128), cleanText(c.UTMContent, 128)
		if campaign == "" {
			return "", "", ""
		}
		id = campaign
		if content != "" {
			id += "/" + content
		}
		typ = "campaign"
		if title == "" {
			title = campaign
		}
	}
	if typ == "" {
		typ = "ad"
	}
	return id, typ, title
}

// sourceOf names the traffic source within a channel: the UTM source, the
// offline source, or the referrer's host.
func sourceOf(c *Conversation) string {
	if v := cleanText(c.UTMSource, 128); v != "" {
		return strings.ToLower(v)
	}
	if v := cleanText(c.Source, 128); v != "" {
		return v
	}
	if u, err := url.Parse(strings.TrimSpace(c.Referrer)); err == nil && u.Host != "" {
		return strings.ToLower(cleanText(u.Host, 128))
	}
	return ""
}

// pageKey reduces a page address to scheme, host and path: query strings
// carry UTM tags and click IDs that would split one page into thousands.
func pageKey(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return NoPage
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return cleanText(raw, 512)
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	return cleanText(strings.ToLower(u.Scheme)+"://"+strings.ToLower(u.Host)+p, 512)
}

// cleanText trims s, drops control characters (they would break CSV,
// terminals and the aggregate field syntax) and caps it at n bytes on a rune
// boundary.
func cleanText(s string, n int) string {
	s = strings.TrimSpace(s)
	if strings.IndexFunc(s, unicode.IsControl) >= 0 || !utf8.ValidString(s) {
		s = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) || r == utf8.RuneError {
				return -1
			}
			return r
		}, s)
	}
	if len(s) > n {
		s = s[:n]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}

// clip shortens a client-supplied string before an error echoes it.
func clip(s string, n int) string { return cleanText(s, n) }

// --- events --------------------------------------------------------------------

// EventResult says what a business event did.
type EventResult struct {
	// Converted is true when the event converted a session.
	Converted bool `json:"converted"`
	// Status is converted, converted_earlier (it happened before the
	// conversion already counted for the session and takes its place),
	// duplicate, no_conversion_event, other_category, no_session, expired or
	// already_converted.
	Status string `json:"status"`
	// Session is the ID of the session the event was judged against, if any.
	Session int64 `json:"session,omitempty"`
	// ConversionEvent is the conversion category in force at the event's time.
	ConversionEvent string `json:"conversion_event,omitempty"`
	// Reason explains in words why the event converted nothing.
	Reason string `json:"reason,omitempty"`
}

// categoryRE is what a conversion category may look like: a CRM stage or a
// help-desk tag, lowercased. ':' is excluded because categories are part of
// aggregate field names.
var categoryRE = regexp.MustCompile(`^[\p{L}\p{N}_. -]{1,64}$`)

// NormalizeCategory lowercases and trims a category and checks it.
func NormalizeCategory(c string) (string, error) {
	c = strings.ToLower(strings.TrimSpace(c))
	if !categoryRE.MatchString(c) {
		return "", invalid("category %q must be 1-64 letters, digits, spaces, '_', '.' or '-'", clip(c, 64))
	}
	return c, nil
}

// RecordEvent judges a business event: when its category is the conversion
// event in force at its time and the chat has a session open then, the
// session converts (counted on the session's start day). An event with an ID
// already seen counts once; an event without ID is identified by its chat,
// category, time and value.
func (s *Store) RecordEvent(ctx context.Context, e Event) (EventResult, error) {
	res, err := s.RecordEvents(ctx, []Event{e})
	if err != nil {
		return EventResult{}, err
	}
	return res[0], nil
}

// RecordEvents is RecordEvent for many events in one round trip, judged in
// order. Events are checked first: one bad event stores nothing.
func (s *Store) RecordEvents(ctx context.Context, events []Event) ([]EventResult, error) {
	calls := make([]scriptCall, 0, len(events))
	for i := range events {
		call, err := s.eventCall(&events[i])
		if err != nil {
			if len(events) > 1 {
				return nil, fmt.Errorf("reports.RecordEvents: event %d: %w", i+1, err)
			}
			return nil, fmt.Errorf("reports.RecordEvent: %w", err)
		}
		calls = append(calls, call)
	}
	replies, err := s.runScripts(ctx, eventScript, calls)
	if err != nil {
		return nil, fmt.Errorf("reports.RecordEvents: %w", err)
	}
	out := make([]EventResult, len(replies))
	for i, r := range replies {
		out[i], err = eventResult(r, events[i].Category)
		if err != nil {
			return nil, fmt.Errorf("reports.RecordEvents: %w", err)
		}
	}
	return out, nil
}

func (s *Store) eventCall(e *Event) (scriptCall, error) {
	st, err := s.siteConf(e.Site)
	if err != nil {
		return scriptCall{}, err
	}
	chat := cleanText(e.Chat, 256)
	if chat == "" {
		return scriptCall{}, invalid("the event has no chat")
	}
	cat, err := NormalizeCategory(e.Category)
	if err != nil {
		return scriptCall{}, err
	}
	e.Category = cat
	if e.Time.IsZero() {
		return scriptCall{}, invalid("the event has no time")
	}
	if math.IsNaN(e.Value) || math.IsInf(e.Value, 0) || math.Abs(e.Value) > maxValue {
		return scriptCall{}, invalid("value %v is outside ±%g", e.Value, float64(maxValue))
	}
	value := int64(math.Round(e.Value * 1000))
	ms := e.Time.UnixMilli()
	eventID := cleanText(e.ID, 128)
	id := eventID
	if id == "" {
		sum := sha256.Sum256([]byte(chat + "\x00" + cat + "\x00" + strconv.FormatInt(ms, 10) + "\x00" + strconv.FormatInt(value, 10)))
		id = "h" + hex.EncodeToString(sum[:12])
	} else {
		id = "i" + id
	}
	return scriptCall{
		keys: []string{
			store.ReportChat(st.Name, chat), store.ReportConversionEvents(st.Name),
			store.ReportSeen(st.Name, "e", id),
		},
		args: []any{
			store.ReportAggPrefix(st.Name), ms, cat, value, eventID, window(st).Milliseconds(),
			st.ConversionEvent, ttlSeconds(st), id, ttlSeconds(st),
		},
	}, nil
}

// eventReasons explains each status that converts nothing.
var eventReasons = map[string]string{
	"duplicate":           "an event with this ID (or this chat, category, time and value) was already counted",
	"no_conversion_event": "no conversion event was chosen yet at the event's time; events before the first choice never count",
	"other_category":      "the category is not the conversion event in force at the event's time",
	"no_session":          "the chat has no attributed session started at or before the event's time",
	"expired":             "the chat's last session started before the event had expired (the session window passed)",
	"already_converted":   "the chat's session open at that time has already converted; a session converts once",
}

func eventResult(reply any, category string) (EventResult, error) {
	arr, ok := reply.([]any)
	if !ok || len(arr) != 3 {
		return EventResult{}, fmt.Errorf("unexpected event script reply %v", reply)
	}
	status, _ := arr[0].(string)
	session, _ := arr[1].(int64)
	inforce, _ := arr[2].(string)
	r := EventResult{Status: status, Session: session, ConversionEvent: inforce}
	switch status {
	case "converted", "converted_earlier":
		r.Converted = true
	default:
		r.Reason = eventReasons[status]
		if status == "other_category" {
			r.Reason = fmt.Sprintf("%q is not the conversion event in force at the event's time (%q)", category, inforce)
		}
	}
	return r, nil
}

// runScripts runs one script for each call: a single call with EVALSHA and
// its EVAL fallback, many in one pipeline after loading the script once.
func (s *Store) runScripts(ctx context.Context, script *redis.Script, calls []scriptCall) ([]any, error) {
	if len(calls) == 1 {
		v, err := script.Run(ctx, s.rdb, calls[0].keys, calls[0].args...).Result()
		if err != nil {
			return nil, fmt.Errorf("run script: %w", err)
		}
		return []any{v}, nil
	}
	if len(calls) == 0 {
		return nil, nil
	}
	if err := script.Load(ctx, s.rdb).Err(); err != nil {
		return nil, fmt.Errorf("load script: %w", err)
	}
	out := make([]any, 0, len(calls))
	const chunk = 2000
	for start := 0; start < len(calls); start += chunk {
		end := min(start+chunk, len(calls))
		cmds := make([]*redis.Cmd, 0, end-start)
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, c := range calls[start:end] {
				cmds = append(cmds, script.EvalSha(ctx, p, c.keys, c.args...))
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("run scripts: %w", err)
		}
		for _, c := range cmds {
			out = append(out, c.Val())
		}
	}
	return out, nil
}

// --- conversion event ------------------------------------------------------------

// ConversionChoice is one entry of a site's conversion-event history: the
// category that counts as a conversion from Since on. Since is null for the
// config's first choice, which is in force for all of the site's history.
type ConversionChoice struct {
	Category string     `json:"category"`
	Since    *time.Time `json:"since"`
}

// allHistory is the score of the first choice: before any fact.
const allHistory = -1e15

// choiceScript appends a new choice unless it is already the one in force,
// first recording the configured conversion event as the first choice when
// the history is empty.
//
// KEYS[1] conversion-event history (ReportConversionEvents).
// ARGV[1] configured category, ARGV[2] now (unix ms), ARGV[3] new category.
// A new choice takes effect at now, or one millisecond after the previous
// choice if the clock has not moved past it, so the order stays strict.
var choiceScript = redis.NewScript(luaPrelude + `
local hist, now = KEYS[1], tonumber(ARGV[2])
ensureChoice(hist, ARGV[1])
local last = redis.call('ZREVRANGE', hist, 0, 0, 'WITHSCORES')
if last[1] then
  local cat = string.sub(last[1], string.find(last[1], ':', 1, true) + 1)
  if cat == ARGV[3] then return 0 end
  if now <= tonumber(last[2]) then now = tonumber(last[2]) + 1 end
end
redis.call('ZADD', hist, now, string.format('%d', now) .. ':' .. ARGV[3])
return 1
`)

// configChoiceScript applies the config's conversion_event at a start.
//
// KEYS[1] conversion-event history (ReportConversionEvents), KEYS[2] the
// category the config named at the last start (ReportConversionConfig).
// ARGV[1] configured category ("" for none), ARGV[2] now (unix ms).
// A site never started before takes the config's category for all of its
// history. History written by an earlier version, which put the config's
// first choice at the moment it first saw the site, has that choice moved to
// the beginning. A config naming another category than the last start
// chooses it from now on, as an operator's change does; a config that no
// longer names one leaves the choice in force. Returns 1 when the history
// changed.
var configChoiceScript = redis.NewScript(luaPrelude + `
local hist, cfg, now = KEYS[1], ARGV[1], tonumber(ARGV[2])
local before = redis.call('GET', KEYS[2])
redis.call('SET', KEYS[2], cfg)
if not before then
  local first = redis.call('ZRANGE', hist, 0, 0, 'WITHSCORES')
  if not first[1] then
    ensureChoice(hist, cfg)
    return 1
  end
  local cat = string.sub(first[1], string.find(first[1], ':', 1, true) + 1)
  if cat == cfg and tonumber(first[2]) > -1000000000000000 then
    redis.call('ZREM', hist, first[1])
    ensureChoice(hist, '')
    redis.call('ZADD', hist, '-1000000000000000', '0:' .. cfg)
    return 1
  end
  return 0
end
if before == cfg or cfg == '' then return 0 end
local last = redis.call('ZREVRANGE', hist, 0, 0, 'WITHSCORES')
if last[1] then
  local cat = string.sub(last[1], string.find(last[1], ':', 1, true) + 1)
  if cat == cfg then return 0 end
  if now <= tonumber(last[2]) then now = tonumber(last[2]) + 1 end
end
redis.call('ZADD', hist, now, string.format('%d', now) .. ':' .. cfg)
return 1
`)

// ApplyConfiguredConversionEvents records each site's configured
// conversion_event: for all history on a site's first start, from now on
// when the config names another category than at the previous start. The
// collector calls it at start.
func (s *Store) ApplyConfiguredConversionEvents(ctx context.Context) error {
	now := s.clock.Now().UnixMilli()
	for _, name := range s.cfg.SiteNames() {
		st := s.cfg.Sites[name]
		err := configChoiceScript.Run(ctx, s.rdb,
			[]string{store.ReportConversionEvents(st.Name), store.ReportConversionConfig(st.Name)},
			st.ConversionEvent, now).Err()
		if err != nil {
			return fmt.Errorf("reports.ApplyConfiguredConversionEvents %s: %w", st.Name, err)
		}
	}
	return nil
}

// SetConversionEvent makes category the site's conversion event from now
// on. Conversions counted under the previous category stay.
func (s *Store) SetConversionEvent(ctx context.Context, site, category string) error {
	st, err := s.siteConf(site)
	if err != nil {
		return fmt.Errorf("reports.SetConversionEvent: %w", err)
	}
	cat, err := NormalizeCategory(category)
	if err != nil {
		return fmt.Errorf("reports.SetConversionEvent: %w", err)
	}
	err = choiceScript.Run(ctx, s.rdb, []string{store.ReportConversionEvents(st.Name)},
		st.ConversionEvent, s.clock.Now().UnixMilli(), cat).Err()
	if err != nil {
		return fmt.Errorf("reports.SetConversionEvent: %w", err)
	}
	return nil
}

// ConversionEvents returns the site's conversion-event history, oldest
// first.
func (s *Store) ConversionEvents(ctx context.Context, site string) ([]ConversionChoice, error) {
	st, err := s.siteConf(site)
	if err != nil {
		return nil, fmt.Errorf("reports.ConversionEvents: %w", err)
	}
	return s.conversionHistory(ctx, st)
}

// conversionHistory reads the history without recording anything: reports
// must not change what they report on. A site whose history is still empty
// shows the configured category, which is what its first fact will record.
func (s *Store) conversionHistory(ctx context.Context, st *config.Site) ([]ConversionChoice, error) {
	zs, err := s.rdb.ZRangeWithScores(ctx, store.ReportConversionEvents(st.Name), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("read conversion events: %w", err)
	}
	if len(zs) == 0 && st.ConversionEvent != "" {
		return []ConversionChoice{{Category: st.ConversionEvent}}, nil
	}
	out := make([]ConversionChoice, 0, len(zs))
	for _, z := range zs {
		m, _ := z.Member.(string)
		_, cat, _ := strings.Cut(m, ":")
		c := ConversionChoice{Category: cat}
		if z.Score > allHistory {
			since := time.UnixMilli(int64(z.Score)).In(st.Location)
			c.Since = &since
		}
		out = append(out, c)
	}
	return out, nil
}

// --- chat sessions ---------------------------------------------------------------

// Session is one attribution session of a chat, as the chat record shows it.
type Session struct {
	ID        int64     `json:"id"`
	StartedAt time.Time `json:"started_at"`
	// Day is the site-local day the session started, the day its
	// conversion counts on.
	Day     string `json:"day"`
	Method  string `json:"method"`
	AdID    string `json:"ad_id,omitempty"`
	Channel string `json:"channel"`
	Source  string `json:"source,omitempty"`
	Page    string `json:"page"`
	Landing string `json:"landing_page"`
	Dialog  string `json:"dialog"`
	// Status is open, converted, replaced (a new attributed conversation
	// closed it) or expired (the window passed).
	Status string `json:"status"`
	// ExpiresAt is when the window ends: an event at or after it no longer
	// converts the session.
	ExpiresAt time.Time `json:"expires_at"`
	// ClosedAt is when the session closed; null while it is open.
	ClosedAt   *time.Time         `json:"closed_at"`
	Conversion *SessionConversion `json:"conversion"`
}

// SessionConversion is the event that converted a session.
type SessionConversion struct {
	Category string    `json:"category"`
	At       time.Time `json:"at"`
	Value    float64   `json:"value"`
	EventID  string    `json:"event_id,omitempty"`
}

// snapshot is what a conversation adds to the aggregates (see scripts.go).
type snapshot struct {
	D string            `json:"d"`
	G map[string]string `json:"g"`
	X int64             `json:"x"`
	K string            `json:"k"`
	V int64             `json:"v"`
	E string            `json:"e"`
}

// storedConversation is one conversation of a chat's state.
type storedConversation struct {
	I int64             `json:"i"`
	S int64             `json:"s"`
	D string            `json:"d"`
	M string            `json:"m"`
	A map[string]string `json:"a"`
	N *snapshot         `json:"n"`
}

// legacySession is a session as earlier versions stored it.
type legacySession struct {
	I int64             `json:"i"`
	S int64             `json:"s"`
	D string            `json:"d"`
	M string            `json:"m"`
	G map[string]string `json:"g"`
	X int64             `json:"x"`
	K string            `json:"k"`
	V int64             `json:"v"`
	E string            `json:"e"`
}

// decodeConversations parses a chat's stored state into its conversations,
// oldest first. cjson writes an empty Lua table as {}, never as an empty
// array, so both read as none; a JSON array is an earlier version's
// sessions.
func decodeConversations(raw string) ([]storedConversation, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || raw == "{}" {
		return nil, nil
	}
	if raw[0] == '[' {
		var list []legacySession
		if err := json.Unmarshal([]byte(raw), &list); err != nil {
			return nil, fmt.Errorf("decode sessions: %w", err)
		}
		out := make([]storedConversation, 0, len(list))
		for _, l := range list {
			out = append(out, storedConversation{I: l.I, S: l.S, D: l.D, M: l.M,
				N: &snapshot{D: l.D, G: l.G, X: l.X, K: l.K, V: l.V, E: l.E}})
		}
		return out, nil
	}
	var st struct {
		C json.RawMessage `json:"c"`
	}
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		return nil, fmt.Errorf("decode chat state: %w", err)
	}
	if len(st.C) == 0 || string(st.C) == "{}" {
		return nil, nil
	}
	var out []storedConversation
	if err := json.Unmarshal(st.C, &out); err != nil {
		return nil, fmt.Errorf("decode chat conversations: %w", err)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].S < out[j].S })
	return out, nil
}

// ChatSessions returns a chat's sessions, oldest first, with their status as
// of now.
func (s *Store) ChatSessions(ctx context.Context, site, chat string) ([]Session, error) {
	st, err := s.siteConf(site)
	if err != nil {
		return nil, fmt.Errorf("reports.ChatSessions: %w", err)
	}
	raw, err := s.rdb.Get(ctx, store.ReportChat(st.Name, cleanText(chat, 256))).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("reports.ChatSessions: %w", err)
	}
	convs, err := decodeConversations(raw)
	if err != nil {
		return nil, fmt.Errorf("reports.ChatSessions: %w", err)
	}
	var list []storedConversation
	for _, c := range convs {
		if c.M != "none" && c.N != nil {
			list = append(list, c)
		}
	}
	now := s.clock.Now()
	win := window(st)
	out := make([]Session, 0, len(list))
	for i, ss := range list {
		start := time.UnixMilli(ss.S).In(st.Location)
		expires := start.Add(win)
		g := ss.N.G
		ch, src, _ := strings.Cut(g[dimChannel], sep)
		sess := Session{
			ID: ss.I, StartedAt: start, Day: ss.D, Method: ss.M, AdID: g[dimAd],
			Channel: ch, Source: src, Page: g[dimPage], Landing: g[dimLanding], Dialog: g[dimDialog],
			ExpiresAt: expires,
		}
		switch {
		case ss.N.X > 0:
			at := time.UnixMilli(ss.N.X).In(st.Location)
			sess.Status, sess.ClosedAt = "converted", &at
			sess.Conversion = &SessionConversion{Category: ss.N.K, At: at, Value: float64(ss.N.V) / 1000, EventID: ss.N.E}
		case i+1 < len(list) && list[i+1].S < ss.S+win.Milliseconds():
			at := time.UnixMilli(list[i+1].S).In(st.Location)
			sess.Status, sess.ClosedAt = "replaced", &at
		case !now.Before(expires):
			sess.Status, sess.ClosedAt = "expired", &expires
		default:
			sess.Status = "open"
		}
		out = append(out, sess)
	}
	return out, nil
}

// sortedMembers returns a map's keys in order, for deterministic output.
func sortedMembers[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
