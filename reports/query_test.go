package reports

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestPeriods(t *testing.T) {
	tests := []struct {
		name string
		r    Range
		want []string
	}{
		{name: "one day", r: Range{From: "2026-03-05", To: "2026-03-05"}, want: []string{"2026-03-05"}},
		{name: "a whole month", r: Range{From: "2026-02-01", To: "2026-02-28"}, want: []string{"2026-02"}},
		{name: "a block and its neighbours", r: Range{From: "2026-03-10", To: "2026-03-21"},
			want: []string{"2026-03-10", "2026-03-b2", "2026-03-21"}},
		{name: "the last block runs to the month's end", r: Range{From: "2026-02-21", To: "2026-03-10"},
			want: []string{"2026-02-b3", "2026-03-b1"}},
		{name: "ninety days off the month's start", r: Range{From: "2026-01-15", To: "2026-04-14"},
			want: []string{"2026-01-15", "2026-01-16", "2026-01-17", "2026-01-18", "2026-01-19", "2026-01-20",
				"2026-01-b3", "2026-02", "2026-03", "2026-04-b1", "2026-04-11", "2026-04-12", "2026-04-13", "2026-04-14"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := periods(tt.r); !slices.Equal(got, tt.want) {
				t.Errorf("periods(%v) = %v, want %v", tt.r, got, tt.want)
			}
		})
	}
}

// TestRollupsMatchDays checks the day, block and month aggregates against
// each other: any range must give the same numbers as its days added up.
func TestRollupsMatchDays(t *testing.T) {
	w := newWorld(t)
	buildFixture(t, w)
	type sums struct{ conversations, conversions, cost int64 }
	totals := func(r Range) sums {
		rep, err := w.st.Ads(w.ctx, "demo", r)
		if err != nil {
			t.Fatal(err)
		}
		return sums{rep.Totals.Conversations, *rep.Totals.Conversions, rep.Totals.cost}
	}
	first := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	daily := map[string]sums{}
	for d := first; d.Before(first.AddDate(0, 0, 45)); d = d.AddDate(0, 0, 1) {
		day := d.Format(dateLayout)
		daily[day] = totals(Range{From: day, To: day})
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 40; i++ {
		a, b := rng.IntN(45), rng.IntN(45)
		if a > b {
			a, b = b, a
		}
		r := Range{From: first.AddDate(0, 0, a).Format(dateLayout), To: first.AddDate(0, 0, b).Format(dateLayout)}
		var want sums
		for d := a; d <= b; d++ {
			s := daily[first.AddDate(0, 0, d).Format(dateLayout)]
			want.conversations += s.conversations
			want.conversions += s.conversions
			want.cost += s.cost
		}
		if got := totals(r); got != want {
			t.Errorf("%v: %+v, days add up to %+v", r, got, want)
		}
	}
}
