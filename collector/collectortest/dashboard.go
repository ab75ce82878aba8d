package collectortest

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/dashboard"
	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/ids"
	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store"
)

// The dashboard's test world: a collector whose matcher hands its facts to
// its reports.Store, the reports' generated fixture replayed into that
// store, and chats made through the matcher from visits and messages, a few
// of them carrying hostile strings.

// FixtureRange is the range of the reports' golden files.
var FixtureRange = dashboard.Range{From: "2026-03-16", To: "2026-04-12"}

// FixtureStart is the fixture's first day. The collector starts then: it
// records the site's configured conversion event when it starts, and only
// events after that choice count.
var FixtureStart = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// AfterFixture is the day after the fixture, when the matcher's chats of
// this world happen, so that they leave the fixture's range untouched.
var AfterFixture = time.Date(2026, 4, 13, 8, 0, 0, 0, time.UTC)

// Hostile strings planted where visitors and platforms write: each would
// run a script or open a link if it reached the page unescaped.
const (
	XSSScript   = `<script>window.__pwned="script";alert("script")</script>`
	XSSImg      = `<img src=x onerror="window.__pwned='img';alert('img')">`
	XSSAttr     = `"><svg onload="window.__pwned='attr';alert('attr')">`
	XSSJSURL    = `javascript:window.__pwned='href';alert('href')`
	XSSFormula  = `=HYPERLINK("http://evil.example","click")`
	XSSAdTitle  = `<script>window.__pwned="ad";alert("ad")</script>`
	XSSAdID     = `javascript:alert("adid")`
	XSSCampaign = `spring<script>window.__pwned="utm";alert("utm")</script>`
)

// Probe is what the fixtures read and plant beside the HTTP API; the
// collector's TestProbe has these methods.
type Probe interface {
	// SaveVisit numbers and stores v as the site's visit.
	SaveVisit(ctx context.Context, site string, v *visit.Visit) error
	// RecordClick records a click of visit n on target at the clock's time.
	RecordClick(ctx context.Context, site string, n uint64, target, page string) error
	// Code is visit n's visible code in the site's code style.
	Code(site string, n uint64) (string, error)
	// Codec is the site's codec of visit IDs and codes.
	Codec(site string) (*ids.Codec, error)
}

// DashChats are the chats the dashboard's world makes through the matcher.
type DashChats struct {
	Matched, Hostile, Unmatched string
	// Candidates are the unmatched chat's candidate visits.
	Candidates []string
}

// repoFile is a file of the repository, by its path from the root.
func repoFile(parts ...string) string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(here), "..", ".."}, parts...)...)
}

// GoldenAdsTotals reads the totals of the reports' golden ads report, the
// numbers the dashboard must show for the fixture's range.
func GoldenAdsTotals(t testing.TB) (conversations, conversions int64) {
	t.Helper()
	b, err := os.ReadFile(repoFile("reports", "testdata", "ads.json.golden"))
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

// FixtureQuery is a report page's query for the fixture's range, with extra
// parameters (pairs).
func FixtureQuery(extra ...string) string {
	q := url.Values{"from": {FixtureRange.From}, "to": {FixtureRange.To}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return "?" + q.Encode()
}

// ReplayFixture records the reports' generated fixture
// (reports/testdata/fixture.jsonl.golden) into rep, each fact at its
// delivery time on clock, as the reports' golden test does.
func ReplayFixture(t testing.TB, rep *reports.Store, clock *store.ManualClock) {
	t.Helper()
	ctx := context.Background()
	f, err := os.Open(repoFile("reports", "testdata", "fixture.jsonl.golden"))
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
			clock.Set(*line.Deliver)
		}
		switch {
		case line.Conversation != nil:
			err = rep.RecordConversation(ctx, *line.Conversation)
		case line.Event != nil:
			_, err = rep.RecordEvent(ctx, *line.Event)
		case line.Choose != "":
			err = rep.SetConversionEvent(ctx, "demo", line.Choose)
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
	if err := rep.AddCosts(ctx, "demo", costs); err != nil {
		t.Fatalf("fixture costs: %v", err)
	}
}

// Do sends a request through app and returns the response with its body
// read.
func Do(t testing.TB, app *fiber.App, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := app.Test(req, 10_000)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, body
}

// dashMaker plants the dashboard world's visits and sends its messages.
type dashMaker struct {
	app   *fiber.App
	probe Probe
	clock *store.ManualClock
}

// addVisit stores a demo visit made at the clock's time with fields set by
// fill, standing in for the snippet and the enrichment steps (geo, user
// agent).
func (m dashMaker) addVisit(t testing.TB, fill func(v *visit.Visit)) *visit.Visit {
	t.Helper()
	v := &visit.Visit{Time: m.clock.Now(), Page: "https://shop.test/", Landing: "https://shop.test/"}
	if fill != nil {
		fill(v)
	}
	if err := m.probe.SaveVisit(context.Background(), "demo", v); err != nil {
		t.Fatal(err)
	}
	return v
}

// code is the visible code of v that the snippet puts in prefilled text.
func (m dashMaker) code(t testing.TB, v *visit.Visit) string {
	t.Helper()
	c, err := m.probe.Code("demo", v.N)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// messageAnswer is the part of the messages API's answer the fixture reads.
type messageAnswer struct {
	Chat   string `json:"chat"`
	Method string `json:"method"`
}

// postMessage sends a generic message to the demo site and decodes the
// answer.
func (m dashMaker) postMessage(t testing.TB, msg map[string]string) messageAnswer {
	t.Helper()
	resp, b := Do(t, m.app, Request("POST", "/v1/sites/demo/messages", JSONBody(t, msg),
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

// MakeDashChats makes chats through the collector's matcher (app) the day
// after the fixture: one matched by its code and converted, one whose
// visit and message carry hostile strings, one that only the heuristic can
// explain (two visits clicked just before it, too close to tell apart),
// and an ad with a hostile title. rep is the store the collector hands its
// facts to.
func MakeDashChats(t testing.TB, app *fiber.App, probe Probe, rep *reports.Store, clock *store.ManualClock) DashChats {
	t.Helper()
	ctx := context.Background()
	m := dashMaker{app: app, probe: probe, clock: clock}
	var out DashChats
	clock.Set(AfterFixture)

	matched := m.addVisit(t, func(v *visit.Visit) {
		v.Landing = "https://shop.example/cacti?utm_source=google&utm_medium=cpc&utm_campaign=spring&gclid=abc"
		v.Page = "https://shop.example/cacti"
		v.Referrer = "https://www.google.com/"
		v.UTMSource, v.UTMMedium, v.UTMCampaign, v.Channel = "google", "cpc", "spring", "paid_search"
		v.ClickIDKind, v.ClickID = "gclid", "abc"
		v.Country, v.City, v.OS, v.Browser, v.Device, v.Language = "US", "Austin", "Android", "Chrome", "mobile", "en-US"
	})
	clock.Advance(time.Minute)
	res := m.postMessage(t, map[string]string{"channel": "whatsapp", "from": "15550001001", "to": "15551234567",
		"text": "Hello! My request code: " + m.code(t, matched), "name": "Visitor A", "time": clock.Now().Format(time.RFC3339)})
	out.Matched = res.Chat
	clock.Advance(30 * time.Minute)
	if _, err := rep.RecordEvent(ctx, reports.Event{Site: "demo", Chat: out.Matched, Category: "won",
		Time: clock.Now(), Value: 120, ID: "crm-visitor-a"}); err != nil {
		t.Fatal(err)
	}

	clock.Advance(time.Minute)
	hostile := m.addVisit(t, func(v *visit.Visit) {
		v.Landing = XSSJSURL
		v.Page = "https://shop.example/" + XSSAttr
		v.Referrer = XSSJSURL
		v.UTMSource, v.UTMMedium, v.UTMCampaign, v.UTMContent, v.UTMTerm = XSSImg, XSSFormula, XSSCampaign, XSSAttr, XSSScript
		v.Channel = "paid_social"
		v.City, v.Browser = XSSScript, XSSImg
	})
	clock.Advance(time.Minute)
	res = m.postMessage(t, map[string]string{"channel": "whatsapp", "from": "15550001002", "to": "15551234567",
		"text": XSSScript + " " + m.code(t, hostile), "name": XSSImg, "time": clock.Now().Format(time.RFC3339)})
	out.Hostile = res.Chat

	clock.Advance(10 * time.Minute)
	codec, err := probe.Codec("demo")
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{"https://shop.example/succulents", "https://shop.example/delivery"} {
		v := m.addVisit(t, func(v *visit.Visit) { v.Page, v.Landing, v.Channel = page, page, "organic_search" })
		if err := probe.RecordClick(ctx, "demo", v.N, "whatsapp:15551234567", page); err != nil {
			t.Fatal(err)
		}
		out.Candidates = append(out.Candidates, codec.VisitID(v.N))
		clock.Advance(5 * time.Second)
	}
	clock.Advance(20 * time.Second)
	res = m.postMessage(t, map[string]string{"channel": "whatsapp", "from": "15550001003", "to": "15551234567",
		"text": "Do you deliver on Sundays?", "name": "Visitor C", "time": clock.Now().Format(time.RFC3339)})
	if res.Method != reports.MethodNone {
		t.Fatalf("the ambiguous chat was matched by %s; the test needs it unmatched with candidates", res.Method)
	}
	out.Unmatched = res.Chat

	clock.Advance(time.Minute)
	if err := rep.RecordConversation(ctx, reports.Conversation{Site: "demo", Chat: "whatsapp:15550001004",
		Time: clock.Now(), Messenger: "whatsapp", Method: reports.MethodReferral, Confidence: 1,
		Channel: "messenger_ad", UTMSource: "facebook", AdID: XSSAdID, AdTitle: XSSAdTitle, AdType: "ad"}); err != nil {
		t.Fatal(err)
	}
	clock.Set(AfterFixture.Add(2 * time.Hour))
	return out
}
