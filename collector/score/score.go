// Package score is the time-and-geo heuristic: how likely each visit that
// clicked a chat link shortly before a message without a code is to have
// sent it, and whether the best one is clear enough to be taken. It is pure:
// the caller loads the clicks and visits.
package score

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/messtrack/messtrack/collector/visit"
)

// Candidate is a visit that clicked the chat target shortly before a
// message without a code, with its score.
type Candidate struct {
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

	// Of is the visit scored.
	Of *visit.Visit `json:"-"`
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
	// ClickSkew lets a click stamped a moment after the message's
	// whole-second platform timestamp still count.
	ClickSkew = 2 * time.Second

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
	// MinConfidence and minLead are what the best candidate needs to be
	// taken: a share of at least 70% and three times the next one's weight.
	// The simulation test (the collector's matcher simulation test) measures what they
	// give: above 90% precision up to 12 clicks per hour on one number.
	MinConfidence = 0.7
	minLead       = 3
	// MaxCandidates bounds the work for one message on a very busy number.
	MaxCandidates = 200
)

// Signals is what the message tells about its writer beyond time.
type Signals struct {
	Country  string
	Zones    []string
	Language string
}

// SignalsOf reads the phone's country and time zones and the language:
// phone is the sender's number in digits, or "" with country as the hint.
func SignalsOf(country, phone, language string) Signals {
	sig := Signals{Country: country, Language: primaryLanguage(language)}
	if phone == "" {
		return sig
	}
	num, err := phonenumbers.Parse("+"+phone, "")
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

// Score weighs one visit: how likely its visitor is to have sent
// this message, relative to the others.
func Score(sig Signals, v *visit.Visit, gap time.Duration, at time.Time) Candidate {
	gap = max(gap, 0)
	c := Candidate{Of: v, Gap: math.Round(gap.Seconds()*10) / 10}
	w := timeWeight(gap)
	c.Reasons = append(c.Reasons, fmt.Sprintf("clicked %s before", gap.Round(time.Second)))
	if sig.Country != "" && v.Country != "" {
		if strings.EqualFold(sig.Country, v.Country) {
			w *= countryMatch
			c.Reasons = append(c.Reasons, "phone country "+sig.Country+" = visit country")
			if zone := visitZone(v); len(sig.Zones) > 0 && zone != "" {
				if SameOffset(sig.Zones, zone, at) {
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

// SameOffset tells whether zone keeps the same UTC offset at t as one of
// zones. Offsets rather than names, because the phone data and browsers
// name zones differently (Asia/Calcutta, Asia/Kolkata) and a city zone of
// the same offset (America/Detroit for a New York number) is no evidence
// against the visitor.
func SameOffset(zones []string, zone string, t time.Time) bool {
	loc, err := loadZone(zone)
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

// loadZone reads an IANA zone name or a fixed offset as the collector
// stores a browser's ("UTC+03:00", "UTC-09:30").
func loadZone(name string) (*time.Location, error) {
	if off, ok := strings.CutPrefix(name, "UTC"); ok && len(off) == 6 && off[3] == ':' && (off[0] == '+' || off[0] == '-') {
		h, errH := strconv.Atoi(off[1:3])
		m, errM := strconv.Atoi(off[4:])
		if errH != nil || errM != nil {
			return nil, fmt.Errorf("loadZone %q: bad offset", name)
		}
		secs := (h*60 + m) * 60
		if off[0] == '-' {
			secs = -secs
		}
		return time.FixedZone(name, secs), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("loadZone: %w", err)
	}
	return loc, nil
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

// Normalize merges visits of the same visitor (one person who opened the
// site twice is one candidate, not two rivals: the one with the higher
// weight stands for them), computes each candidate's confidence and sorts
// them best first.
func Normalize(cands []Candidate) []Candidate {
	byVisitor := map[string]int{}
	out := cands[:0]
	for _, c := range cands {
		vid := c.Of.VisitorID
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
	slices.SortStableFunc(out, func(a, b Candidate) int {
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

// Decide takes the best candidate when it is both likely and clearly ahead
// of the next.
func Decide(cands []Candidate) (Candidate, bool) {
	if len(cands) == 0 {
		return Candidate{}, false
	}
	best := cands[0]
	if best.Confidence < MinConfidence {
		return Candidate{}, false
	}
	if len(cands) > 1 && best.Weight < minLead*cands[1].Weight {
		return Candidate{}, false
	}
	return best, true
}
