package posterior

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"
)

// The simulated world. Sites in three countries, each with two WhatsApp
// numbers and a Telegram bot. Clicks on each target arrive as a Poisson
// process with lunch and evening peaks in the site's local time. Each click
// is a person of one profile (a local in one of the country's regions, a
// second device, an expat, a traveller, a VPN user, a foreigner); the
// profile draws the visit's IP country, UTC offset (the browser's, else
// the IP's, which a mobile carrier's shared addresses place at its head
// office), browser language and other visits, and, independently, what the
// message will say: phone country and time-zone evidence (none for
// Russian mobiles) on WhatsApp, language_code only on Telegram (no start
// payload, no phone). A person writes with a probability that depends on
// the profile and other visits, loses the code with a probability per
// messenger, and writes after a heavy-tailed delay (a lognormal mixture
// from seconds to hours). People who never clicked write at a rate
// proportional to the target's clicks, with a flatter daily profile, a
// multiplier per target and a population of their own.
//
// Because every draw is from finite, known distributions, the simulation
// knows the exact posterior of each message given what the matcher sees
// (its candidates and its own signals): the oracle.

const noOffset = math.MinInt32

type sv struct {
	v string
	p float64
}

type iv struct {
	v int
	p float64
}

type sdist []sv
type idist []iv

func (d sdist) draw(r *rand.Rand) string {
	x := r.Float64()
	for _, e := range d {
		if x < e.p {
			return e.v
		}
		x -= e.p
	}
	return d[len(d)-1].v
}

func (d sdist) prob(v string) float64 {
	s := 0.0
	for _, e := range d {
		if e.v == v {
			s += e.p
		}
	}
	return s
}

func (d idist) draw(r *rand.Rand) int {
	x := r.Float64()
	for _, e := range d {
		if x < e.p {
			return e.v
		}
		x -= e.p
	}
	return d[len(d)-1].v
}

func (d idist) prob(v int) float64 {
	s := 0.0
	for _, e := range d {
		if e.v == v {
			s += e.p
		}
	}
	return s
}

// simProfile is one kind of person.
type simProfile struct {
	name string
	// weight among clickers and among people who never clicked.
	weight, bgWeight float64
	// The visit.
	ipCountry sdist
	offset    idist
	lang      sdist
	visits    float64 // P(other visits or devices)
	// The message.
	phoneCountry sdist
	phoneOffset  idist // noOffset: no time-zone evidence
	tgLang       sdist
	// write is the chance of writing, without and with other visits.
	write [2]float64
}

type simRegion struct {
	offset int
	share  float64
}

type simForeign struct {
	country string
	offset  int
	lang    string
	zone    bool // phone carries time-zone evidence
}

// simSite describes one site's country.
type simSite struct {
	name      string
	country   string
	lang      string
	regions   []simRegion
	hq        int  // offset of the carriers' head offices
	phoneZone bool // local phones carry time-zone evidence
	expats    []string
	foreign   []simForeign
	// dataOffset is what the phone data says of a local phone without
	// evidence (today's formula believes it).
	dataOffset int
}

const hour = 3600

func simSites() []simSite {
	return []simSite{
		{name: "ru", country: "RU", lang: "ru", hq: 3 * hour, phoneZone: false, dataOffset: 3 * hour,
			regions: []simRegion{{3 * hour, 0.6}, {5 * hour, 0.2}, {7 * hour, 0.2}},
			expats:  []string{"uk", "en", "hy"},
			foreign: []simForeign{{"KZ", 5 * hour, "ru", false}, {"BY", 3 * hour, "ru", true}, {"DE", 1 * hour, "de", true}}},
		{name: "us", country: "US", lang: "en", hq: -5 * hour, phoneZone: true,
			regions: []simRegion{{-5 * hour, 0.45}, {-6 * hour, 0.25}, {-7 * hour, 0.1}, {-8 * hour, 0.2}},
			expats:  []string{"es", "zh", "ru"},
			foreign: []simForeign{{"GB", 0, "en", true}, {"IN", 5*hour + 1800, "en", true}, {"MX", -6 * hour, "es", true}}},
		{name: "de", country: "DE", lang: "de", hq: 1 * hour, phoneZone: true,
			regions: []simRegion{{1 * hour, 1}},
			expats:  []string{"tr", "en", "ru"},
			foreign: []simForeign{{"AT", 1 * hour, "de", true}, {"TR", 3 * hour, "tr", true}, {"PL", 1 * hour, "pl", true}}},
	}
}

var simTravel = []simForeign{{"TR", 3 * hour, "tr", true}, {"TH", 7 * hour, "th", true}, {"ES", 1 * hour, "es", true}, {"AE", 4 * hour, "ar", true}}
var simVPN = sdist{{"NL", 0.4}, {"US", 0.3}, {"DE", 0.2}, {"FI", 0.1}}

// profiles builds a site's people.
func (s simSite) profiles() []simProfile {
	var ps []simProfile
	one := func(v string) sdist { return sdist{{v, 1}} }
	// visitOffset: the browser's offset, else (15 %) the IP's, which
	// shared carrier addresses place at the head office; 3 % unknown.
	visitOffset := func(real, ip int) idist {
		return idist{{real, 0.82}, {ip, 0.15}, {noOffset, 0.03}}
	}
	phoneOff := func(real int) idist {
		if !s.phoneZone {
			return idist{{noOffset, 1}}
		}
		// One in ten kept a number from another region.
		var d idist
		d = append(d, iv{real, 0.9})
		for _, r := range s.regions {
			if r.offset != real {
				d = append(d, iv{r.offset, 0.1 / float64(len(s.regions)-1)})
			}
		}
		if len(s.regions) == 1 {
			d[0].p = 1
		}
		return d
	}
	for _, r := range s.regions {
		ps = append(ps, simProfile{name: "local", weight: 0.5 * r.share, bgWeight: 0.7 * r.share,
			ipCountry: one(s.country), offset: visitOffset(r.offset, s.hq), lang: sdist{{s.lang, 0.92}, {"en", 0.08}}, visits: 0.2,
			phoneCountry: one(s.country), phoneOffset: phoneOff(r.offset), tgLang: sdist{{s.lang, 0.95}, {"en", 0.05}}, write: [2]float64{0.45, 0.75}})
		ps = append(ps, simProfile{name: "second device", weight: 0.1 * r.share, bgWeight: 0.05 * r.share,
			ipCountry: one(s.country), offset: visitOffset(r.offset, s.hq), lang: sdist{{"en", 0.5}, {s.lang, 0.5}}, visits: 0.7,
			phoneCountry: one(s.country), phoneOffset: phoneOff(r.offset), tgLang: sdist{{s.lang, 0.9}, {"en", 0.1}}, write: [2]float64{0.4, 0.6}})
		ps = append(ps, simProfile{name: "vpn", weight: 0.08 * r.share, bgWeight: 0.04 * r.share,
			ipCountry: simVPN, offset: idist{{r.offset, 0.9}, {1 * hour, 0.07}, {noOffset, 0.03}}, lang: one(s.lang), visits: 0.3,
			phoneCountry: one(s.country), phoneOffset: phoneOff(r.offset), tgLang: one(s.lang), write: [2]float64{0.5, 0.7}})
	}
	for _, l := range s.expats {
		ps = append(ps, simProfile{name: "expat", weight: 0.1 / float64(len(s.expats)), bgWeight: 0.08 / float64(len(s.expats)),
			ipCountry: one(s.country), offset: visitOffset(s.regions[0].offset, s.hq), lang: sdist{{l, 0.75}, {s.lang, 0.25}}, visits: 0.2,
			phoneCountry: one(s.country), phoneOffset: phoneOff(s.regions[0].offset), tgLang: sdist{{l, 0.8}, {s.lang, 0.2}}, write: [2]float64{0.45, 0.7}})
	}
	for _, d := range simTravel {
		home := s.regions[0].offset
		ps = append(ps, simProfile{name: "traveller", weight: 0.08 / float64(len(simTravel)), bgWeight: 0.03 / float64(len(simTravel)),
			ipCountry: one(d.country), offset: idist{{d.offset, 0.6}, {home, 0.37}, {noOffset, 0.03}}, lang: one(s.lang), visits: 0.1,
			phoneCountry: one(s.country), phoneOffset: phoneOff(home), tgLang: one(s.lang), write: [2]float64{0.35, 0.6}})
	}
	for _, f := range s.foreign {
		po := idist{{noOffset, 1}}
		if f.zone {
			po = idist{{f.offset, 1}}
		}
		ps = append(ps, simProfile{name: "foreign", weight: 0.14 / float64(len(s.foreign)), bgWeight: 0.1 / float64(len(s.foreign)),
			ipCountry: one(f.country), offset: visitOffset(f.offset, f.offset), lang: sdist{{f.lang, 0.85}, {"en", 0.15}}, visits: 0.1,
			phoneCountry: one(f.country), phoneOffset: po, tgLang: sdist{{f.lang, 0.9}, {"en", 0.1}}, write: [2]float64{0.3, 0.5}})
	}
	var w, b float64
	for _, p := range ps {
		w += p.weight
		b += p.bgWeight
	}
	for i := range ps {
		ps[i].weight /= w
		ps[i].bgWeight /= b
	}
	return ps
}

// lognormal mixture component: weight, median seconds, sigma.
type lnComp struct{ w, median, sigma float64 }

// simDelay is a messenger's delay from click to message.
type simDelay []lnComp

func (d simDelay) draw(r *rand.Rand) float64 {
	x := r.Float64()
	c := d[len(d)-1]
	for _, e := range d {
		if x < e.w {
			c = e
			break
		}
		x -= e.w
	}
	return c.median * math.Exp(c.sigma*r.NormFloat64())
}

func (d simDelay) pdf(g float64) float64 {
	if g <= 0 {
		return 0
	}
	s := 0.0
	for _, c := range d {
		z := (math.Log(g) - math.Log(c.median)) / c.sigma
		s += c.w * math.Exp(-z*z/2) / (g * c.sigma * math.Sqrt(2*math.Pi))
	}
	return s
}

func (d simDelay) cdf(g float64) float64 {
	if g <= 0 {
		return 0
	}
	s := 0.0
	for _, c := range d {
		z := (math.Log(g) - math.Log(c.median)) / c.sigma
		s += c.w * 0.5 * math.Erfc(-z/math.Sqrt2)
	}
	return s
}

// simMessenger is what differs between messengers.
type simMessenger struct {
	name  string
	delay simDelay
	lost  float64 // chance the code is lost
}

var simMessengers = map[string]simMessenger{
	WhatsApp: {WhatsApp, simDelay{{0.5, 40, 0.8}, {0.3, 240, 1.0}, {0.2, 2400, 1.2}}, 0.3},
	Telegram: {Telegram, simDelay{{0.6, 20, 0.8}, {0.25, 180, 1.0}, {0.15, 1800, 1.2}}, 0.4},
}

type simTarget struct {
	name      string
	messenger string
	neverMul  float64 // never-clicked writers relative to the site's share
}

var simTargets = []simTarget{{"whatsapp:1", WhatsApp, 0.6}, {"whatsapp:2", WhatsApp, 1.4}, {"telegram:bot", Telegram, 1}}

// dailyShape is the clicks' shape by local hour: night, morning, lunch
// and evening peaks; mean 1.
func dailyShape() [24]float64 {
	raw := [24]float64{0.15, 0.1, 0.1, 0.1, 0.1, 0.15, 0.3, 0.6, 0.8, 1, 1.1, 1.3, 2.2, 2.2, 1.2, 1, 1, 1.1, 1.4, 2, 2.2, 1.8, 1, 0.5}
	return meanOne(raw)
}

func meanOne(v [24]float64) [24]float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	for i := range v {
		v[i] *= 24 / s
	}
	return v
}

// simWorldParams is one cell of the grid.
type simWorldParams struct {
	seed    uint64
	density float64 // clicks per hour per target (daily mean)
	never   float64 // never-clicked writers as a share of clicking writers
	hours   float64 // length of each half (train, then evaluate)
	window  float64
}

// simClick is one click with its person.
type simClick struct {
	at      float64 // seconds from the start
	target  int
	profile int
	click   Click
	codedAt float64 // time of its coded message, +Inf if none
}

// simMsg is one first message.
type simMsg struct {
	at      float64
	target  int
	truth   int // click index, -1 never clicked
	coded   bool
	msg     Message
	profile int
	// baseline is the phone's time-zone offset as the phone data gives it,
	// evidence or not (today's formula believes it).
	baseline []int
}

// simWorld is one site's simulated traffic with everything the oracle
// needs.
type simWorld struct {
	site     simSite
	p        simWorldParams
	profiles []simProfile
	start    time.Time
	shape    [24]float64 // clicks by UTC hour, mean 1
	nShape   [24]float64 // never-clicked by UTC hour, mean 1
	clicks   []simClick  // by target, then time
	byTarget [][]int     // click indices per target, by time
	msgs     []simMsg    // sorted by time
	meanW    float64     // mean write probability of a clicker
	hourly   [][24]float64
}

func newSimWorld(site simSite, p simWorldParams) *simWorld {
	r := rand.New(rand.NewPCG(p.seed, p.seed^0x9e3779b97f4a7c15))
	w := &simWorld{site: site, p: p, profiles: site.profiles(), start: time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)}
	local := dailyShape()
	// The site's local time is its first region's.
	shift := site.regions[0].offset / hour
	var flat [24]float64
	for h := range 24 {
		lh := ((h+shift)%24 + 24) % 24
		w.shape[h] = local[lh]
		flat[h] = 0.5 + 0.5*local[lh]
	}
	w.nShape = meanOne(flat)
	for _, pr := range w.profiles {
		w.meanW += pr.weight * ((1-pr.visits)*pr.write[0] + pr.visits*pr.write[1])
	}
	end := 2 * p.hours * hour
	maxShape := slices.Max(w.shape[:])
	w.byTarget = make([][]int, len(simTargets))
	for ti, tg := range simTargets {
		sm := simMessengers[tg.messenger]
		// Clicks by thinning.
		rate := p.density * maxShape / hour
		for t := r.ExpFloat64() / rate; t < end; t += r.ExpFloat64() / rate {
			if r.Float64() >= w.shape[w.hourOf(t)]/maxShape {
				continue
			}
			pi := w.drawProfile(r, false)
			pr := &w.profiles[pi]
			c := simClick{at: t, target: ti, profile: pi, codedAt: math.Inf(1)}
			c.click = Click{At: w.time(t), Country: pr.ipCountry.draw(r), Language: pr.lang.draw(r), OtherVisits: r.Float64() < pr.visits}
			if off := pr.offset.draw(r); off != noOffset {
				c.click.Offset, c.click.HasOffset = off, true
			}
			ci := len(w.clicks)
			w.clicks = append(w.clicks, c)
			wp := pr.write[0]
			if c.click.OtherVisits {
				wp = pr.write[1]
			}
			if r.Float64() >= wp {
				continue
			}
			at := t + sm.delay.draw(r)
			coded := r.Float64() >= sm.lost
			if at >= end {
				continue
			}
			if coded {
				w.clicks[ci].codedAt = at
			}
			w.msgs = append(w.msgs, w.message(r, at, ti, ci, pi, coded))
		}
		// People who never clicked.
		nmax := p.never * w.meanW * p.density * tg.neverMul * slices.Max(w.nShape[:]) / hour
		if nmax > 0 {
			for t := r.ExpFloat64() / nmax; t < end; t += r.ExpFloat64() / nmax {
				if r.Float64() >= w.nShape[w.hourOf(t)]/slices.Max(w.nShape[:]) {
					continue
				}
				w.msgs = append(w.msgs, w.message(r, t, ti, -1, w.drawProfile(r, true), false))
			}
		}
	}
	// Each target's clicks were made in time order.
	for i, c := range w.clicks {
		w.byTarget[c.target] = append(w.byTarget[c.target], i)
	}
	sort.SliceStable(w.msgs, func(i, j int) bool { return w.msgs[i].at < w.msgs[j].at })
	return w
}

func (w *simWorld) hourOf(t float64) int { return int(math.Mod(t/hour, 24)) }

func (w *simWorld) time(t float64) time.Time {
	return w.start.Add(time.Duration(t * float64(time.Second)))
}

func (w *simWorld) drawProfile(r *rand.Rand, never bool) int {
	x := r.Float64()
	for i, p := range w.profiles {
		wt := p.weight
		if never {
			wt = p.bgWeight
		}
		if x < wt {
			return i
		}
		x -= wt
	}
	return len(w.profiles) - 1
}

// message draws what a message of a person of profile pi says.
func (w *simWorld) message(r *rand.Rand, at float64, ti, ci, pi int, coded bool) simMsg {
	pr := &w.profiles[pi]
	tg := simTargets[ti]
	m := simMsg{at: at, target: ti, truth: ci, coded: coded, profile: pi}
	m.msg = Message{Time: w.time(at), Messenger: tg.messenger, Target: tg.name}
	if tg.messenger == Telegram {
		m.msg.Language = pr.tgLang.draw(r)
		return m
	}
	m.msg.PhoneCountry = pr.phoneCountry.draw(r)
	off := pr.phoneOffset.draw(r)
	if off != noOffset {
		m.msg.PhoneOffsets = []int{off}
		m.baseline = []int{off}
	} else if m.msg.PhoneCountry == w.site.country {
		m.baseline = []int{w.site.dataOffset}
	} else {
		for _, f := range w.site.foreign {
			if f.country == m.msg.PhoneCountry {
				m.baseline = []int{f.offset}
			}
		}
	}
	return m
}

// candidates are the clicks on the message's target in the window before
// it (and up to the skew after), without those whose person already wrote
// with the code: what the collector would load.
func (w *simWorld) candidates(m *simMsg) []int {
	idx := w.byTarget[m.target]
	lo := sort.Search(len(idx), func(i int) bool { return w.clicks[idx[i]].at >= m.at-w.p.window })
	var out []int
	for _, ci := range idx[lo:] {
		c := &w.clicks[ci]
		if c.at > m.at+clickSkew.Seconds() {
			break
		}
		if c.codedAt < m.at {
			continue
		}
		out = append(out, ci)
	}
	return out
}

// clicksPerHour is what the collector can count: the target's mean clicks
// per hour at the message's hour of day over the first half of the world
// (its recent days).
func (w *simWorld) clicksPerHour(m *simMsg) float64 {
	if w.hourly == nil {
		w.hourly = make([][24]float64, len(simTargets))
		days := w.p.hours / 24
		for _, c := range w.clicks {
			if c.at < w.p.hours*hour {
				w.hourly[c.target][w.hourOf(c.at)] += 1 / days
			}
		}
	}
	return max(w.hourly[m.target][w.hourOf(m.at)], 0.1)
}

// simData is a world split the way the product sees it.
type simData struct {
	labelled   []Labelled
	unlabelled []Unlabelled
	// eval are the code-less messages of the second half with their
	// candidate click indices; lost counts those from clickers.
	eval      []simMsg
	evalCands [][]int
	lost      int
	// proof is the labelled chats of the second half, for the live proof.
	proof []Labelled
}

func (w *simWorld) split() simData {
	var d simData
	half := w.p.hours * hour
	for i := range w.msgs {
		m := &w.msgs[i]
		m.msg.ClicksPerHour = w.clicksPerHour(m)
		cands := w.candidates(m)
		clicks := func(skip int) []Click {
			out := make([]Click, 0, len(cands))
			for _, ci := range cands {
				if ci != skip {
					out = append(out, w.clicks[ci].click)
				}
			}
			return out
		}
		switch {
		case m.coded:
			l := Labelled{Message: m.msg, Clicked: w.clicks[m.truth].click, Others: clicks(m.truth)}
			if m.at < half {
				d.labelled = append(d.labelled, l)
			} else {
				d.proof = append(d.proof, l)
			}
		case m.at < half:
			d.unlabelled = append(d.unlabelled, Unlabelled{Message: m.msg, Candidates: clicks(-1)})
		default:
			d.eval = append(d.eval, *m)
			d.evalCands = append(d.evalCands, cands)
			if m.truth >= 0 {
				d.lost++
			}
		}
	}
	return d
}

// oracle is the exact posterior of a message under the world's model,
// given its candidates and signals. A candidate's weight is the density of
// its person writing a code-less message at this gap with these signals,
// over the chance it had not written with the code before (else it would
// not be a candidate); "never clicked" is the rate of people who never
// clicked writing with these signals plus that of clickers from before the
// window.
func (w *simWorld) oracle(m *simMsg, cands []int, probs []float64) float64 {
	sm := simMessengers[simTargets[m.target].messenger]
	np := len(w.profiles)
	var sArr [64]float64
	s := sArr[:np]
	var bg, clickS float64
	for pi := range w.profiles {
		pr := &w.profiles[pi]
		if sm.name == Telegram {
			s[pi] = pr.tgLang.prob(m.msg.Language)
		} else {
			off := noOffset
			if len(m.msg.PhoneOffsets) > 0 {
				off = m.msg.PhoneOffsets[0]
			}
			s[pi] = pr.phoneCountry.prob(m.msg.PhoneCountry) * pr.phoneOffset.prob(off)
		}
		bg += pr.bgWeight * s[pi]
		clickS += pr.weight * ((1-pr.visits)*pr.write[0] + pr.visits*pr.write[1]) * s[pi]
	}
	total := 0.0
	for j, ci := range cands {
		c := &w.clicks[ci]
		g := m.at - c.at
		f := sm.delay.pdf(g)
		if f == 0 {
			probs[j] = 0
			continue
		}
		F := sm.delay.cdf(g)
		var num, den float64
		for pi := range w.profiles {
			pr := &w.profiles[pi]
			a := pr.weight * pr.ipCountry.prob(c.click.Country) * pr.lang.prob(c.click.Language)
			off := noOffset
			if c.click.HasOffset {
				off = c.click.Offset
			}
			a *= pr.offset.prob(off)
			wp := pr.write[0]
			if c.click.OtherVisits {
				a *= pr.visits
				wp = pr.write[1]
			} else {
				a *= 1 - pr.visits
			}
			num += a * wp * s[pi]
			den += a * (1 - wp*(1-sm.lost)*F)
		}
		probs[j] = sm.lost * f * num / den
		total += probs[j]
	}
	tg := simTargets[m.target]
	rho := w.p.never * w.meanW * w.p.density * tg.neverMul * w.nShape[w.hourOf(m.at)] / hour
	none := rho*bg + sm.lost*w.tail(m.at, sm.delay)*clickS
	total += none
	for j := range cands {
		probs[j] /= total
	}
	return none / total
}

// tail is the rate at t of messages from clicks made before the window:
// ∫ λ(t−g) f(g) dg over g beyond the window, by the midpoint rule on a
// log scale.
func (w *simWorld) tail(t float64, d simDelay) float64 {
	const steps = 200
	lo, hi := math.Log(w.p.window), math.Log(72*hour)
	h := (hi - lo) / steps
	s := 0.0
	for i := range steps {
		g := math.Exp(lo + (float64(i)+0.5)*h)
		u := t - g
		if u < 0 {
			break
		}
		s += w.p.density * w.shape[w.hourOf(u)] / hour * d.pdf(g) * g * h
	}
	return s
}
