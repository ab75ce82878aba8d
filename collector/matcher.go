package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store"
)

// inbound is one message from any messenger, in the form the matcher takes.
// The WhatsApp, Telegram and generic handlers each build it from their own
// payload.
type inbound struct {
	// Messenger is whatsapp, telegram, or the generic channel's name.
	Messenger string
	// Chat is the chat key ("whatsapp:16505551234", "telegram:1111111").
	Chat string
	// Phone is the sender's number in digits, when the platform gives it.
	Phone string
	// Country is a country hint when there is no phone: a WhatsApp
	// business-scoped user ID starts with the user's country code.
	Country  string
	Name     string
	Username string
	// Target is the chat target written to, in the click index's form
	// ("whatsapp:<digits>", "telegram:<bot or user>"); "" when unknown.
	Target string
	// Text is the message text or caption; it may hold a code.
	Text string
	// Start is the Telegram /start payload; HasStart tells a bare /start
	// from plain text.
	Start    string
	HasStart bool
	// Time is the platform's timestamp of the message, or the time it was
	// received when the platform's is missing or in the future
	// (messageTime).
	Time time.Time
	// PlatformTime is the platform's timestamp when Time is not it.
	PlatformTime time.Time
	// MessageID makes a redelivered message count once; "" when the
	// source gives none (the generic API).
	MessageID string
	// Ref is how the platform's later notices (reactions, edits,
	// deletions) name this message; "" when it is MessageID.
	Ref string
	// Language is the Telegram user's language_code.
	Language string
	Referral *adReferral
}

// adReferral is the click-to-WhatsApp ad a message came from.
type adReferral struct {
	SourceURL  string `json:"source_url,omitempty"`
	SourceID   string `json:"source_id,omitempty"`
	SourceType string `json:"source_type,omitempty"`
	Headline   string `json:"headline,omitempty"`
	Body       string `json:"body,omitempty"`
	MediaType  string `json:"media_type,omitempty"`
	CtwaClid   string `json:"ctwa_clid,omitempty"`
}

// conversation is the attribution of a conversation's first message.
type conversation struct {
	Time       time.Time
	Method     string
	Confidence float64
	Visit      *visit.Visit
	// Click is the visit's last chat click, for the page it started from.
	Click    *clickInfo
	Referral *adReferral
	Source   *config.Source
	// Candidates are kept for operators' review when the heuristic did not
	// decide.
	Candidates []candidate
	Confirmed  bool
}

// foundCode is a live visit found through a code in a message.
type foundCode struct {
	Visit *visit.Visit
	// Mine is set when the visit's code already started a conversation of
	// this chat.
	Mine bool
}

// findCode returns the first code in the message that decodes to a live
// visit of this site, or nil. The start payload comes first: it is what the
// link carried, whatever the person typed. A visit other chats matched
// counts as well: one page view can start chats in two messengers or from
// two phones, and each chat that sends the code is matched to it.
func (s *Server) findCode(ctx context.Context, st *site, in *inbound, starts []convStart) (*foundCode, error) {
	var numbers []uint64
	if in.HasStart && in.Start != "" {
		if n, err := st.codec.ParseStart(in.Start); err == nil {
			numbers = append(numbers, n)
		}
	}
	for _, f := range st.codec.Find(in.Text) {
		numbers = append(numbers, f.N)
	}
	for _, n := range numbers {
		v, err := s.loadVisit(ctx, st, n)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("findCode: %w", err)
		}
		return &foundCode{Visit: v, Mine: startOfVisit(starts, n) != nil}, nil
	}
	return nil, nil
}

// match attributes the first message of a chat that carries no live code:
// a click-to-WhatsApp referral, then a dedicated number, then the
// time-and-geo heuristic.
func (s *Server) match(ctx context.Context, st *site, in *inbound) (*conversation, error) {
	conv := &conversation{Time: in.Time, Method: reports.MethodNone}
	if r := in.Referral; validReferral(r) {
		conv.Method, conv.Confidence, conv.Referral = reports.MethodReferral, 1, r
		return conv, nil
	}
	if src := st.dedicatedSource(in.Target); src != nil {
		conv.Method, conv.Confidence, conv.Source = reports.MethodDedicatedNumber, 1, src
		return conv, nil
	}
	cands, err := s.candidates(ctx, st, in)
	if err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	conv.Candidates = cands
	best, ok := decide(cands)
	if !ok {
		return conv, nil
	}
	conv.Method, conv.Confidence, conv.Visit = reports.MethodHeuristic, best.Confidence, best.visit
	conv.Click, err = s.visitClick(ctx, st, best.visit.N)
	if err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	return conv, nil
}

// dedicatedSource returns the source whose dedicated number is the WhatsApp
// or generic target, or nil.
func (st *site) dedicatedSource(target string) *config.Source {
	kind, id, ok := strings.Cut(target, ":")
	if !ok || id == "" || kind == "telegram" {
		return nil
	}
	for _, name := range sortedSourceNames(st.cfg.Sources) {
		if src := st.cfg.Sources[name]; src.DedicatedNumber == id {
			return src
		}
	}
	return nil
}

func sortedSourceNames(m map[string]*config.Source) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// visitClick returns the visit's last chat click, or nil.
func (s *Server) visitClick(ctx context.Context, st *site, n uint64) (*clickInfo, error) {
	b, err := s.rdb.Get(ctx, store.VisitClick(st.cfg.Name, n)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("visitClick: %w", err)
	}
	ci := &clickInfo{}
	if err := json.Unmarshal(b, ci); err != nil {
		// A broken click record loses only the page, not the match.
		s.log.Warn("visit click record unreadable", "site", st.cfg.Name, "err", err)
		return nil, nil
	}
	return ci, nil
}

// --- the time-and-geo heuristic ---------------------------------------------

// candidate is a visit that clicked the chat target shortly before a
// message without a code, with its score.
type candidate struct {
	// Visit is the visit ID.
	Visit   string    `json:"visit"`
	ClickAt time.Time `json:"click_at"`
	// Gap is the seconds from click to message.
	Gap float64 `json:"gap_seconds"`
	// Weight is the candidate's unnormalised likelihood; Confidence its
	// share of all candidates' and the background's weight.
	Weight     float64  `json:"weight"`
	Confidence float64  `json:"confidence"`
	Reasons    []string `json:"reasons,omitempty"`

	visit *visit.Visit
}

// Heuristic parameters. A candidate's weight is the time weight of its
// click-to-message gap times a factor per signal (country, time zone,
// language); its confidence is its weight over the sum of all candidates'
// weights plus the background's.
const (
	// Most people send the prefilled message within a minute of the click;
	// some first type or edit for several minutes.
	gapFast     = 60 * time.Second
	gapSlow     = 10 * time.Minute
	gapFastPart = 0.75
	// clickSkew lets a click stamped a moment after the message's
	// whole-second platform timestamp still count.
	clickSkew = 2 * time.Second

	countryMatch    = 3.0
	countryMismatch = 0.15
	zoneMatch       = 1.5
	zoneMismatch    = 0.7
	langMatch       = 1.5
	langMismatch    = 0.5

	// background is the weight of "someone who clicked nothing wrote":
	// people who saved the number or got it from a friend. It equals a
	// candidate with no geo evidence whose click was about a minute and a
	// half before the message.
	background = 0.4
	// minConfidence and minLead are what the best candidate needs to be
	// taken: a share of at least 70% and three times the next one's weight.
	// The simulation test (matcher_simulation_test.go) measures what they
	// give: above 90% precision up to 12 clicks per hour on one number.
	minConfidence = 0.7
	minLead       = 3
	// maxCandidates bounds the work for one message on a very busy number.
	maxCandidates = 200
)

// messageSignals is what the message tells about its writer beyond time.
type messageSignals struct {
	Country  string
	Zones    []string
	Language string
}

// signalsOf reads the phone's country and time zones and the language.
func signalsOf(in *inbound) messageSignals {
	sig := messageSignals{Country: in.Country, Language: primaryLanguage(in.Language)}
	if in.Phone == "" {
		return sig
	}
	num, err := phonenumbers.Parse("+"+in.Phone, "")
	if err != nil {
		return sig
	}
	if rc := phonenumbers.GetRegionCodeForNumber(num); rc != "" && rc != "ZZ" {
		sig.Country = rc
	}
	zones, err := phonenumbers.GetTimezonesForNumber(num)
	if err == nil && !slices.Contains(zones, phonenumbers.UNKNOWN_TIMEZONE) {
		sig.Zones = zones
	}
	return sig
}

// primaryLanguage is the lower-case primary subtag of a language tag.
func primaryLanguage(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	return tag
}

// candidates loads the visits that clicked the message's target in the
// match window before it, leaves out visits already matched, and scores
// them.
func (s *Server) candidates(ctx context.Context, st *site, in *inbound) ([]candidate, error) {
	if in.Target == "" {
		return nil, nil
	}
	clicks, err := s.recentClicks(ctx, st, in.Target, in.Time.Add(-st.matchWindow()), in.Time.Add(clickSkew))
	if err != nil {
		return nil, fmt.Errorf("candidates: %w", err)
	}
	if len(clicks) > maxCandidates {
		clicks = clicks[:maxCandidates]
	}
	if len(clicks) == 0 {
		return nil, nil
	}
	pipe := s.rdb.Pipeline()
	visits := make([]*redis.StringCmd, len(clicks))
	held := make([]*redis.IntCmd, len(clicks))
	for i, c := range clicks {
		visits[i] = pipe.Get(ctx, store.Visit(st.cfg.Name, c.N))
		held[i] = pipe.Exists(ctx, store.VisitMatched(st.cfg.Name, c.N))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("candidates: load: %w", err)
	}
	sig := signalsOf(in)
	out := make([]candidate, 0, len(clicks))
	for i, c := range clicks {
		if held[i].Val() > 0 {
			continue
		}
		b, err := visits[i].Bytes()
		if err != nil {
			continue // expired since the click
		}
		v, err := visit.Decode(c.N, b)
		if err != nil {
			s.log.Warn("candidate visit unreadable", "site", st.cfg.Name, "err", err)
			continue
		}
		cand := scoreCandidate(sig, v, in.Time.Sub(c.At), in.Time)
		cand.Visit, cand.ClickAt = st.codec.VisitID(c.N), c.At
		out = append(out, cand)
	}
	return normalize(out), nil
}

// scoreCandidate weighs one visit: how likely its visitor is to have sent
// this message, relative to the others.
func scoreCandidate(sig messageSignals, v *visit.Visit, gap time.Duration, at time.Time) candidate {
	gap = max(gap, 0)
	c := candidate{visit: v, Gap: math.Round(gap.Seconds()*10) / 10}
	w := timeWeight(gap)
	c.Reasons = append(c.Reasons, fmt.Sprintf("clicked %s before", gap.Round(time.Second)))
	if sig.Country != "" && v.Country != "" {
		if strings.EqualFold(sig.Country, v.Country) {
			w *= countryMatch
			c.Reasons = append(c.Reasons, "phone country "+sig.Country+" = visit country")
			if zone := visitZone(v); len(sig.Zones) > 0 && zone != "" {
				if sameOffset(sig.Zones, zone, at) {
					w *= zoneMatch
					c.Reasons = append(c.Reasons, "phone time zone = "+zone)
				} else {
					w *= zoneMismatch
					c.Reasons = append(c.Reasons, "phone time zone differs from "+zone)
				}
			}
		} else {
			w *= countryMismatch
			c.Reasons = append(c.Reasons, "phone country "+sig.Country+" != visit country "+v.Country)
		}
	}
	if lang := primaryLanguage(v.Language); sig.Language != "" && lang != "" {
		if lang == sig.Language {
			w *= langMatch
			c.Reasons = append(c.Reasons, "language "+lang+" matches")
		} else {
			w *= langMismatch
			c.Reasons = append(c.Reasons, "language "+sig.Language+" != browser "+lang)
		}
	}
	c.Weight = w
	return c
}

// sameOffset tells whether zone keeps the same UTC offset at t as one of
// zones. Offsets rather than names, because the phone data and browsers
// name zones differently (Asia/Calcutta, Asia/Kolkata) and a city zone of
// the same offset (America/Detroit for a New York number) is no evidence
// against the visitor.
func sameOffset(zones []string, zone string, t time.Time) bool {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return false
	}
	_, want := t.In(loc).Zone()
	for _, z := range zones {
		if l, err := time.LoadLocation(z); err == nil {
			if _, off := t.In(l).Zone(); off == want {
				return true
			}
		}
	}
	return false
}

// visitZone is the visit's browser time zone, else its IP's.
func visitZone(v *visit.Visit) string {
	if v.TimeZone != "" {
		return v.TimeZone
	}
	return v.GeoTimeZone
}

// timeWeight is the chance density of writing gap after the click, scaled
// to 1 at gap 0: a fast and a slow exponential.
func timeWeight(gap time.Duration) float64 {
	return gapFastPart*math.Exp(-gap.Seconds()/gapFast.Seconds()) +
		(1-gapFastPart)*math.Exp(-gap.Seconds()/gapSlow.Seconds())
}

// normalize merges visits of the same visitor (one person who opened the
// site twice is one candidate, not two rivals: the one with the higher
// weight stands for them), computes each candidate's confidence and sorts
// them best first.
func normalize(cands []candidate) []candidate {
	byVisitor := map[string]int{}
	out := cands[:0]
	for _, c := range cands {
		vid := c.visit.VisitorID
		if vid == "" {
			out = append(out, c)
			continue
		}
		if i, ok := byVisitor[vid]; ok {
			if c.Weight > out[i].Weight {
				c.Reasons = append(c.Reasons, "same visitor as "+out[i].Visit)
				out[i] = c
			}
			continue
		}
		byVisitor[vid] = len(out)
		out = append(out, c)
	}
	total := background
	for _, c := range out {
		total += c.Weight
	}
	for i := range out {
		out[i].Weight = math.Round(out[i].Weight*1e4) / 1e4
		out[i].Confidence = math.Round(out[i].Weight/total*1e3) / 1e3
	}
	slices.SortStableFunc(out, func(a, b candidate) int {
		switch {
		case a.Weight > b.Weight:
			return -1
		case a.Weight < b.Weight:
			return 1
		}
		return strings.Compare(a.Visit, b.Visit)
	})
	return out
}

// decide takes the best candidate when it is both likely and clearly ahead
// of the next.
func decide(cands []candidate) (candidate, bool) {
	if len(cands) == 0 {
		return candidate{}, false
	}
	best := cands[0]
	if best.Confidence < minConfidence {
		return candidate{}, false
	}
	if len(cands) > 1 && best.Weight < minLead*cands[1].Weight {
		return candidate{}, false
	}
	return best, true
}
