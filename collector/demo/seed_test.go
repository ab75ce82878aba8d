package demo_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector"
	"github.com/messtrack/messtrack/collector/demo"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

// demoConfig is `make run`'s configuration.
func demoConfig(t testing.TB, getenv func(string) string) *config.Config {
	t.Helper()
	cfg, err := config.Load("../../examples/messtrack.yaml", getenv)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// seedEnd is "now" for the seeded month in these tests.
var seedEnd = time.Date(2026, 5, 20, 10, 30, 0, 0, time.UTC)

// TestSeededMonthIsWhatTheReportsShow: the reports over the seeded month
// show exactly the conversations per channel and per ad, the conversions,
// revenue and ad costs that the seed says it put in.
func TestSeededMonthIsWhatTheReportsShow(t *testing.T) {
	ctx := context.Background()
	cfg := demoConfig(t, nil)
	rdb := redistest.NewUniversal(t)
	clock := store.NewManualClock(seedEnd.AddDate(0, 0, -31))
	srv, err := collector.New(ctx, collector.Options{Config: cfg, Redis: rdb, Clock: clock,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	do := func(r *http.Request) (*http.Response, error) { return srv.App().Test(r, -1) }
	start := time.Now()
	sum, err := demo.Seed(ctx, do, clock, cfg, demo.SeedOptions{Site: "demo", Days: 30, End: seedEnd, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded in %s: %d visits, %d clicks, %d scans, %d chats, %d messages; conversations %v; methods %v",
		time.Since(start).Round(time.Millisecond), sum.Visits, sum.Clicks, sum.Scans, sum.Chats, sum.Messages, sum.Conversations, sum.Methods)
	if sum.From != "2026-04-20" || sum.To != "2026-05-19" {
		t.Errorf("range = %s..%s, want 2026-04-20..2026-05-19", sum.From, sum.To)
	}
	// Every kind of thing the dashboard shows is there.
	for _, ch := range []string{"organic_search", "paid_search", "paid_social", "social", "email", "referral", "direct", "offline", "messenger_ad", "unattributed"} {
		if sum.Conversations[ch] == 0 {
			t.Errorf("no conversations in channel %s", ch)
		}
	}
	for _, m := range []string{"id", "referral", "dedicated_number", "none"} {
		if sum.Methods[m] == 0 {
			t.Errorf("no conversations matched by %s", m)
		}
	}
	if sum.Scans == 0 || len(sum.Costs) == 0 {
		t.Errorf("scans %d, costs %v", sum.Scans, sum.Costs)
	}

	cl := demo.NewClient(do, cfg.Sites["demo"], cfg.PublicURL)
	var channels struct {
		Rows []struct {
			Channel       string   `json:"channel"`
			Conversations int64    `json:"conversations"`
			Conversions   *int64   `json:"conversions"`
			Revenue       *float64 `json:"revenue"`
		} `json:"rows"`
	}
	if err := cl.Report(ctx, "channels", sum.From, sum.To, &channels); err != nil {
		t.Fatal(err)
	}
	gotConv, gotConversions, gotRevenue := map[string]int64{}, map[string]int64{}, map[string]float64{}
	for _, r := range channels.Rows {
		gotConv[r.Channel] += r.Conversations
		if r.Conversions != nil {
			gotConversions[r.Channel] += *r.Conversions
		}
		if r.Revenue != nil {
			gotRevenue[r.Channel] += *r.Revenue
		}
	}
	equalCounts(t, "conversations per channel", gotConv, sum.Conversations)
	equalCounts(t, "conversions per channel", gotConversions, sum.Conversions)
	for ch, want := range sum.Revenue {
		if math.Abs(gotRevenue[ch]-want) > 0.005 {
			t.Errorf("revenue of %s = %.2f, the seed says %.2f", ch, gotRevenue[ch], want)
		}
	}

	var ads struct {
		Rows []struct {
			AdID          string   `json:"ad_id"`
			Title         string   `json:"title"`
			Conversations int64    `json:"conversations"`
			Cost          *float64 `json:"cost"`
		} `json:"rows"`
	}
	if err := cl.Report(ctx, "ads", sum.From, sum.To, &ads); err != nil {
		t.Fatal(err)
	}
	gotAds := map[string]int64{}
	for _, r := range ads.Rows {
		if r.Conversations > 0 {
			gotAds[r.AdID] = r.Conversations
		}
		want, paid := sum.Costs[r.AdID]
		switch {
		case paid && (r.Cost == nil || math.Abs(*r.Cost-want) > 0.005):
			t.Errorf("ad %s cost = %v, the seed uploaded %.2f", r.AdID, r.Cost, want)
		case !paid && r.Cost != nil:
			t.Errorf("ad %s has cost %v; the seed uploaded none", r.AdID, *r.Cost)
		}
	}
	equalCounts(t, "conversations per ad", gotAds, sum.Ads)
	for _, chat := range sum.Unmatched {
		rec, err := cl.Chat(ctx, chat)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Method != "none" || len(rec.Candidates) < 2 {
			t.Errorf("unmatched chat %s: method %s with %d candidates, want none with 2", chat, rec.Method, len(rec.Candidates))
		}
	}
	raw, _ := json.Marshal(sum)
	t.Logf("summary: %s", raw)
}

// TestSeedRefusesAConfigThatIsNotTheDemo: a site without demo: true is
// never written to.
func TestSeedRefusesAConfigThatIsNotTheDemo(t *testing.T) {
	cfg := demoConfig(t, nil)
	cfg.Sites["demo"].Demo = false
	_, err := demo.Seed(context.Background(), func(*http.Request) (*http.Response, error) {
		t.Fatal("the seed sent a request for a site that is not the demo")
		return nil, nil
	}, store.NewManualClock(seedEnd), cfg, demo.SeedOptions{Site: "demo", Days: 30, End: seedEnd})
	if err == nil {
		t.Fatal("the seed ran on a site without demo: true")
	}
	t.Log(err)
}

func equalCounts(t *testing.T, what string, got, want map[string]int64) {
	t.Helper()
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %s = %d in the reports, the seed says %d", what, k, got[k], w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && g != 0 {
			t.Errorf("%s: %s = %d in the reports, the seed put in none", what, k, g)
		}
	}
}
