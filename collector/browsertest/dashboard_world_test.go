package browsertest

import (
	"bufio"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/dashboard"
	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/reports"
)

// The dashboard's test world, as the collector's own dashboard tests build
// it: a collector whose matcher hands its facts to its reports.Store, the
// reports' generated fixture replayed into that store, and chats made
// through the matcher from visits and messages, a few of them carrying
// hostile strings.

// dashFixtureRange is the range of the reports' golden files.
var dashFixtureRange = dashboard.Range{From: "2026-03-16", To: "2026-04-12"}

// dashFixtureStart is the fixture's first day. The collector starts then:
// it records the site's configured conversion event when it starts, and
// only events after that choice count.
var dashFixtureStart = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// dashAfterFixture is the day after the fixture, when the matcher's chats
// of this world happen, so that they leave the fixture's range untouched.
var dashAfterFixture = time.Date(2026, 4, 13, 8, 0, 0, 0, time.UTC)

// Hostile strings planted where visitors and platforms write: each would
// run a script or open a link if it reached the page unescaped.
const (
	xssScript   = `<script>window.__pwned="script";alert("script")</script>`
	xssImg      = `<img src=x onerror="window.__pwned='img';alert('img')">`
	xssAttr     = `"><svg onload="window.__pwned='attr';alert('attr')">`
	xssJSURL    = `javascript:window.__pwned='href';alert('href')`
	xssFormula  = `=HYPERLINK("http://evil.example","click")`
	xssAdTitle  = `<script>window.__pwned="ad";alert("ad")</script>`
	xssAdID     = `javascript:alert("adid")`
	xssCampaign = `spring<script>window.__pwned="utm";alert("utm")</script>`
)

// dashWorld is the test world of the dashboard.
type dashWorld struct {
	*testWorld
	reports *reports.Store
	// Chats made through the matcher.
	matchedChat, hostileChat, unmatchedChat string
	// candidateVisits are the unmatched chat's candidates.
	candidateVisits []string
}

func newDashWorld(t testing.TB) *dashWorld {
	t.Helper()
	w := &dashWorld{testWorld: newTestWorldAt(t, dashFixtureStart)}
	// The server hands the matcher's facts to this store and fills chat
	// records' sessions from it.
	w.reports = w.probe.Reports()
	w.replayFixture(t)
	w.makeChats(t)
	return w
}

// goldenAdsTotals reads the totals of the reports' golden ads report, the
// numbers the dashboard must show for the fixture's range.
func goldenAdsTotals(t *testing.T) (conversations, conversions int64) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "reports", "testdata", "ads.json.golden"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Totals struct {
			Conversations int64 `json:"conversations"`
			Conversions   int64 `json:"conversions"`
		} `json:"totals"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	return rep.Totals.Conversations, rep.Totals.Conversions
}

func fixtureQuery(extra ...string) string {
	q := url.Values{"from": {dashFixtureRange.From}, "to": {dashFixtureRange.To}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return "?" + q.Encode()
}

// replayFixture records the reports' generated fixture
// (reports/testdata/fixture.jsonl.golden) into the store, each fact at its
// delivery time, as the reports' golden test does.
func (w *dashWorld) replayFixture(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	f, err := os.Open(filepath.Join("..", "..", "reports", "testdata", "fixture.jsonl.golden"))
	if err != nil {
		t.Fatalf("the reports' fixture: %v", err)
	}
	defer f.Close()
	var costs []reports.CostRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var line struct {
			Deliver      *time.Time
			Conversation *reports.Conversation
			Event        *reports.Event
			Choose       string
			Cost         *reports.CostRow
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("fixture line %d: %v", n, err)
		}
		if line.Deliver != nil {
			w.clock.Set(*line.Deliver)
		}
		switch {
		case line.Conversation != nil:
			err = w.reports.RecordConversation(ctx, *line.Conversation)
		case line.Event != nil:
			_, err = w.reports.RecordEvent(ctx, *line.Event)
		case line.Choose != "":
			err = w.reports.SetConversionEvent(ctx, "demo", line.Choose)
		case line.Cost != nil:
			costs = append(costs, *line.Cost)
		}
		if err != nil {
			t.Fatalf("fixture line %d: %v", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if err := w.reports.AddCosts(ctx, "demo", costs); err != nil {
		t.Fatalf("fixture costs: %v", err)
	}
}

// addVisit stores a demo visit made at the clock's time with fields set by
// fill, standing in for the snippet and the enrichment steps (geo, user
// agent).
func (w *testWorld) addVisit(t testing.TB, fill func(v *visit.Visit)) *visit.Visit {
	t.Helper()
	v := &visit.Visit{Time: w.clock.Now(), Page: "https://shop.test/", Landing: "https://shop.test/"}
	if fill != nil {
		fill(v)
	}
	if err := w.probe.SaveVisit(context.Background(), "demo", v); err != nil {
		t.Fatal(err)
	}
	return v
}

// clickOn records a click of v on target at the clock's time.
func (w *testWorld) clickOn(t testing.TB, v *visit.Visit, target, page string) {
	t.Helper()
	if err := w.probe.RecordClick(context.Background(), "demo", v.N, target, page); err != nil {
		t.Fatal(err)
	}
}

// code is the visible code of v that the snippet puts in prefilled text.
func (w *testWorld) code(t testing.TB, v *visit.Visit) string {
	t.Helper()
	c, err := w.probe.Code("demo", v.N)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// visitID is v's visit ID.
func (w *testWorld) visitID(t testing.TB, v *visit.Visit) string {
	t.Helper()
	return w.codec(t, "demo").VisitID(v.N)
}

// messageAnswer is the part of the messages API's answer the tests read.
type messageAnswer struct {
	Chat   string `json:"chat"`
	Method string `json:"method"`
}

// postMessage sends a generic message to the demo site and decodes the
// answer.
func (w *testWorld) postMessage(t testing.TB, msg map[string]string) messageAnswer {
	t.Helper()
	resp, b := w.do(t, request("POST", "/v1/sites/demo/messages", jsonBody(t, msg),
		"Authorization", "Bearer demo-key-123", "Content-Type", "application/json"))
	if resp.StatusCode != 200 {
		t.Fatalf("POST messages %v: %d %s", msg, resp.StatusCode, b)
	}
	var out messageAnswer
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("answer %s: %v", b, err)
	}
	return out
}

// makeChats makes chats through the matcher the day after the fixture: one
// matched by its code and converted, one whose visit and message carry
// hostile strings, one that only the heuristic can explain (two visits
// clicked just before it, too close to tell apart), and an ad with a
// hostile title.
func (w *dashWorld) makeChats(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	w.clock.Set(dashAfterFixture)

	matched := w.addVisit(t, func(v *visit.Visit) {
		v.Landing = "https://shop.example/cacti?utm_source=google&utm_medium=cpc&utm_campaign=spring&gclid=abc"
		v.Page = "https://shop.example/cacti"
		v.Referrer = "https://www.google.com/"
		v.UTMSource, v.UTMMedium, v.UTMCampaign, v.Channel = "google", "cpc", "spring", "paid_search"
		v.ClickIDKind, v.ClickID = "gclid", "abc"
		v.Country, v.City, v.OS, v.Browser, v.Device, v.Language = "US", "Austin", "Android", "Chrome", "mobile", "en-US"
	})
	w.clock.Advance(time.Minute)
	res := w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "15550001001", "to": "15551234567",
		"text": "Hello! My request code: " + w.code(t, matched), "name": "Visitor A", "time": w.clock.Now().Format(time.RFC3339)})
	w.matchedChat = res.Chat
	w.clock.Advance(30 * time.Minute)
	if _, err := w.reports.RecordEvent(ctx, reports.Event{Site: "demo", Chat: w.matchedChat, Category: "won",
		Time: w.clock.Now(), Value: 120, ID: "crm-visitor-a"}); err != nil {
		t.Fatal(err)
	}

	w.clock.Advance(time.Minute)
	hostile := w.addVisit(t, func(v *visit.Visit) {
		v.Landing = xssJSURL
		v.Page = "https://shop.example/" + xssAttr
		v.Referrer = xssJSURL
		v.UTMSource, v.UTMMedium, v.UTMCampaign, v.UTMContent, v.UTMTerm = xssImg, xssFormula, xssCampaign, xssAttr, xssScript
		v.Channel = "paid_social"
		v.City, v.Browser = xssScript, xssImg
	})
	w.clock.Advance(time.Minute)
	res = w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "15550001002", "to": "15551234567",
		"text": xssScript + " " + w.code(t, hostile), "name": xssImg, "time": w.clock.Now().Format(time.RFC3339)})
	w.hostileChat = res.Chat

	w.clock.Advance(10 * time.Minute)
	for _, page := range []string{"https://shop.example/succulents", "https://shop.example/delivery"} {
		v := w.addVisit(t, func(v *visit.Visit) { v.Page, v.Landing, v.Channel = page, page, "organic_search" })
		w.clickOn(t, v, "whatsapp:15551234567", page)
		w.candidateVisits = append(w.candidateVisits, w.visitID(t, v))
		w.clock.Advance(5 * time.Second)
	}
	w.clock.Advance(20 * time.Second)
	res = w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "15550001003", "to": "15551234567",
		"text": "Do you deliver on Sundays?", "name": "Visitor C", "time": w.clock.Now().Format(time.RFC3339)})
	if res.Method != reports.MethodNone {
		t.Fatalf("the ambiguous chat was matched by %s; the test needs it unmatched with candidates", res.Method)
	}
	w.unmatchedChat = res.Chat

	w.clock.Advance(time.Minute)
	if err := w.reports.RecordConversation(ctx, reports.Conversation{Site: "demo", Chat: "whatsapp:15550001004",
		Time: w.clock.Now(), Messenger: "whatsapp", Method: reports.MethodReferral, Confidence: 1,
		Channel: "messenger_ad", UTMSource: "facebook", AdID: xssAdID, AdTitle: xssAdTitle, AdType: "ad"}); err != nil {
		t.Fatal(err)
	}
	w.clock.Set(dashAfterFixture.Add(2 * time.Hour))
}
