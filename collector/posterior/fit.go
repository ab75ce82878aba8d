package posterior

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Work bounds of one fit.
const (
	// MaxLabelled and MaxUnlabelled cap the examples a fit reads: the
	// last ones given (callers pass them oldest first).
	MaxLabelled   = 20000
	MaxUnlabelled = 20000
	// MaxCandidates caps the candidates read per message.
	MaxCandidates = 200
	// emIterations is the fixed number of EM rounds for the never-clicked
	// rate.
	emIterations = 40
	// backgroundSpread is how far the background level is expected to be
	// from 1 (its prior standard deviation).
	backgroundSpread = 0.05
)

// Labelled is a first message whose click is known: an id match or an
// operator's confirmation.
type Labelled struct {
	Message Message `json:"message"`
	// Clicked is the click the writer made, wherever it falls.
	Clicked Click `json:"clicked"`
	// Others are the other candidates that were in the window at the
	// message's time: negatives.
	Others []Click `json:"others"`
	// Confirmed marks an operator's confirmation (else an id match).
	Confirmed bool `json:"confirmed,omitempty"`
}

// Unlabelled is a code-less first message and its candidates at the time.
type Unlabelled struct {
	Message    Message `json:"message"`
	Candidates []Click `json:"candidates"`
}

// Fit learns a model from a site's labelled and code-less first messages.
// The prior's pseudo-counts (today's defaults in DefaultModel) are kept and
// its observed counts replaced by the data's, so refitting on a sliding
// history does not count an example twice. The result is one version above
// the prior; its FittedAt is the time of the newest message it read (Fit
// has no clock of its own), the prior's when there is none.
//
// Per messenger: the delay histogram and the evidence tables count the
// labelled examples (the clicked visit as "same person", the other
// candidates as "another clicker"); the never-clicked share, which no
// labelled example shows, is estimated by EM over the code-less messages:
// the clickers' code-less messages per click for the messenger, and per
// target the never-clicked messages per UTC hour of day as a floor plus a
// rate per click (fitNeverClicked).
//
// The work is bounded: at most MaxLabelled and MaxUnlabelled examples,
// MaxCandidates candidates each, and a fixed number of EM rounds.
func Fit(prior Model, labelled []Labelled, unlabelled []Unlabelled) Model {
	if len(labelled) > MaxLabelled {
		labelled = labelled[len(labelled)-MaxLabelled:]
	}
	if len(unlabelled) > MaxUnlabelled {
		unlabelled = unlabelled[len(unlabelled)-MaxUnlabelled:]
	}
	window := prior.WindowSeconds
	if window <= 0 {
		window = DefaultWindow.Seconds()
	}
	out := Model{Version: prior.Version + 1, FittedAt: prior.FittedAt, WindowSeconds: window, Messengers: map[string]*MessengerModel{}}
	names := map[string]bool{}
	for k := range prior.Messengers {
		names[k] = true
	}
	seen := func(msg *Message) {
		names[msg.Messenger] = true
		if msg.Time.After(out.FittedAt) {
			out.FittedAt = msg.Time
		}
	}
	for i := range labelled {
		seen(&labelled[i].Message)
	}
	for i := range unlabelled {
		seen(&unlabelled[i].Message)
	}
	for _, name := range sortedKeys(names) {
		base := prior.Messengers[name]
		if base == nil {
			base = prior.messenger(name)
		}
		out.Messengers[name] = fitMessenger(base, name, window, labelled, unlabelled)
	}
	return out
}

// fitMessenger fits one messenger's sub-model over its prior.
func fitMessenger(prior *MessengerModel, name string, window float64, labelled []Labelled, unlabelled []Unlabelled) *MessengerModel {
	mm := &MessengerModel{
		Delay:    freshDelay(prior.Delay, window),
		Evidence: freshTables(prior.Evidence),
		Visits:   freshTable(prior.Visits),
	}
	var jc jointCounter
	for i := range labelled {
		l := &labelled[i]
		if l.Message.Messenger != name {
			continue
		}
		mm.Labelled++
		gap := max(l.Message.Time.Sub(l.Clicked.At).Seconds(), 0)
		mm.Delay.Counts[delayBin(mm.Delay.Edges, gap)]++
		ev := &mm.Evidence[evidencePattern(&l.Message)]
		ev.Same[cellOf(&l.Message, &l.Clicked)]++
		mm.Visits.Same[visitsCell(&l.Clicked)]++
		others := l.Others[:min(len(l.Others), MaxCandidates)]
		for j := range others {
			o := &others[j]
			ev.Other[cellOf(&l.Message, o)]++
			mm.Visits.Other[visitsCell(o)]++
		}
		jc.labelled(l, others)
	}
	for i := range unlabelled {
		if u := &unlabelled[i]; u.Message.Messenger == name && jc.keys != nil {
			jc.key(&u.Message)
		}
	}
	mm.Delay.refresh()
	mm.Delay.CodedPerClick = codedPerClick(&mm.Delay, name, window, labelled)
	mm.Delay.refresh()
	for i := range mm.Evidence {
		mm.Evidence[i].refresh()
	}
	mm.Visits.refresh()
	mm.Joint = jc.joint(mm.Evidence)
	mm.NeverClicked = fitNeverClicked(mm, prior.NeverClicked, name, window, labelled, unlabelled)
	mm.Unlabelled = mm.NeverClicked.Messages
	return mm
}

// codedPerClick estimates the share of clicks that write with their code
// from how thin the other candidates of labelled messages get with their
// gap: clicks arrive at the target's rate λ, and one g seconds old is still
// a candidate with chance 1 − c·F(g), so the others in a window number
// λ·(W − c·∫F) in expectation.
func codedPerClick(d *Delay, name string, window float64, labelled []Labelled) float64 {
	var others, exposure float64
	for i := range labelled {
		l := &labelled[i]
		if l.Message.Messenger != name || l.Message.ClicksPerHour <= 0 {
			continue
		}
		exposure += l.Message.ClicksPerHour / 3600
		for j := range l.Others[:min(len(l.Others), MaxCandidates)] {
			if g := l.Message.Time.Sub(l.Others[j].At).Seconds(); g >= 0 && g <= window {
				others++
			}
		}
	}
	integral := d.integralCDF()
	if exposure <= 0 || integral <= 0 {
		return 0
	}
	return min(max((window-others/exposure)/integral, 0), 0.95)
}

// freshDelay keeps the prior's pseudo-counts, on the window's bins, with
// no observations.
func freshDelay(p Delay, window float64) Delay {
	edges := delayEdges(window)
	if len(p.Prior) != len(edges)+1 {
		return defaultDelay(window)
	}
	return Delay{Edges: edges, Prior: append([]float64(nil), p.Prior...), Counts: make([]float64, len(p.Prior))}
}

// freshTable keeps the prior's cells and pseudo-counts with no
// observations.
func freshTable(p Table) Table {
	return Table{
		Pattern:    p.Pattern,
		Cells:      append([]string(nil), p.Cells...),
		PriorSame:  append([]float64(nil), p.PriorSame...),
		PriorOther: append([]float64(nil), p.PriorOther...),
		Same:       make([]float64, len(p.Cells)),
		Other:      make([]float64, len(p.Cells)),
	}
}

// freshTables keeps the prior's evidence tables without observations, or
// today's when the prior has not all of them.
func freshTables(p []Table) []Table {
	if len(p) != evidencePatterns {
		p = defaultEvidence()
	}
	out := make([]Table, len(p))
	for i := range p {
		out[i] = freshTable(p[i])
	}
	return out
}

// delayBin is the bin of a gap, the tail bin beyond the last edge.
func delayBin(edges []float64, gap float64) int {
	for i, e := range edges {
		if gap <= e {
			return i
		}
	}
	return len(edges)
}

func visitsCell(c *Click) int {
	if c.OtherVisits {
		return 1
	}
	return 0
}

// emMessage is one code-less message reduced to what EM needs: the sum of
// its candidates' weights and its click rate.
type emMessage struct {
	clicks float64 // Σ candidate weights
	rate   float64 // clicks per second
	target string
	hour   int
	key    string
}

// fitNeverClicked estimates the never-clicked rate by EM over the
// code-less messages. The candidates' weights do not change during EM, so
// each message is reduced to their sum once. A round computes each
// message's responsibility of "never clicked", p0 = B/(B + Σw), then the
// rates it implies:
//
//   - clickers' in-window code-less messages per click, one number for the
//     messenger: the sum of 1 − p0 over the clicks the targets' rates
//     brought in the fit's span (clicks lose their code, and write, alike
//     at every hour);
//   - messages from people who never clicked (or clicked before the
//     window), per target, as a floor a per hour of day plus b per click:
//     each hour's sum of p0 is split between the two in proportion to
//     their current rates, and a and b are refitted from their parts
//     (an EM step for two additive Poisson rates).
//
// B at a message is the second over the first times the in-window share of
// delays (Σw counts only in-window delays), stored per hour as a ratio to
// the hour's click rate. Before, each hour had its own share of the code-
// less messages, shrunk towards the target's: night hours, where few
// clicks make most code-less messages never-clicked ones, were pulled
// towards the busy hours' share, and answers there were far too sure.
func fitNeverClicked(mm *MessengerModel, prior NeverClicked, name string, window float64, labelled []Labelled, unlabelled []Unlabelled) NeverClicked {
	m := Model{WindowSeconds: window}
	var msgs []emMessage
	var first, last time.Time
	for i := range unlabelled {
		u := &unlabelled[i]
		if u.Message.Messenger != name {
			continue
		}
		lrs := mm.evidenceLRs(&u.Message)
		cands := u.Candidates[:min(len(u.Candidates), MaxCandidates)]
		e := emMessage{rate: clickRate(&m, &u.Message, len(cands)), target: u.Message.Target, hour: u.Message.Time.UTC().Hour(),
			key: messageKey(&u.Message)}
		for j := range cands {
			e.clicks += clickWeight(mm, &u.Message, &cands[j], lrs)
		}
		msgs = append(msgs, e)
		if first.IsZero() || u.Message.Time.Before(first) {
			first = u.Message.Time
		}
		if u.Message.Time.After(last) {
			last = u.Message.Time
		}
	}
	share := prior.Share
	if share <= 0 || share >= 1 {
		share = defaultNeverShare
	}
	inWindow := mm.Delay.InWindow
	nc := NeverClicked{Share: share, Ratio: ratioOf(share, inWindow), Messages: len(msgs)}
	if len(msgs) == 0 {
		return nc
	}
	// Each hour of day occurs span/24 h times in the fit's span; a
	// target's clicks in an hour are its click rate there (the mean over
	// the hour's messages) times that.
	days := max(last.Sub(first).Hours(), 1) / 24
	nc.Targets = map[string]*TargetRate{}
	rates := map[string]*[24]float64{}
	for _, e := range msgs {
		tr := nc.Targets[e.target]
		if tr == nil {
			tr = &TargetRate{}
			nc.Targets[e.target] = tr
			rates[e.target] = &[24]float64{}
		}
		tr.Messages++
		tr.HourlyN[e.hour]++
		rates[e.target][e.hour] += e.rate
	}
	var clicks float64 // clicks in the span, over the hours with messages
	for t, tr := range nc.Targets {
		r := rates[t]
		for h := range 24 {
			if tr.HourlyN[h] > 0 {
				r[h] = r[h] / float64(tr.HourlyN[h]) * 3600 * days
				clicks += r[h]
			}
		}
	}
	// lines holds each target's never-clicked messages per hour slot: a
	// floor and a rate per click, started at half the prior share each.
	lines := map[string]*[2]float64{}
	for t, tr := range nc.Targets {
		var n, c float64
		for h := range 24 {
			if tr.HourlyN[h] > 0 {
				n++
				c += rates[t][h]
			}
		}
		odds := share / (1 - share) * float64(tr.Messages)
		lines[t] = &[2]float64{odds / 2 / max(n, 1), odds / 2 / max(c, 1)}
	}
	priorShare := share
	kc := countKeys(name, labelled, msgs)
	bg := backgroundLevel(mm, name, window, labelled)
	for range emIterations {
		factors := kc.factors(nc.Share)
		for _, tr := range nc.Targets {
			if tr.Share == 0 {
				tr.Share = nc.Share
			}
			for h := range 24 {
				if tr.Hourly[h] == 0 {
					tr.Hourly[h] = ratioOf(tr.Share, inWindow)
				}
			}
		}
		var sum float64
		byTarget := map[string]*[25]float64{}
		for _, e := range msgs {
			b := nc.Targets[e.target].Hourly[e.hour] * e.rate * keyFactor(factors, e.key) * bg
			p0 := 1.0
			if b+e.clicks > 0 {
				p0 = b / (b + e.clicks)
			}
			sum += p0
			acc := byTarget[e.target]
			if acc == nil {
				acc = &[25]float64{}
				byTarget[e.target] = acc
			}
			acc[e.hour] += p0
			acc[24] += p0
		}
		nc.Share = (sum + neverPriorStrength*priorShare) / (float64(len(msgs)) + neverPriorStrength)
		nc.Ratio = ratioOf(nc.Share, inWindow)
		// Clickers' in-window code-less messages per click.
		perClick := (float64(len(msgs)) - sum) / clicks
		for t, tr := range nc.Targets {
			acc, r, ab := byTarget[t], rates[t], lines[t]
			tr.Share = (acc[24] + neverPriorStrength*nc.Share) / (float64(tr.Messages) + neverPriorStrength)
			// The never-clicked messages of an hour are a floor a, the same
			// every hour, plus b per click: split each hour's sum of p0
			// between the two in proportion to their current rates, and
			// refit each from its share of all hours.
			var floor, traffic, hours, n float64
			for h := range 24 {
				if tr.HourlyN[h] == 0 || r[h] <= 0 {
					continue
				}
				fa, fb := ab[0], ab[1]*r[h]
				if fa+fb > 0 {
					floor += acc[h] * fa / (fa + fb)
					traffic += acc[h] * fb / (fa + fb)
				}
				hours++
				n += r[h]
			}
			if hours > 0 && n > 0 {
				ab[0], ab[1] = floor/hours, traffic/n
			}
			for h := range 24 {
				if tr.HourlyN[h] == 0 || r[h] <= 0 || perClick <= 0 {
					tr.Hourly[h] = ratioOf(tr.Share, inWindow)
					continue
				}
				odds := (ab[0] + ab[1]*r[h]) / (perClick * r[h])
				tr.Hourly[h] = inWindow * min(max(odds, 1e-4/(1-1e-4)), 99)
			}
		}
	}
	nc.Keys = kc.kept(kc.factors(nc.Share))
	// The weights are stored with the background level in them.
	nc.Background = bg
	nc.Ratio *= bg
	for _, tr := range nc.Targets {
		for h := range tr.Hourly {
			tr.Hourly[h] *= bg
		}
	}
	return nc
}

// backgroundLevel is how much weight the candidates of a message carry
// when none of them wrote it, per click the target's rate expects in the
// window: the other candidates of labelled messages, weighed as the
// matcher weighs them, over their messages' rates times the in-window
// share. In theory 1; the delay curve, the survival of clicks that have
// not yet written with their code and the click rate the collector counts
// each move it by a few per cent, and the never-clicked weight must be set
// against the weight the candidates really carry: where clicks are dense,
// a few per cent there move the estimated never-clicked share by several
// points.
func backgroundLevel(mm *MessengerModel, name string, window float64, labelled []Labelled) float64 {
	m := Model{WindowSeconds: window}
	var weight, expected, sq float64
	for i := range labelled {
		l := &labelled[i]
		if l.Message.Messenger != name || l.Confirmed {
			continue
		}
		others := l.Others[:min(len(l.Others), MaxCandidates)]
		lrs := mm.evidenceLRs(&l.Message)
		for j := range others {
			w := clickWeight(mm, &l.Message, &others[j], lrs)
			weight += w
			sq += w * w
		}
		expected += clickRate(&m, &l.Message, len(others)+1) * mm.Delay.InWindow
	}
	if expected <= 0 {
		return 1
	}
	// The measured level and its standard error (the weights taken as
	// independent), shrunk towards 1 with a prior spread of
	// backgroundSpread: a few thousand clicks at a few an hour measure it
	// to ±10 %, which is mostly noise.
	raw, se := weight/expected, math.Sqrt(sq)/expected
	v := backgroundSpread * backgroundSpread
	return 1 + (raw-1)*v/(v+se*se)
}

// Per message key (the message's own phone country, offsets and
// language), people who never clicked need not look like the clickers:
// a phone country no clicker has is likelier theirs. keyCounts compares
// how often a key comes among code-less first messages and among labelled
// ones (clickers who kept the code, who lose it as often as any clicker):
// with r(s) = P(s | code-less) / P(s | clicker) and π the never-clicked
// share, the share among the key's code-less messages is 1 − (1 − π)/r(s),
// and the key's "never clicked" weight is scaled by that share's odds over
// π's.
const (
	// keyMinLabelled is the labelled examples a messenger needs before
	// keys get their own factor.
	keyMinLabelled = 50
	// keyPseudo is how many messages the pooled frequency of a key is
	// worth in each of its two frequencies.
	keyPseudo = 10
)

type keyCounts struct {
	labelled, codeless map[string]float64
	nl, nu             float64
}

func countKeys(name string, labelled []Labelled, msgs []emMessage) keyCounts {
	kc := keyCounts{labelled: map[string]float64{}, codeless: map[string]float64{}}
	for i := range labelled {
		if l := &labelled[i]; l.Message.Messenger == name {
			kc.labelled[messageKey(&l.Message)]++
			kc.nl++
		}
	}
	for _, e := range msgs {
		kc.codeless[e.key]++
		kc.nu++
	}
	return kc
}

// factors are the keys' factors at never-clicked share pi; nil when there
// are too few labelled examples.
func (kc *keyCounts) factors(pi float64) map[string]float64 {
	if kc.nl < keyMinLabelled || kc.nu == 0 || pi <= 0 || pi >= 1 {
		return nil
	}
	out := make(map[string]float64, len(kc.codeless))
	base := pi / (1 - pi)
	for k, nu := range kc.codeless {
		nl := kc.labelled[k]
		pooled := (nu + nl) / (kc.nu + kc.nl)
		pu := (nu + keyPseudo*pooled) / (kc.nu + keyPseudo)
		pl := (nl + keyPseudo*pooled) / (kc.nl + keyPseudo)
		s := min(max(1-(1-pi)*pl/pu, 0.01), 0.99)
		out[k] = s / (1 - s) / base
	}
	return out
}

// kept are the factors of the most common code-less keys, at most
// maxKeys, for the model.
func (kc *keyCounts) kept(f map[string]float64) map[string]float64 {
	if len(f) <= maxKeys {
		return f
	}
	keys := sortedKeys(f)
	slices.SortStableFunc(keys, func(a, b string) int { return cmp.Compare(kc.codeless[b], kc.codeless[a]) })
	out := make(map[string]float64, maxKeys)
	for _, k := range keys[:maxKeys] {
		out[k] = f[k]
	}
	return out
}

// keyFactor is a key's factor, 1 for a key without one.
func keyFactor(f map[string]float64, key string) float64 {
	if v, ok := f[key]; ok {
		return v
	}
	return 1
}
