package reports

import (
	"context"
	"fmt"
	"math"
	"sort"
)

// The template experiments readout. Each template's code survival (kept /
// linked chats) is compared with the leader's by a two-sided two-proportion
// z-test (pooled), and the p-values by Holm's step-down correction, so that
// the readout names a winner when all templates are alike at most
// ExperimentAlpha of the time, however many templates there are. Why this
// test: survival is a proportion of independent chats; the counts that
// matter (hundreds of chats) make the normal approximation good (each
// template needs MinExperimentOutcomes kept and lost codes), the error rate
// is a fixed number the simulation can check, and its readout, a p-value
// per template, is the one operators meet elsewhere. A Bayesian probability
// of being best would need a prior and a threshold with no error rate to
// state.
const (
	ExperimentAlpha       = 0.05
	MinExperimentOutcomes = 10
	z95                   = 1.959963984540054
)

// Wilson is the 95 % Wilson score interval of k successes in n trials.
func Wilson(k, n int64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	p := float64(k) / float64(n)
	nn := float64(n)
	z2 := z95 * z95
	center := (p + z2/(2*nn)) / (1 + z2/nn)
	half := z95 / (1 + z2/nn) * math.Sqrt(p*(1-p)/nn+z2/(4*nn*nn))
	return math.Max(0, center-half), math.Min(1, center+half)
}

// TwoProportionP is the two-sided p-value of the pooled two-proportion
// z-test of k1/n1 against k2/n2.
func TwoProportionP(k1, n1, k2, n2 int64) float64 {
	if n1 == 0 || n2 == 0 {
		return 1
	}
	p1, p2 := float64(k1)/float64(n1), float64(k2)/float64(n2)
	pool := float64(k1+k2) / float64(n1+n2)
	se := math.Sqrt(pool * (1 - pool) * (1/float64(n1) + 1/float64(n2)))
	if se == 0 {
		return 1
	}
	z := math.Abs(p1-p2) / se
	return math.Erfc(z / math.Sqrt2)
}

// ExperimentRow is one template of the experiment.
type ExperimentRow struct {
	Template string `json:"template"`
	Text     string `json:"text"`
	Weight   *int   `json:"weight"`
	Clicks   int64  `json:"clicks"`
	Chats    int64  `json:"chats"`
	Kept     int64  `json:"kept"`
	// ChatRate is Chats / Clicks.
	ChatRate     *float64 `json:"chat_rate"`
	Survival     *float64 `json:"survival"`
	SurvivalLow  *float64 `json:"survival_low"`
	SurvivalHigh *float64 `json:"survival_high"`
	// PValue is the Holm-adjusted p-value of the difference from the
	// leader (nil for the leader itself and for too few chats).
	PValue      *float64 `json:"p_value"`
	Significant bool     `json:"significant"`
	Leader      bool     `json:"leader"`
}

// ExperimentsReport is the template experiment's readout.
type ExperimentsReport struct {
	Site  string          `json:"site"`
	From  string          `json:"from"`
	To    string          `json:"to"`
	Test  string          `json:"test"`
	Alpha float64         `json:"alpha"`
	Rows  []ExperimentRow `json:"rows"`
	// Keep is the template to keep, "" while no difference is
	// significant; Verdict says it in words.
	Keep    string `json:"keep"`
	Verdict string `json:"verdict"`
	Notes   Notes  `json:"notes"`
}

// Experiments reads the template experiment over r from the code-survival
// counters.
func (s *Store) Experiments(ctx context.Context, site string, r Range) (*ExperimentsReport, error) {
	st, err := s.siteConf(site)
	if err != nil {
		return nil, err
	}
	codes, err := s.Codes(ctx, site, r)
	if err != nil {
		return nil, fmt.Errorf("reports.Experiments: %w", err)
	}
	counted := map[string]CodeRow{}
	var extra []string
	for _, c := range codes.Rows {
		if c.Dimension == "template" && c.Value != NoTemplate {
			counted[c.Value] = c
			extra = append(extra, c.Value)
		}
	}
	var rows []ExperimentRow
	for _, m := range st.Messages {
		w := m.TemplateWeight()
		rows = append(rows, ExperimentRow{Template: m.Key(), Text: m.Text, Weight: &w})
	}
	for _, k := range extra { // templates taken out of the config
		if !slicesContainsTemplate(rows, k) {
			rows = append(rows, ExperimentRow{Template: k, Text: counted[k].Label})
		}
	}
	for i := range rows {
		c := counted[rows[i].Template]
		rows[i].Clicks, rows[i].Chats, rows[i].Kept = c.Clicks, c.Chats, c.Kept
	}
	rep := ReadExperiment(rows)
	rep.Site, rep.From, rep.To = site, r.From, r.To
	return rep, nil
}

// ReadExperiment fills the rows' rates and tests and says which template
// to keep: the leader, when its survival differs significantly from every
// other template's.
func ReadExperiment(rows []ExperimentRow) *ExperimentsReport {
	rep := &ExperimentsReport{
		Test:  "two-sided two-proportion z-test (pooled) of each template's survival against the leader's, Holm-corrected",
		Alpha: ExperimentAlpha, Rows: rows,
		Notes: Notes{
			"survival": "kept / chats, with its 95 % Wilson interval",
			"p_value":  "Holm-adjusted p-value of the difference from the leader; significant below alpha",
		},
	}
	var arms []int
	for i := range rows {
		r := &rows[i]
		r.ChatRate = ratio(float64(r.Chats), float64(r.Clicks), 4)
		if r.Chats > 0 {
			lo, hi := Wilson(r.Kept, r.Chats)
			r.Survival = ptr(round(float64(r.Kept)/float64(r.Chats), 4))
			r.SurvivalLow, r.SurvivalHigh = ptr(round(lo, 4)), ptr(round(hi, 4))
			arms = append(arms, i)
		}
	}
	if len(rows) < 2 {
		rep.Verdict = "one template: list two or more under messages to run an experiment"
		return rep
	}
	if len(arms) < 2 {
		rep.Verdict = "not enough chats yet: fewer than two templates have any"
		return rep
	}
	for _, i := range arms {
		r := &rows[i]
		if r.Kept < MinExperimentOutcomes || r.Chats-r.Kept < MinExperimentOutcomes {
			rep.Verdict = fmt.Sprintf("not enough chats yet: every template needs %d kept and %d lost codes", MinExperimentOutcomes, MinExperimentOutcomes)
			return rep
		}
	}
	rate := func(i int) float64 { return float64(rows[i].Kept) / float64(rows[i].Chats) }
	lead := arms[0]
	for _, i := range arms[1:] {
		if rate(i) > rate(lead) {
			lead = i
		}
	}
	rows[lead].Leader = true
	type cmp struct {
		i int
		p float64
	}
	var cs []cmp
	for _, i := range arms {
		if i != lead {
			cs = append(cs, cmp{i, TwoProportionP(rows[lead].Kept, rows[lead].Chats, rows[i].Kept, rows[i].Chats)})
		}
	}
	sort.Slice(cs, func(a, b int) bool { return cs[a].p < cs[b].p })
	all, running := true, 0.0
	for k, c := range cs {
		adj := math.Min(1, c.p*float64(len(cs)-k))
		running = math.Max(running, adj) // Holm's adjusted p-values never decrease
		rows[c.i].PValue = ptr(round(running, 4))
		rows[c.i].Significant = running < ExperimentAlpha
		all = all && rows[c.i].Significant
	}
	if all {
		rep.Keep = rows[lead].Template
		rep.Verdict = fmt.Sprintf("keep %s: its survival %.1f %% is higher than every other template's (alpha %.2f)",
			rows[lead].Template, 100*rate(lead), ExperimentAlpha)
	} else {
		rep.Verdict = fmt.Sprintf("no significant difference yet: %s leads with %.1f %%; keep the experiment running",
			rows[lead].Template, 100*rate(lead))
	}
	return rep
}

func slicesContainsTemplate(rows []ExperimentRow, key string) bool {
	for _, r := range rows {
		if r.Template == key {
			return true
		}
	}
	return false
}
