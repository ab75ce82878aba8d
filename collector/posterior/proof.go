package posterior

import (
	"math"
	"slices"
	"time"
)

// clickSkew lets a click stamped a moment after the message's whole-second
// platform timestamp still count as a candidate.
const clickSkew = 2 * time.Second

// Interval is a proportion with its Wilson 95 % interval.
type Interval struct {
	K     int     `json:"k"`
	N     int     `json:"n"`
	Value float64 `json:"value"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
}

// Proportion is k of n with its Wilson 95 % interval (0 and [0, 1] when n
// is 0).
func Proportion(k, n int) Interval {
	iv := Interval{K: k, N: n, Lo: 0, Hi: 1}
	if n == 0 {
		return iv
	}
	const z = 1.959963984540054
	p, nf := float64(k)/float64(n), float64(n)
	den := 1 + z*z/nf
	mid := (p + z*z/(2*nf)) / den
	half := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / den
	iv.Value, iv.Lo, iv.Hi = p, max(0, mid-half), min(1, mid+half)
	return iv
}

// Bin is one confidence decile of a reliability table: the messages whose
// best candidate had a probability in [Lo, Hi) (the answers given at a
// target at or below Lo), how many of those candidates were right, and
// their mean probability.
type Bin struct {
	Lo             float64 `json:"lo"`
	Hi             float64 `json:"hi"`
	Answered       int     `json:"answered"`
	Correct        int     `json:"correct"`
	MeanConfidence float64 `json:"mean_confidence"`
}

// ProofRow is the live proof of one messenger and period: what the
// heuristic would have answered on the labelled chats had their codes been
// lost.
type ProofRow struct {
	Messenger string `json:"messenger"`
	Period    string `json:"period"`
	// Messages is the labelled chats; Answered those Decide answered;
	// Correct the answers that were the clicked visit.
	Messages int `json:"messages"`
	Answered int `json:"answered"`
	Correct  int `json:"correct"`
	// Precision is Correct of Answered; Recall Correct of Messages.
	Precision   Interval `json:"precision"`
	Recall      Interval `json:"recall"`
	Reliability []Bin    `json:"reliability"`
}

// Prove is the live proof. Each labelled chat (an id match, with the
// candidates that were in the window at its time) has its label hidden:
// the candidates are the other clicks plus the clicked one when it fell in
// the window, Posterior and Decide run on them at the precision target,
// and the answer is compared with the click the code named. Rows are per
// messenger and period (period names a message's period, e.g. its month;
// nil puts all in "all"), sorted by messenger then period.
//
// Operators' confirmations (Confirmed) are left out: an operator chose
// among the candidates the matcher showed, so they are no independent
// test.
//
// Every labelled writer clicked, so the proof measures recall and the
// precision among clickers; wrong answers on people who never clicked are
// what the never-clicked rate and the calibration account for.
func Prove(m Model, labelled []Labelled, target float64, period func(time.Time) string) []ProofRow {
	type key struct{ messenger, period string }
	rows := map[key]*ProofRow{}
	window := m.WindowSeconds
	if window <= 0 {
		window = DefaultWindow.Seconds()
	}
	var cands []Click
	var probs []float64
	for i := range labelled {
		l := &labelled[i]
		if l.Confirmed {
			continue
		}
		k := key{l.Message.Messenger, "all"}
		if period != nil {
			k.period = period(l.Message.Time)
		}
		row := rows[k]
		if row == nil {
			row = &ProofRow{Messenger: k.messenger, Period: k.period, Reliability: newBins()}
			rows[k] = row
		}
		row.Messages++
		cands = append(cands[:0], l.Others...)
		truth := -1
		if gap := l.Message.Time.Sub(l.Clicked.At); gap >= -clickSkew && gap.Seconds() <= window {
			truth = len(cands)
			cands = append(cands, l.Clicked)
		}
		probs = slices.Grow(probs[:0], len(cands))[:len(cands)]
		posteriorInto(&m, &l.Message, cands, probs)
		if best := bestOf(probs); best >= 0 {
			row.Reliability = addBin(row.Reliability, probs[best], best == truth)
		}
		if b, ok := Decide(probs, target); ok {
			row.Answered++
			if b == truth {
				row.Correct++
			}
		}
	}
	out := make([]ProofRow, 0, len(rows))
	for _, row := range rows {
		row.Precision = Proportion(row.Correct, row.Answered)
		row.Recall = Proportion(row.Correct, row.Messages)
		finishBins(row.Reliability)
		out = append(out, *row)
	}
	slices.SortFunc(out, func(a, b ProofRow) int {
		if a.Messenger != b.Messenger {
			if a.Messenger < b.Messenger {
				return -1
			}
			return 1
		}
		switch {
		case a.Period < b.Period:
			return -1
		case a.Period > b.Period:
			return 1
		}
		return 0
	})
	return out
}

// bestOf is the index of the largest probability, -1 for none.
func bestOf(probs []float64) int {
	best := -1
	for i, p := range probs {
		if best < 0 || p > probs[best] {
			best = i
		}
	}
	return best
}

// newBins are ten empty confidence deciles.
func newBins() []Bin {
	bins := make([]Bin, 10)
	for i := range bins {
		bins[i].Lo, bins[i].Hi = float64(i)/10, float64(i+1)/10
	}
	return bins
}

// addBin counts one best candidate of probability p in its decile; the
// mean is summed here and divided in finishBins.
func addBin(bins []Bin, p float64, correct bool) []Bin {
	i := min(int(p*10), 9)
	bins[i].Answered++
	if correct {
		bins[i].Correct++
	}
	bins[i].MeanConfidence += p
	return bins
}

// finishBins turns the summed probabilities into means.
func finishBins(bins []Bin) {
	for i := range bins {
		if bins[i].Answered > 0 {
			bins[i].MeanConfidence /= float64(bins[i].Answered)
		}
	}
}
