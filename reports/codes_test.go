package reports

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestCodesReportCounts(t *testing.T) {
	w := newWorld(t)
	day := t0.Add(time.Hour)
	dims := CodeDims{Format: "token", Template: "abcd0123", Language: "en", Device: "mobile", Channel: "paid_social", Page: "https://shop.test/p?x=1"}
	var facts []CodeFact
	for i := 0; i < 10; i++ {
		facts = append(facts, CodeFact{Site: "demo", Time: day, Click: true, Dims: dims})
	}
	for i, o := range []string{CodeKept, CodeKept, CodeKept, CodeEdited, CodeDeleted} {
		facts = append(facts, CodeFact{Site: "demo", Time: day, Outcome: o, Dims: dims, Delay: time.Duration(10*(i+1)) * time.Second, HasDelay: true})
	}
	facts = append(facts, CodeFact{Site: "demo", Time: day, Outcome: CodeUnlinked, Dims: CodeDims{Format: "token"}})
	// A fact taken back: an operator moved a deleted code to another visit.
	facts = append(facts, CodeFact{Site: "demo", Time: day, Outcome: CodeDeleted, Dims: dims, Delay: time.Second, HasDelay: true},
		CodeFact{Site: "demo", Time: day, Outcome: CodeDeleted, Dims: dims, Delay: time.Second, HasDelay: true, Undo: true})
	if err := w.st.RecordCodes(w.ctx, facts...); err != nil {
		t.Fatal(err)
	}
	for _, r := range []Range{{From: "2026-03-02", To: "2026-03-02"}, {From: "2026-03-01", To: "2026-03-31"}, {From: "2026-02-20", To: "2026-04-03"}} {
		rep, err := w.st.Codes(w.ctx, "demo", r)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Rows) != len(codeDims) {
			t.Fatalf("%v: %d rows, want one per dimension: %+v", r, len(rep.Rows), rep.Rows)
		}
		for _, row := range rep.Rows {
			if row.Clicks != 10 || row.Chats != 5 || row.Kept != 3 || row.Edited != 1 || row.Deleted != 1 || row.NoChat != 5 {
				t.Errorf("%v %s: %+v", r, row.Dimension, row)
			}
			if row.Dimension == "format" && row.Unlinked != 1 {
				t.Errorf("format unlinked %d, want 1", row.Unlinked)
			}
			if *row.Survival != 0.6 || *row.SurvivalLow > 0.6 || *row.SurvivalHigh < 0.6 {
				t.Errorf("survival %v [%v, %v]", *row.Survival, *row.SurvivalLow, *row.SurvivalHigh)
			}
			// Times 10..50 s: the median 30 s and the 90th percentile
			// 45-50 s, within a bucket's width.
			if m := *row.MedianSeconds; m < 30/math.Sqrt2 || m > 30*math.Sqrt2 {
				t.Errorf("median %v s, want about 30", m)
			}
			if p := *row.P90Seconds; p < 45/math.Sqrt2 || p > 50*math.Sqrt2 {
				t.Errorf("p90 %v s, want about 45-50", p)
			}
		}
	}
	rep, err := w.st.Codes(w.ctx, "demo", Range{From: "2026-03-03", To: "2026-03-05"})
	if err != nil || len(rep.Rows) != 0 {
		t.Fatalf("other days: %+v, %v", rep, err)
	}
}

// The histogram's quantiles over a lognormal sample stay within a few per
// cent of the sample's own.
func TestDelayQuantiles(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	var h [delayBuckets]int64
	const n = 20000
	for i := 0; i < n; i++ {
		h[delayBucket(time.Duration(40*math.Exp(0.9*r.NormFloat64())*float64(time.Second)))]++
	}
	med, p90 := *quantile(&h, 0.5), *quantile(&h, 0.9)
	wantP90 := 40 * math.Exp(0.9*1.2816)
	if math.Abs(med/40-1) > 0.06 || math.Abs(p90/wantP90-1) > 0.06 {
		t.Errorf("median %.1f (want 40), p90 %.1f (want %.1f)", med, p90, wantP90)
	}
}

// The readout's error rate over repeated seeds: when every template keeps
// codes equally often it names a winner at most alpha of the time; when
// one is truly better it never names the worse one more than alpha/2 of
// the time, and with 1,000 chats a template it finds the better one.
//
//	go test ./reports -run TestExperimentErrorRate -v
func TestExperimentErrorRate(t *testing.T) {
	const seeds = 2000
	run := func(rates []float64, chats int, seed uint64) *ExperimentsReport {
		r := rand.New(rand.NewPCG(seed, 99))
		rows := make([]ExperimentRow, len(rates))
		for i, p := range rates {
			rows[i].Template = string(rune('a' + i))
			rows[i].Clicks, rows[i].Chats = int64(2*chats), int64(chats)
			for j := 0; j < chats; j++ {
				if r.Float64() < p {
					rows[i].Kept++
				}
			}
		}
		return ReadExperiment(rows)
	}
	tests := []struct {
		name  string
		rates []float64
		chats int
		// best is the truly better template, "" when all are alike.
		best     string
		maxWrong float64
		minRight float64
	}{
		{name: "two alike", rates: []float64{0.8, 0.8}, chats: 1000, maxWrong: ExperimentAlpha},
		{name: "three alike", rates: []float64{0.7, 0.7, 0.7}, chats: 1000, maxWrong: ExperimentAlpha},
		{name: "b better by 5 points", rates: []float64{0.80, 0.85}, chats: 1000, best: "b", maxWrong: ExperimentAlpha / 2, minRight: 0.80},
		{name: "c better among three", rates: []float64{0.75, 0.75, 0.82}, chats: 1000, best: "c", maxWrong: ExperimentAlpha / 2, minRight: 0.80},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wrong, right := 0, 0
			for s := uint64(1); s <= seeds; s++ {
				rep := run(tt.rates, tt.chats, s)
				switch {
				case rep.Keep == "":
				case rep.Keep == tt.best:
					right++
				default:
					wrong++
				}
			}
			// Three standard errors of the rate over the seeds.
			slack := 3 * math.Sqrt(tt.maxWrong*(1-tt.maxWrong)/seeds)
			t.Logf("%s: %d seeds, a wrong template kept %.2f%%, the better one %.1f%%", tt.name, seeds, 100*float64(wrong)/seeds, 100*float64(right)/seeds)
			if float64(wrong)/seeds > tt.maxWrong+slack {
				t.Errorf("a wrong template kept %d of %d times, above %.3f", wrong, seeds, tt.maxWrong)
			}
			if float64(right)/seeds < tt.minRight {
				t.Errorf("the better template kept %d of %d times, below %.2f", right, seeds, tt.minRight)
			}
		})
	}
}

func TestWilson(t *testing.T) {
	lo, hi := Wilson(81, 263)
	// The textbook example: 81/263 gives [0.2553, 0.3662].
	if math.Abs(lo-0.2553) > 1e-3 || math.Abs(hi-0.3662) > 1e-3 {
		t.Errorf("Wilson(81, 263) = [%.4f, %.4f]", lo, hi)
	}
}

// TestStoredDimsCountTheSameFields: a fact counted with raw dimensions is
// taken back exactly by its undo with the stored ones.
func TestStoredDimsCountTheSameFields(t *testing.T) {
	w := newWorld(t)
	d := CodeDims{Format: "token", Template: "aaaa0001", Language: "", Device: "mobile", Channel: "paid_social",
		Page: "https://Shop.test/roses?utm_source=x&gclid=abc#top"}
	f := CodeFact{Site: "demo", Time: t0, Outcome: CodeDeleted, Dims: d, Delay: time.Minute, HasDelay: true}
	undo := f
	undo.Dims, undo.Undo = d.Stored(), true
	if strings.Contains(undo.Dims.Page, "gclid") || undo.Dims.Language != "(none)" {
		t.Errorf("stored dims %+v", undo.Dims)
	}
	if err := w.st.RecordCodes(w.ctx, f, undo); err != nil {
		t.Fatal(err)
	}
	rep, err := w.st.Codes(w.ctx, "demo", Range{From: "2026-03-01", To: "2026-03-31"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Rows {
		if r.Deleted != 0 || r.MedianSeconds != nil {
			t.Errorf("row %s %s left %d deleted, median %v", r.Dimension, r.Value, r.Deleted, r.MedianSeconds)
		}
	}
}
