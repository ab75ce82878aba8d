package posterior

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// The grid: every density and never-clicked share, three sites each, the
// learned model fitted on the first half of each world (its id matches and
// its code-less messages) and judged on the code-less messages of the
// second half, beside the oracle and today's formula.
//
//	go test ./collector/posterior/ -run TestSimulationGrid -v

var (
	gridDensities = []float64{6, 12, 30, 60}
	gridNever     = []float64{0, 0.1, 0.25, 0.5}
)

// arm counts one matcher's answers.
type arm struct{ answered, correct int }

type cellResult struct {
	density, never float64
	// lost is the code-less messages from clickers; never those from
	// people who never clicked (judged, never counted in recall).
	lost, neverMsgs int
	learned         arm
	oracle          arm
	today           arm
	bins            []Bin
	oracleBins      []Bin
	labelled        int
	unlabelled      int
}

// clicksPerTargetHalf sizes each half of a world up to 12 clicks/h.
func clicksPerTargetHalf() float64 {
	if testing.Short() {
		return 700
	}
	return 1500
}

// halfHours is the length of each half of a world: clicksPerTargetHalf
// clicks per target, and above 12 clicks/h as many hours as at 12/h, so
// that the oracle's small recall at high densities is measured on more
// code-lost chats.
func halfHours(density float64) float64 {
	return clicksPerTargetHalf() / min(density, 12)
}

func runCell(density, never float64, seed uint64) cellResult {
	res := cellResult{density: density, never: never, bins: newBins(), oracleBins: newBins()}
	for si, site := range simSites() {
		p := simWorldParams{seed: seed*100 + uint64(si), density: density, never: never,
			hours: halfHours(density), window: DefaultWindow.Seconds()}
		w := newSimWorld(site, p)
		d := w.split()
		m := Fit(DefaultModel(), d.labelled, d.unlabelled)
		res.labelled += len(d.labelled)
		res.unlabelled += len(d.unlabelled)
		res.lost += d.lost
		var cands []Click
		var probs, oprobs, weights []float64
		for i := range d.eval {
			e := &d.eval[i]
			if e.truth < 0 {
				res.neverMsgs++
			}
			cands = cands[:0]
			truth := -1
			for j, ci := range d.evalCands[i] {
				cands = append(cands, w.clicks[ci].click)
				if ci == e.truth {
					truth = j
				}
			}
			probs = make([]float64, len(cands))
			oprobs = make([]float64, len(cands))
			weights = make([]float64, len(cands))
			posteriorInto(&m, &e.msg, cands, probs)
			if b := bestOf(probs); b >= 0 {
				addBin(res.bins, probs[b], b == truth)
			}
			if b, ok := Decide(probs, DefaultTarget); ok {
				res.learned.answered++
				if b == truth {
					res.learned.correct++
				}
			}
			w.oracle(e, d.evalCands[i], oprobs)
			if b := bestOf(oprobs); b >= 0 {
				addBin(res.oracleBins, oprobs[b], b == truth)
			}
			if b, ok := Decide(oprobs, DefaultTarget); ok {
				res.oracle.answered++
				if b == truth {
					res.oracle.correct++
				}
			}
			tm := todayMessage{Time: e.msg.Time, Country: e.msg.PhoneCountry, Offsets: e.baseline, Language: e.msg.Language}
			if b, _, ok := todayDecide(&tm, cands, weights); ok {
				res.today.answered++
				if b == truth {
					res.today.correct++
				}
			}
		}
	}
	finishBins(res.bins)
	finishBins(res.oracleBins)
	return res
}

// runGrid runs every cell, two at a time.
func runGrid() []cellResult {
	var cells []cellResult
	for _, d := range gridDensities {
		for _, n := range gridNever {
			cells = append(cells, cellResult{density: d, never: n})
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(1, min(runtime.GOMAXPROCS(0), 2)))
	for i := range cells {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			cells[i] = runCell(cells[i].density, cells[i].never, uint64(1+i))
		}()
	}
	wg.Wait()
	return cells
}

func pct(iv Interval) string {
	return fmt.Sprintf("%.1f %% [%.1f, %.1f]", 100*iv.Value, 100*iv.Lo, 100*iv.Hi)
}

// minDecile is how many answers a confidence decile needs to be judged for
// calibration: with fewer, chance alone moves it by more than 5 points.
const minDecile = 300

// calibrationGap is the largest |accuracy − mean confidence| over the
// deciles with enough answers.
func calibrationGap(bins []Bin) (gap float64, judged int) {
	for _, b := range bins {
		if b.Answered < minDecile {
			continue
		}
		judged++
		gap = max(gap, math.Abs(float64(b.Correct)/float64(b.Answered)-b.MeanConfidence))
	}
	return gap, judged
}

func TestSimulationGrid(t *testing.T) {
	cells := runGrid()
	var tb strings.Builder
	tb.WriteString("| clicks/h/target | never-clicked | code-lost (+never) | learned precision | learned recall | oracle recall | learned/oracle | calibration gap (deciles) | oracle's gap | today precision | today recall |\n")
	tb.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range cells {
		lp := Proportion(c.learned.correct, c.learned.answered)
		lr := Proportion(c.learned.correct, c.lost)
		or := Proportion(c.oracle.correct, c.lost)
		tp := Proportion(c.today.correct, c.today.answered)
		tr := Proportion(c.today.correct, c.lost)
		gap, judged := calibrationGap(c.bins)
		ogap, _ := calibrationGap(c.oracleBins)
		ratio := 0.0
		if or.Value > 0 {
			ratio = lr.Value / or.Value
		}
		fmt.Fprintf(&tb, "| %.0f | %.0f %% | %d (+%d) | %s | %s | %s | %.2f | %.1f pts (%d) | %.1f pts | %s | %s |\n",
			c.density, 100*c.never, c.lost, c.neverMsgs, pct(lp), pct(lr), pct(or), ratio, 100*gap, judged, 100*ogap, pct(tp), pct(tr))
		name := fmt.Sprintf("%.0f/h, never-clicked %.0f %%", c.density, 100*c.never)
		if c.learned.answered == 0 || lp.Hi < DefaultTarget {
			t.Errorf("%s: learned precision %s below %.0f %%", name, pct(lp), 100*DefaultTarget)
		}
		// The goals are calibration within 5 points and recall at least 80 %
		// of the oracle's; the model meets them in most cells, not all
		// (README). Misses are reported; a miss beyond the regression
		// guards (10 points, 60 %) fails.
		if gap > 0.05 {
			t.Logf("%s: goal missed: calibration off by %.1f points", name, 100*gap)
		}
		if gap > 0.10 {
			t.Errorf("%s: calibration off by %.1f points: %+v", name, 100*gap, c.bins)
		}
		if lr.Value < 0.8*or.Value {
			t.Logf("%s: goal missed: learned recall %s below 80 %% of the oracle's %s", name, pct(lr), pct(or))
		}
		if lr.Value < 0.6*or.Value {
			t.Errorf("%s: learned recall %s below 60 %% of the oracle's %s", name, pct(lr), pct(or))
		}
		t.Logf("%s: oracle precision %s", name, pct(Proportion(c.oracle.correct, c.oracle.answered)))
	}
	t.Log("\n" + tb.String())
}
