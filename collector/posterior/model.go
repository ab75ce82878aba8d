// Package posterior is the learned time-and-geo matcher: a generative model
// of how a site's visitors write after clicking a chat link, fitted per site
// and messenger from the site's own labelled chats, that gives each
// candidate click of a code-less first message, and "never clicked", a
// calibrated probability.
//
// The model. Every click on a target (a WhatsApp number, a Telegram bot)
// may lead to a first message without a code; the chance that it arrives g
// seconds after the click is proportional to f(g), the click-to-message
// delay density learned from id matches. People who never clicked (or
// clicked long before the match window) write too, at a rate proportional
// to the target's click rate at that hour. What the message says about its
// writer (phone country, phone time zone, language) agrees or not with what
// each visit says (IP country, UTC offset, browser language) with rates
// learned separately for "same person" and "another person"; a visitor with
// other visits is more or less likely to be the writer, as learned. The
// posterior of click i is then proportional to
//
//	f(gap_i) × LR(evidence_i)
//
// and that of "never clicked" to q × clicks per second on the target, where
// q is the never-clicked ratio estimated by EM over code-less messages.
//
// The package is pure: no I/O, no clock, no global mutable state. A Model is
// plain data that serialises to JSON.
package posterior

import (
	"math"
	"slices"
	"strings"
	"time"
)

// Default values of a model that has seen no data.
const (
	// DefaultWindow is the match window: clicks at most this long before
	// the message are candidates.
	DefaultWindow = 30 * time.Minute
	// DefaultTarget is the precision a site answers at unless it chooses
	// another.
	DefaultTarget = 0.95
	// priorStrength is how many labelled examples today's defaults are
	// worth in the delay curve and in each evidence table.
	priorStrength = 40
	// neverPriorStrength is how many code-less messages the parent's
	// never-clicked share is worth when a target or an hour is estimated.
	neverPriorStrength = 30
	// defaultNeverShare is the never-clicked share of code-less first
	// messages assumed before any data.
	defaultNeverShare = 0.3
	// delayBins is the number of log-spaced delay bins inside the window.
	delayBins = 24
	// firstEdge is the upper edge of the first delay bin, in seconds.
	firstEdge = 2.0
)

// Messengers the collector knows; any other name is a generic channel and
// gets its own sub-model too.
const (
	WhatsApp = "whatsapp"
	Telegram = "telegram"
)

// Model is a site's fitted matcher. It is versioned: every Fit returns a
// model one version above its prior, stamped with the fit time.
type Model struct {
	Version int `json:"version"`
	// FittedAt is the time of the newest message the fit read: the model
	// knows the site up to then (the zero time for the defaults).
	FittedAt time.Time `json:"fitted_at"`
	// WindowSeconds is the match window the model was fitted for.
	WindowSeconds float64 `json:"window_seconds"`
	// Messengers holds one sub-model per messenger.
	Messengers map[string]*MessengerModel `json:"messengers"`
}

// MessengerModel is what is learned for one messenger of a site.
type MessengerModel struct {
	Delay Delay `json:"delay"`
	// Evidence holds one country × offset × language table per pattern
	// of what the message carries (phone country, phone time zone,
	// language), indexed by evidencePattern: a signal the message lacks
	// is no evidence, and what the others are worth depends on it.
	Evidence []Table `json:"evidence"`
	Visits   Table   `json:"other_visits"`
	// Joint refines the pattern tables per message key (the message's
	// own values): how often other clickers agree with a DE phone on a
	// Russian site is not how often they agree with a Russian one.
	Joint        Joint        `json:"joint"`
	NeverClicked NeverClicked `json:"never_clicked"`
	// Labelled and Unlabelled are the sample sizes of the last fit:
	// labelled first messages (id matches, operator confirmations) and
	// code-less first messages.
	Labelled   int `json:"labelled"`
	Unlabelled int `json:"unlabelled"`
}

// Delay is the click-to-message delay distribution: a histogram over
// log-spaced gap bins up to the window and one bin beyond it, smoothed by a
// Dirichlet prior (today's time weight) that fades as examples come in.
type Delay struct {
	// Edges are the upper edges of the bins inside the window, in
	// seconds; the last one is the window. The tail bin (beyond the
	// window) has no edge.
	Edges []float64 `json:"edges_seconds"`
	// Prior and Counts are the prior pseudo-counts and the observed
	// examples per bin, the tail bin last.
	Prior  []float64 `json:"prior"`
	Counts []float64 `json:"counts"`
	// Density is the fitted density per second in each bin inside the
	// window: the curve to draw.
	Density []float64 `json:"density"`
	// InWindow is the share of messages written within the window.
	InWindow float64 `json:"in_window"`
	// CodedPerClick is the share of clicks that lead to a message with
	// its code (an id match). A click still waiting g seconds after being
	// made has not written with its code, which makes it likelier than
	// the delay alone says to be the writer of a code-less message: its
	// weight is divided by Survival, 1 − CodedPerClick × (share of delays
	// below g), per bin.
	CodedPerClick float64   `json:"coded_per_click"`
	Survival      []float64 `json:"survival"`
}

// Table is a likelihood table of one group of evidence: for each cell, how
// often it is seen for the true click (same person) and for another
// candidate (another clicker), and their ratio.
type Table struct {
	// Pattern names what the messages of this table carry (evidence
	// tables only).
	Pattern    string    `json:"pattern,omitempty"`
	Cells      []string  `json:"cells"`
	PriorSame  []float64 `json:"prior_same"`
	PriorOther []float64 `json:"prior_other"`
	Same       []float64 `json:"same"`
	Other      []float64 `json:"other"`
	// LR is P(cell | same person) / P(cell | another clicker).
	LR []float64 `json:"likelihood_ratio"`
}

// NeverClicked is the rate of first messages from people who did not click
// within the window, relative to clicks: the weight of "never clicked" is
// Ratio × the target's clicks per second, per target and UTC hour of day
// where there is data, else the messenger's.
type NeverClicked struct {
	// Share is the estimated share of code-less first messages written by
	// people who did not click within the window.
	Share float64 `json:"share"`
	// Ratio is the weight per click per second.
	Ratio float64 `json:"ratio"`
	// Messages is the number of code-less messages it was estimated from.
	Messages int                    `json:"messages"`
	Targets  map[string]*TargetRate `json:"targets,omitempty"`
	// Keys scale the weight per message key (phone country, offsets,
	// language): the odds that a code-less message of that key is from
	// someone who never clicked, over the messenger's odds.
	Keys map[string]float64 `json:"key_factors,omitempty"`
	// Background is the weight the candidates of a message carry when
	// none of them wrote it, per expected in-window click, measured on
	// labelled messages' other candidates (1 in theory); the ratios above
	// include it.
	Background float64 `json:"background,omitempty"`
}

// TargetRate is the never-clicked rate of one target: its share of the
// target's code-less messages (shrunk towards the messenger's), and per UTC
// hour of day the weight per click per second that a floor of never-clicked
// messages per hour plus a rate per click give at that hour's clicks.
type TargetRate struct {
	Share    float64     `json:"share"`
	Messages int         `json:"messages"`
	Hourly   [24]float64 `json:"hourly_ratio"`
	HourlyN  [24]int     `json:"hourly_messages"`
}

// Evidence cell values of one signal.
const (
	agree = iota
	disagree
	unknown
)

var evidenceNames = [3]string{"agree", "disagree", "none"}

// DefaultModel is the model before any data: today's delay curve and
// evidence factors, as Dirichlet priors worth a few dozen examples.
func DefaultModel() Model { return DefaultModelFor(DefaultWindow) }

// DefaultModelFor is DefaultModel for a match window other than the
// default: the delay bins and today's curve spread over them follow it.
func DefaultModelFor(window time.Duration) Model {
	if window <= 0 {
		window = DefaultWindow
	}
	m := Model{WindowSeconds: window.Seconds(), Messengers: map[string]*MessengerModel{}}
	for _, name := range []string{WhatsApp, Telegram} {
		m.Messengers[name] = defaultMessenger(m.WindowSeconds)
	}
	return m
}

func defaultMessenger(window float64) *MessengerModel {
	mm := &MessengerModel{Delay: defaultDelay(window), Evidence: defaultEvidence(), Visits: defaultVisits()}
	mm.NeverClicked = NeverClicked{Share: defaultNeverShare}
	mm.NeverClicked.Ratio = ratioOf(defaultNeverShare, mm.Delay.InWindow)
	return mm
}

// defaultDelay spreads today's time weight, 0.75·e^(−g/60 s) +
// 0.25·e^(−g/10 min), over the bins as a density.
func defaultDelay(window float64) Delay {
	d := Delay{Edges: delayEdges(window)}
	cdf := func(g float64) float64 {
		if math.IsInf(g, 1) {
			return 1
		}
		return 0.75*(1-math.Exp(-g/60)) + 0.25*(1-math.Exp(-g/600))
	}
	d.Prior = make([]float64, len(d.Edges)+1)
	lo := 0.0
	for i, hi := range append(slices.Clone(d.Edges), math.Inf(1)) {
		d.Prior[i] = priorStrength * (cdf(hi) - cdf(lo))
		lo = hi
	}
	d.Counts = make([]float64, len(d.Prior))
	d.refresh()
	return d
}

// delayEdges are the bin edges: [0, 2 s), then log-spaced up to the window.
func delayEdges(window float64) []float64 {
	window = max(window, 4*firstEdge)
	edges := make([]float64, delayBins)
	for i := range edges {
		edges[i] = firstEdge * math.Pow(window/firstEdge, float64(i)/float64(delayBins-1))
	}
	edges[delayBins-1] = window
	return edges
}

// refresh recomputes the density and the in-window share from the counts.
func (d *Delay) refresh() {
	total := 0.0
	for i := range d.Prior {
		total += d.Prior[i] + d.Counts[i]
	}
	d.Density = make([]float64, len(d.Edges))
	lo, in := 0.0, 0.0
	for i, hi := range d.Edges {
		mass := (d.Prior[i] + d.Counts[i]) / total
		d.Density[i] = mass / (hi - lo)
		in += mass
		lo = hi
	}
	d.InWindow = in
	d.Survival = make([]float64, len(d.Edges))
	lo, below := 0.0, 0.0
	for i, hi := range d.Edges {
		mass := d.Density[i] * (hi - lo)
		// The share of delays below the bin's middle.
		d.Survival[i] = max(1-d.CodedPerClick*(below+mass/2), 0.05)
		below += mass
		lo = hi
	}
}

// integralCDF is ∫ F(g) dg over the window, F the delay distribution
// (linear within each bin).
func (d *Delay) integralCDF() float64 {
	lo, below, s := 0.0, 0.0, 0.0
	for i, hi := range d.Edges {
		mass := d.Density[i] * (hi - lo)
		s += (below + mass/2) * (hi - lo)
		below += mass
		lo = hi
	}
	return s
}

// weight is the delay density per second at gap seconds over the click's
// survival; 0 beyond the window.
func (d *Delay) weight(gap float64) float64 {
	gap = max(gap, 0)
	i, _ := slices.BinarySearch(d.Edges, gap)
	if i >= len(d.Edges) || i >= len(d.Density) {
		return 0
	}
	if i < len(d.Survival) {
		return d.Density[i] / d.Survival[i]
	}
	return d.Density[i]
}

// cellOf is the evidence cell of a message and a click: country ×
// offset × language, each agree, disagree or none.
func cellOf(msg *Message, c *Click) int {
	country := unknown
	if msg.PhoneCountry != "" && c.Country != "" {
		country = disagree
		if strings.EqualFold(msg.PhoneCountry, c.Country) {
			country = agree
		}
	}
	offset := unknown
	if len(msg.PhoneOffsets) > 0 && c.HasOffset {
		offset = disagree
		if slices.Contains(msg.PhoneOffsets, c.Offset) {
			offset = agree
		}
	}
	lang := unknown
	if ml, cl := primaryLanguage(msg.Language), primaryLanguage(c.Language); ml != "" && cl != "" {
		lang = disagree
		if ml == cl {
			lang = agree
		}
	}
	return country*9 + offset*3 + lang
}

// evidencePatterns is the number of message-side patterns: phone country,
// phone time zone and language, each present or not.
const evidencePatterns = 8

// evidencePattern is the pattern of what the message carries.
func evidencePattern(msg *Message) int {
	p := 0
	if msg.PhoneCountry != "" {
		p |= 4
	}
	if len(msg.PhoneOffsets) > 0 {
		p |= 2
	}
	if msg.Language != "" {
		p |= 1
	}
	return p
}

// defaultEvidence builds, per message pattern, the country × offset ×
// language table from today's factors (country ×3 / ×0.15, offset ×1.5 /
// ×0.7, language ×1.5 / ×0.5) over a base where each signal the message
// carries agrees, disagrees or is missing on the visit in equal parts for
// another clicker; cells the pattern rules out get no mass.
func defaultEvidence() []Table {
	country := [3]float64{3, 0.15, 1}
	offset := [3]float64{1.5, 0.7, 1}
	lang := [3]float64{1.5, 0.5, 1}
	tables := make([]Table, evidencePatterns)
	for p := range tables {
		t := Table{Pattern: patternName(p)}
		var same, other []float64
		for c := range 3 {
			for o := range 3 {
				for l := range 3 {
					t.Cells = append(t.Cells, "country="+evidenceNames[c]+",offset="+evidenceNames[o]+",language="+evidenceNames[l])
					possible := (p&4 != 0 || c == unknown) && (p&2 != 0 || o == unknown) && (p&1 != 0 || l == unknown)
					if !possible {
						same, other = append(same, 0), append(other, 0)
						continue
					}
					other = append(other, 1)
					same = append(same, country[c]*offset[o]*lang[l])
				}
			}
		}
		t.PriorSame, t.PriorOther = scaled(same, priorStrength), scaled(other, priorStrength)
		t.Same, t.Other = make([]float64, len(same)), make([]float64, len(same))
		t.refresh()
		tables[p] = t
	}
	return tables
}

// patternName names a message pattern ("phone_country+phone_zone").
func patternName(p int) string {
	var parts []string
	if p&4 != 0 {
		parts = append(parts, "phone_country")
	}
	if p&2 != 0 {
		parts = append(parts, "phone_zone")
	}
	if p&1 != 0 {
		parts = append(parts, "language")
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, "+")
}

// defaultVisits is the "visitor has other visits or devices" table: no
// evidence until learned.
func defaultVisits() Table {
	t := Table{Cells: []string{"other_visits=no", "other_visits=yes"}}
	t.PriorSame, t.PriorOther = scaled([]float64{1, 1}, priorStrength), scaled([]float64{1, 1}, priorStrength)
	t.Same, t.Other = make([]float64, 2), make([]float64, 2)
	t.refresh()
	return t
}

// scaled returns v scaled to sum to total.
func scaled(v []float64, total float64) []float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x / s * total
	}
	return out
}

// refresh recomputes the likelihood ratios from priors and counts.
func (t *Table) refresh() {
	var ns, no float64
	for i := range t.Cells {
		ns += t.PriorSame[i] + t.Same[i]
		no += t.PriorOther[i] + t.Other[i]
	}
	t.LR = make([]float64, len(t.Cells))
	for i := range t.Cells {
		s, o := t.PriorSame[i]+t.Same[i], t.PriorOther[i]+t.Other[i]
		if s <= 0 || o <= 0 || ns <= 0 || no <= 0 {
			// A cell never seen on one side: no evidence rather than
			// a certainty.
			t.LR[i] = 1
			continue
		}
		t.LR[i] = (s / ns) / (o / no)
	}
}

// lr is the likelihood ratio of cell i, 1 when the table does not have it.
func (t *Table) lr(i int) float64 {
	if i < 0 || i >= len(t.LR) {
		return 1
	}
	return t.LR[i]
}

// ratioOf turns a never-clicked share of code-less messages into the
// weight per click per second: with share π, never-clicked messages are
// π/(1−π) times the in-window click messages, which arrive at
// inWindow × (clicks per second) in expectation.
func ratioOf(share, inWindow float64) float64 {
	share = min(max(share, 1e-4), 0.99)
	return inWindow * share / (1 - share)
}

// primaryLanguage is the lower-case primary subtag of a language tag.
func primaryLanguage(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	return tag
}

// messenger returns the sub-model of a messenger: its own, else
// WhatsApp's, else any, else the defaults.
func (m *Model) messenger(name string) *MessengerModel {
	if mm := m.Messengers[name]; mm != nil {
		return mm
	}
	if mm := m.Messengers[WhatsApp]; mm != nil {
		return mm
	}
	for _, k := range sortedKeys(m.Messengers) {
		return m.Messengers[k]
	}
	w := m.WindowSeconds
	if w <= 0 {
		w = DefaultWindow.Seconds()
	}
	return defaultMessenger(w)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ratio is the never-clicked weight per click per second for a target at
// a time.
func (n *NeverClicked) ratio(target string, at time.Time) float64 {
	if tr := n.Targets[target]; tr != nil {
		if r := tr.Hourly[at.UTC().Hour()]; r > 0 {
			return r
		}
	}
	return n.Ratio
}
