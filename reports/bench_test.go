package reports

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

var benchSessions = flag.Int("sessions", 1_000_000, "sessions BenchmarkAdsReport builds")

// benchRange is 90 days that do not start on a month's first day, so the
// report reads days at both edges and whole months between.
var benchRange = Range{From: "2026-01-15", To: "2026-04-14"}

const benchAds = 300

// buildBenchSite records *benchSessions attributed conversations over
// benchRange (people writing again now and then, so new sessions close old
// ones), conversion events for about 30% of them and a cost row per ad and
// day, all through the Store's batch methods: the same Lua scripts and key
// layout as live traffic, pipelined.
func buildBenchSite(b *testing.B, w *testWorld) {
	rng := rand.New(rand.NewPCG(1, 1_000_000))
	from, _ := time.Parse(dateLayout, benchRange.From)
	days := benchRange.days()
	n := *benchSessions
	chats := n * 7 / 10
	w.clock.Set(from)
	if _, err := w.st.ConversionEvents(w.ctx, "demo"); err != nil { // purchase from the range's start
		b.Fatal(err)
	}
	const batch = 20_000
	convs := make([]Conversation, 0, batch)
	var events []Event
	flush := func() {
		if err := w.st.RecordConversations(w.ctx, convs); err != nil {
			b.Fatal(err)
		}
		convs = convs[:0]
	}
	step := time.Duration(days) * 24 * time.Hour / time.Duration(n)
	for i := 0; i < n; i++ {
		// Conversations in time order, spread evenly over the days.
		at := from.Add(time.Duration(i) * step)
		ad := rng.IntN(benchAds)
		chat := "whatsapp:" + strconv.Itoa(10_000_000+rng.IntN(chats))
		convs = append(convs, Conversation{
			Site: "demo", Chat: chat, Time: at, Method: "referral",
			Channel: "messenger_ad", UTMSource: "facebook",
			AdID: "1200000000" + strconv.Itoa(100_000+ad), AdTitle: "Ad " + strconv.Itoa(ad), AdType: "ad",
		})
		if rng.IntN(10) < 3 {
			events = append(events, Event{
				Site: "demo", Chat: chat, Category: "purchase", ID: "e" + strconv.Itoa(i),
				Time: at.Add(time.Duration(rng.IntN(10*24*3600)) * time.Second), Value: float64(rng.IntN(20000)) / 100,
			})
		}
		if len(convs) == batch {
			flush()
		}
	}
	flush()
	for start := 0; start < len(events); start += batch {
		if _, err := w.st.RecordEvents(w.ctx, events[start:min(start+batch, len(events))]); err != nil {
			b.Fatal(err)
		}
	}
	var rows []CostRow
	for d := 0; d < days; d++ {
		for ad := 0; ad < benchAds; ad++ {
			rows = append(rows, CostRow{
				Date: from.AddDate(0, 0, d).Format(dateLayout), AdID: "1200000000" + strconv.Itoa(100_000+ad),
				Cost: float64(rng.IntN(10000)) / 100, Reach: int64(rng.IntN(2000)), Impressions: 3000, Clicks: 40,
			})
		}
	}
	if err := w.st.AddCosts(w.ctx, "demo", rows); err != nil {
		b.Fatal(err)
	}
}

// scanAd is one ad's numbers as the full scan computes them.
type scanAd struct {
	conversations, conversions, revenue, cost int64
}

// fullScan computes the ads report's numbers from the raw records: every
// chat's stored sessions (SCAN + MGET) and every day's cost rows, without
// the aggregates. It is the baseline the aggregates must agree with.
func fullScan(ctx context.Context, w *testWorld, site string, r Range) (map[string]*scanAd, error) {
	out := map[string]*scanAd{}
	get := func(ad string) *scanAd {
		a := out[ad]
		if a == nil {
			a = &scanAd{}
			out[ad] = a
		}
		return a
	}
	err := store.ScanSite(ctx, w.rdb, site, store.ReportChatPattern(site), func(keys []string) error {
		vals, err := w.rdb.MGet(ctx, keys...).Result()
		if err != nil {
			return err
		}
		for _, v := range vals {
			raw, _ := v.(string)
			list, err := decodeConversations(raw)
			if err != nil {
				return err
			}
			for _, c := range list {
				if c.N == nil {
					continue
				}
				s := c.N
				ad := s.G[dimAd]
				if ad == "" || s.D < r.From || s.D > r.To {
					continue
				}
				a := get(ad)
				a.conversations++
				if s.X > 0 {
					a.conversions++
					a.revenue += s.V
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	f, _ := time.Parse(dateLayout, r.From)
	t, _ := time.Parse(dateLayout, r.To)
	for d := f; !d.After(t); d = d.AddDate(0, 0, 1) {
		hs, err := w.st.costHashes(ctx, site, []string{d.Format(dateLayout)})
		if err != nil {
			return nil, err
		}
		for field, v := range hs[0] {
			if ad, ok := strings.CutPrefix(field, "c:"); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				get(ad).cost += n
			}
		}
	}
	return out, nil
}

// fromReport turns the ads report back into the scan's numbers.
func fromReport(rep *AdsReport) map[string]*scanAd {
	out := map[string]*scanAd{}
	for _, r := range rep.Rows {
		a := &scanAd{conversations: r.Conversations, conversions: *r.Conversions, revenue: r.revenue}
		if r.hasCost {
			a.cost = r.cost
		}
		out[r.AdID] = a
	}
	return out
}

// BenchmarkAdsReport times the ads report over 90 days of a site with a
// million sessions (from the aggregates) beside the full scan of the raw
// session records computing the same numbers; the two must agree. Run with
// `make bench` or `go test ./reports -run '^$' -bench AdsReport -benchtime 20x`.
func BenchmarkAdsReport(b *testing.B) {
	w := newWorld(b)
	began := time.Now()
	buildBenchSite(b, w)
	fmt.Printf("setup: %d sessions over %d days, %d ads, built in %s\n", *benchSessions, benchRange.days(), benchAds,
		time.Since(began).Round(time.Millisecond))
	fmt.Printf("redis used memory %.1fM\n", float64(redistest.UsedMemory(b, w.rdb))/(1<<20))

	rep, err := w.st.Ads(w.ctx, "demo", benchRange)
	if err != nil {
		b.Fatal(err)
	}
	scan, err := fullScan(w.ctx, w, "demo", benchRange)
	if err != nil {
		b.Fatal(err)
	}
	agg := fromReport(rep)
	if !maps.EqualFunc(agg, scan, func(x, y *scanAd) bool { return *x == *y }) {
		for ad, s := range scan {
			if a := agg[ad]; a == nil || *a != *s {
				b.Fatalf("ad %s: report %+v, full scan %+v", ad, a, s)
			}
		}
		b.Fatalf("report has %d ads, full scan %d", len(agg), len(scan))
	}
	if rep.Totals.Conversations != int64(*benchSessions) {
		b.Fatalf("report counts %d sessions, want %d", rep.Totals.Conversations, *benchSessions)
	}
	fmt.Printf("report and full scan agree: %d ads, %d sessions, %d conversions\n",
		len(agg), rep.Totals.Conversations, *rep.Totals.Conversions)

	var reportPerOp, scanPerOp time.Duration
	b.Run("report", func(b *testing.B) {
		b.ReportAllocs()
		start := time.Now()
		for b.Loop() {
			if _, err := w.st.Ads(w.ctx, "demo", benchRange); err != nil {
				b.Fatal(err)
			}
		}
		reportPerOp = time.Since(start) / time.Duration(b.N)
	})
	b.Run("fullscan", func(b *testing.B) {
		b.ReportAllocs()
		start := time.Now()
		for b.Loop() {
			if _, err := fullScan(w.ctx, w, "demo", benchRange); err != nil {
				b.Fatal(err)
			}
		}
		scanPerOp = time.Since(start) / time.Duration(b.N)
		if reportPerOp > 0 {
			b.ReportMetric(float64(scanPerOp)/float64(reportPerOp), "x_report")
		}
	})
	if reportPerOp > 0 && scanPerOp > 0 {
		fmt.Printf("ads report %s, full scan %s: the report takes 1/%.0f of the scan's time\n",
			reportPerOp.Round(time.Microsecond), scanPerOp.Round(time.Millisecond), float64(scanPerOp)/float64(reportPerOp))
	}
}
