package reports

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite reports/testdata/*.golden from the current output")

// fixtureRange is the range the golden reports cover; the generated facts
// start two weeks earlier so that the previous period has numbers too.
var fixtureRange = Range{From: "2026-03-16", To: "2026-04-12"}

// fixtureAd is an ad the generator draws from; a web campaign has no ID of
// its own (the report derives it from UTM tags) and no cost rows.
type fixtureAd struct {
	id, title, typ, channel, source, campaign, content string
	costs                                              bool
}

var fixtureAds = []fixtureAd{
	{id: "120000000000000001", title: "Succulents - image A", typ: "ad", channel: "messenger_ad", source: "facebook", costs: true},
	{id: "120000000000000002", title: "Succulents - video B", typ: "ad", channel: "messenger_ad", source: "instagram", costs: true},
	{id: "120000000000000003", title: "Shop post", typ: "post", channel: "messenger_ad", source: "facebook"},
	// A title an ad platform passes on as typed: CSV must not run it.
	{id: "120000000000000004", title: `=HYPERLINK("http://evil.example","win")`, typ: "ad", channel: "messenger_ad", source: "facebook", costs: true},
	{channel: "paid_search", source: "google", campaign: "spring", content: "banner-a"},
	{channel: "paid_search", source: "google", campaign: "spring", content: "text-b"},
	{channel: "organic_search", source: "google"},
	{channel: "offline", source: "flyer"},
	{channel: "referral", source: "blog.example"},
	{channel: "direct"},
}

var fixturePages = []string{
	"https://shop.example/", "https://shop.example/cacti?utm_source=google&gclid=abc", "https://shop.example/succulents",
	"https://shop.example/delivery", "https://shop.example/contacts#map",
}

// fact is one generated input, applied in order of delivery.
type fact struct {
	deliver time.Time
	conv    *Conversation
	event   *Event
	choose  string
}

// buildFixture fills site demo with six weeks of facts from a fixed seed:
// conversations (15% unattributed, people writing again), conversion and
// other events (some replayed, some delivered days late), daily ad costs,
// and a change of the conversion event from purchase to won on 2026-03-30.
func buildFixture(t testing.TB, w *testWorld) {
	t.Helper()
	facts, costs := fixtureFacts()
	w.clock.Set(fixtureStart)
	for _, f := range facts {
		w.clock.Set(f.deliver)
		switch {
		case f.conv != nil:
			if err := w.st.RecordConversation(w.ctx, *f.conv); err != nil {
				t.Fatalf("conversation %+v: %v", f.conv, err)
			}
		case f.event != nil:
			if _, err := w.st.RecordEvent(w.ctx, *f.event); err != nil {
				t.Fatalf("event %+v: %v", f.event, err)
			}
		default:
			if err := w.st.SetConversionEvent(w.ctx, "demo", f.choose); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.st.AddCosts(w.ctx, "demo", costs); err != nil {
		t.Fatalf("costs: %v", err)
	}
	w.clock.Set(time.Date(2026, 4, 13, 9, 0, 0, 0, time.UTC))
}

// fixtureStart is the generated facts' first day.
var fixtureStart = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// fixtureFacts generates the fixture's facts in order of delivery, and its
// cost rows, from a fixed seed. TestFixtureFile keeps them as data for the
// dashboard's tests.
func fixtureFacts() ([]fact, []CostRow) {
	rng := rand.New(rand.NewPCG(20260302, 7))
	start := fixtureStart
	change := time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC)
	var facts []fact
	var costs []CostRow
	for d := 0; d < 42; d++ {
		dayStart := start.AddDate(0, 0, d)
		n := 5 + rng.IntN(11)
		var times []time.Time
		for i := 0; i < n; i++ {
			times = append(times, dayStart.Add(time.Duration(rng.IntN(86400))*time.Second))
		}
		sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
		for _, at := range times {
			chat := fmt.Sprintf("whatsapp:1555000%04d", rng.IntN(160))
			c := &Conversation{Site: "demo", Chat: chat, Time: at, Messenger: "whatsapp"}
			if rng.IntN(100) < 15 {
				c.Method = "none"
			} else {
				ad := fixtureAds[rng.IntN(len(fixtureAds))]
				c.Method = []string{"id", "id", "referral", "heuristic"}[rng.IntN(4)]
				c.Channel, c.UTMSource, c.UTMCampaign, c.UTMContent = ad.channel, ad.source, ad.campaign, ad.content
				if ad.id != "" {
					c.Method, c.AdID, c.AdTitle, c.AdType = "referral", ad.id, ad.title, ad.typ
				} else {
					c.Page = fixturePages[rng.IntN(len(fixturePages))]
					c.Landing = fixturePages[rng.IntN(3)]
				}
				if ad.channel == "offline" {
					c.Source, c.UTMSource = "flyer", ""
				}
				if ad.channel == "referral" {
					c.Referrer, c.UTMSource = "https://blog.example/post/1", ""
				}
			}
			// Most deliveries are prompt; some arrive a day late.
			deliver := at.Add(time.Duration(rng.IntN(60)) * time.Second)
			if rng.IntN(20) == 0 {
				deliver = deliver.Add(26 * time.Hour)
			}
			facts = append(facts, fact{deliver: deliver, conv: c})
			if c.Method == "none" {
				continue
			}
			for k := 0; k < 2; k++ {
				roll := rng.IntN(100)
				if roll >= 45 {
					continue
				}
				et := at.Add(time.Duration(1+rng.IntN(20*24)) * time.Hour)
				cat := "purchase"
				switch {
				case roll < 8:
					cat = "lead"
				case et.After(change) && roll < 38:
					cat = "won"
				}
				e := &Event{Site: "demo", Chat: chat, Category: cat, Time: et,
					Value: float64(20+rng.IntN(380)) / 2, ID: fmt.Sprintf("crm-%d-%d-%d", d, rng.IntN(1e6), k)}
				facts = append(facts, fact{deliver: et.Add(time.Minute), event: e})
				if rng.IntN(10) == 0 { // the CRM retries
					facts = append(facts, fact{deliver: et.Add(2 * time.Hour), event: e})
				}
			}
		}
		for _, ad := range fixtureAds {
			if !ad.costs || rng.IntN(10) == 0 { // some days without delivery
				continue
			}
			reach := int64(200 + rng.IntN(800))
			costs = append(costs, CostRow{
				Date: dayStart.Format(dateLayout), AdID: ad.id, Title: ad.title,
				Cost: float64(500+rng.IntN(5000)) / 100, Reach: reach, Impressions: reach + int64(rng.IntN(300)),
				Clicks: int64(rng.IntN(40)), Currency: "USD",
			})
		}
	}
	facts = append(facts, fact{deliver: change, choose: "won"})
	sort.SliceStable(facts, func(i, j int) bool { return facts[i].deliver.Before(facts[j].deliver) })
	return facts, costs
}

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./reports -run TestGolden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run with -update if the change is meant)", name, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s differs in length: got %d lines, want %d", name, len(gl), len(wl))
	}
}

func TestGoldenReports(t *testing.T) {
	w := newWorld(t)
	buildFixture(t, w)
	type report interface{ Table }
	reports := []struct {
		name string
		get  func() (report, error)
	}{
		{"ads", func() (report, error) { return w.st.Ads(w.ctx, "demo", fixtureRange) }},
		{"channels", func() (report, error) { return w.st.Channels(w.ctx, "demo", fixtureRange) }},
		{"pages", func() (report, error) { return w.st.Pages(w.ctx, "demo", fixtureRange) }},
		{"newrepeat", func() (report, error) { return w.st.NewRepeat(w.ctx, "demo", fixtureRange) }},
	}
	for _, by := range Groupings {
		reports = append(reports, struct {
			name string
			get  func() (report, error)
		}{"dynamics_" + by, func() (report, error) { return w.st.Dynamics(w.ctx, "demo", fixtureRange, by) }})
	}
	for _, r := range reports {
		t.Run(r.name, func(t *testing.T) {
			rep, err := r.get()
			if err != nil {
				t.Fatal(err)
			}
			js, err := json.MarshalIndent(rep, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, r.name+".json.golden", append(js, '\n'))
			var csvOut bytes.Buffer
			if err := WriteCSV(&csvOut, rep); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, r.name+".csv.golden", csvOut.Bytes())
			var table bytes.Buffer
			if err := WriteTable(&table, rep); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, r.name+".txt.golden", table.Bytes())
		})
	}
}

// TestFixtureInvariants checks what the golden files must show whatever the
// generator draws: rates within [0, 1], totals that add up, the conversion
// event change visible, a null cost with its note.
func TestFixtureInvariants(t *testing.T) {
	w := newWorld(t)
	buildFixture(t, w)
	ads, err := w.st.Ads(w.ctx, "demo", fixtureRange)
	if err != nil {
		t.Fatal(err)
	}
	var conversations, conversions int64
	sawNullCost := false
	for _, r := range ads.Rows {
		conversations += r.Conversations
		conversions += *r.Conversions
		if r.ConversionRate != nil && (*r.ConversionRate < 0 || *r.ConversionRate > 1) {
			t.Errorf("%s: conversion rate %v", r.AdID, *r.ConversionRate)
		}
		if r.Cost == nil {
			sawNullCost = sawNullCost || r.Notes["cost"] == noteNoCost
		}
	}
	if conversations != ads.Totals.Conversations || conversions != *ads.Totals.Conversions {
		t.Errorf("totals %d/%d, rows add up to %d/%d", ads.Totals.Conversations, *ads.Totals.Conversions, conversations, conversions)
	}
	if !sawNullCost {
		t.Error("no ad without cost rows shows a null cost with its note")
	}
	by := ads.Totals.ConversionsByEvent
	if by["purchase"] == 0 || by["won"] == 0 || by["purchase"]+by["won"] != conversions {
		t.Errorf("conversions by event %v, total %d: both categories must count", by, conversions)
	}
	ch, err := w.st.Channels(w.ctx, "demo", fixtureRange)
	if err != nil {
		t.Fatal(err)
	}
	// Sessions from organic search, flyers or referrals have no ad: the
	// channels report holds every conversion, the ads report a part.
	if *ch.Totals.Conversions < conversions || ch.Totals.Sessions < conversations {
		t.Errorf("channels: %d sessions %d conversions, fewer than the ads report's %d and %d",
			ch.Totals.Sessions, *ch.Totals.Conversions, conversations, conversions)
	}
	dyn, err := w.st.Dynamics(w.ctx, "demo", fixtureRange, "week")
	if err != nil {
		t.Fatal(err)
	}
	if dyn.Totals.Conversations != ch.Totals.Conversations || *dyn.Totals.Conversions != *ch.Totals.Conversions {
		t.Errorf("dynamics totals %+v disagree with channels %+v", dyn.Totals, ch.Totals)
	}
	if len(dyn.Rows) != 4 || dyn.Previous.Conversations == 0 {
		t.Errorf("weeks %d, previous %+v", len(dyn.Rows), dyn.Previous)
	}
}
