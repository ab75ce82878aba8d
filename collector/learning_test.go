package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/collector/intake"
	"github.com/messtrack/messtrack/collector/learn"
	"github.com/messtrack/messtrack/collector/posterior"
	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store"
)

// The learned heuristic, end to end: a US shop's traffic goes through the
// real collector over HTTP (visits, clicks, messages) on a real Redis with
// a moved clock. For the first days the site has no model: its id matches
// and code-less chats are kept as examples, today's formula answers. A
// refit (the API's, as the hourly one does) fits the model from them; from
// then on the code-lost chats are answered by the model, at the site's
// precision target. A second refit proves the first model on the id
// matches it never saw, and the proof must agree with what the world knows
// about the code-lost chats of the same days.
//
//	go test ./collector -run TestLearnedHeuristicEndToEnd -v

const learnConfigYAML = `
sites:
  demo:
    api_key: demo-key-123
    id_secret: demo-secret-0123456789
    origins: [http://shop.test]
    whatsapp:
      - number: "15551234567"
`

// learnZones are the visitors' home zones with the start of a phone number
// there: four US zones, and four countries of one zone each.
var learnZones = []struct{ prefix, zone string }{
	{"1212555", "America/New_York"}, {"1312555", "America/Chicago"}, {"1303555", "America/Denver"}, {"1415555", "America/Los_Angeles"},
	{"44791112", "Europe/London"}, {"491511234", "Europe/Berlin"}, {"91987651", "Asia/Kolkata"}, {"81901231", "Asia/Tokyo"},
}

// learnWorld is the simulated shop's traffic: clicks at a steady rate,
// clickers who write after a heavy-tailed delay (median 2.5 minutes, some
// beyond the window), some of whom delete the code, travellers whose
// browser is in another zone than their phone, and people who never
// clicked and write anyway.
type learnWorld struct {
	r        *rand.Rand
	clicks   float64 // per hour
	write    float64 // share of clickers who write
	deleted  float64 // share of writers who delete the code
	never    float64 // people who never clicked, per clicking writer
	traveler float64 // share whose browser zone is not the phone's
	phones   map[string]bool
}

type learnEvent struct {
	at     time.Time
	kind   int // 0 visit, 1 click, 2 message
	person int
}

type learnPerson struct {
	phone, zone, browserZone string
	clicked                  bool
	keeps                    bool
	visitID, code            string
}

func (lw *learnWorld) phone() (string, string) {
	for {
		z := learnZones[lw.r.IntN(len(learnZones))]
		p := fmt.Sprintf("%s%04d", z.prefix, lw.r.IntN(10000))
		if !lw.phones[p] {
			lw.phones[p] = true
			return p, z.zone
		}
	}
}

// day makes the events of span from start.
func (lw *learnWorld) day(start time.Time, span time.Duration, people *[]*learnPerson) []learnEvent {
	var events []learnEvent
	hours := span.Hours()
	n := int(lw.clicks * hours)
	for range n {
		p := &learnPerson{clicked: true}
		p.phone, p.zone = lw.phone()
		p.browserZone = p.zone
		if lw.r.Float64() < lw.traveler {
			p.browserZone = learnZones[lw.r.IntN(len(learnZones))].zone
		}
		id := len(*people)
		*people = append(*people, p)
		click := start.Add(time.Duration(lw.r.Float64() * float64(span)))
		events = append(events, learnEvent{at: click.Add(-time.Duration(30+lw.r.IntN(120)) * time.Second), kind: 0, person: id},
			learnEvent{at: click, kind: 1, person: id})
		if lw.r.Float64() < lw.write {
			p.keeps = lw.r.Float64() >= lw.deleted
			delay := time.Duration(150 * math.Exp(1.1*lw.r.NormFloat64()) * float64(time.Second))
			events = append(events, learnEvent{at: click.Add(delay), kind: 2, person: id})
		}
	}
	for range int(lw.clicks * hours * lw.write * lw.never) {
		p := &learnPerson{}
		p.phone, p.zone = lw.phone()
		*people = append(*people, p)
		events = append(events, learnEvent{at: start.Add(time.Duration(lw.r.Float64() * float64(span))), kind: 2, person: len(*people) - 1})
	}
	slices.SortStableFunc(events, func(a, b learnEvent) int { return a.at.Compare(b.at) })
	return events
}

// learnTally counts the answers to code-lost chats.
type learnTally struct {
	lost, never    int // code-lost chats of clickers; chats of people who never clicked
	answered, good int
	learned        int // answers given by the learned model
	ids            int
}

// drive sends the events through the HTTP API.
func (w *testWorld) drive(t *testing.T, events []learnEvent, people []*learnPerson, seq *int) learnTally {
	t.Helper()
	var tl learnTally
	for _, e := range events {
		p := people[e.person]
		w.clock.Set(e.at)
		switch e.kind {
		case 0:
			body := jsonBody(t, map[string]string{"site": "demo", "url": "https://shop.test/", "lang": "en-US", "tz": p.browserZone})
			resp, b := w.do(t, request("POST", "/v1/visits", body, "Origin", testOrigin, "Content-Type", "text/plain", "User-Agent", uaChromeWindows))
			if resp.StatusCode != 200 {
				t.Fatalf("visit: %d %s", resp.StatusCode, b)
			}
			var v intake.VisitResponse
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatal(err)
			}
			p.visitID, p.code = v.Visit, v.Code
		case 1:
			body := jsonBody(t, map[string]string{"site": "demo", "visit": p.visitID, "target": "whatsapp:15551234567"})
			if resp, b := w.do(t, request("POST", "/v1/clicks", body, "Origin", testOrigin, "Content-Type", "text/plain", "User-Agent", uaChromeWindows)); resp.StatusCode != 204 {
				t.Fatalf("click: %d %s", resp.StatusCode, b)
			}
		case 2:
			*seq++
			text := "Hello, I would like to order"
			if p.keeps {
				text = "Hello! My request code: " + p.code
			}
			m := w.postMessage(t, map[string]string{"channel": "whatsapp", "from": p.phone, "to": "15551234567", "text": text,
				"time": e.at.UTC().Truncate(time.Second).Format(time.RFC3339), "id": fmt.Sprintf("m%d", *seq)})
			switch {
			case p.keeps:
				if m.Method != reports.MethodID || m.Visit == nil || m.Visit.ID != p.visitID {
					t.Fatalf("a kept code was not an id match: %+v", m)
				}
				tl.ids++
				continue
			case p.clicked:
				tl.lost++
			default:
				tl.never++
			}
			if m.Method != reports.MethodHeuristic {
				continue
			}
			tl.answered++
			if p.clicked && m.Visit != nil && m.Visit.ID == p.visitID {
				tl.good++
			}
			rec := w.chatRecordOf(t, "whatsapp:"+p.phone)
			if len(rec.Candidates) > 0 && slices.ContainsFunc(rec.Candidates[0].Reasons, func(r string) bool { return strings.HasPrefix(r, "learned model v") }) {
				tl.learned++
			}
		}
	}
	return tl
}

func (w *testWorld) refit(t *testing.T) learn.RefitResult {
	t.Helper()
	resp, b := w.do(t, request("POST", "/v1/sites/demo/heuristic/refit", nil, "Authorization", "Bearer demo-key-123"))
	if resp.StatusCode != 200 {
		t.Fatalf("refit: %d %s", resp.StatusCode, b)
	}
	var res learn.RefitResult
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

func (w *testWorld) heuristic(t *testing.T) heuristicAnswer {
	t.Helper()
	resp, b := w.do(t, request("GET", "/v1/sites/demo/heuristic", nil, "Authorization", "Bearer demo-key-123"))
	if resp.StatusCode != 200 {
		t.Fatalf("heuristic: %d %s", resp.StatusCode, b)
	}
	var out heuristicAnswer
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("heuristic %s: %v", b, err)
	}
	return out
}

func TestLearnedHeuristicEndToEnd(t *testing.T) {
	w := newTestWorld(t, learnConfigYAML)
	lw := &learnWorld{r: rand.New(rand.NewPCG(22, 7)), clicks: 6, write: 0.6, deleted: 0.3, never: 0.2, traveler: 0.1, phones: map[string]bool{}}
	var people []*learnPerson
	seq := 0
	span := 200 * time.Hour

	if h := w.heuristic(t); h.Model != nil || h.PrecisionTarget != 0.95 || len(h.Proof.Rows) != 0 {
		t.Fatalf("before any fit: %+v", h)
	}
	// Days without a model: today's formula answers, examples are kept.
	start := w.clock.Now()
	before := w.drive(t, lw.day(start, span, &people), people, &seq)
	if before.learned != 0 {
		t.Fatalf("%d answers came from a model before any fit", before.learned)
	}
	fit := w.refit(t)
	if fit.Version != 1 || fit.Labelled < learn.MinLabelled || fit.Labelled != before.ids || fit.Unlabelled != before.lost+before.never {
		t.Fatalf("first fit %+v; the world sent %d id matches and %d code-less chats", fit, before.ids, before.lost+before.never)
	}
	h := w.heuristic(t)
	wa := h.Messengers["whatsapp"]
	if h.Model == nil || h.Model.Version != 1 || wa == nil || !wa.InUse || wa.Labelled != fit.Labelled || len(wa.Delay) == 0 {
		t.Fatalf("after the fit: %+v, whatsapp %+v", h.Model, wa)
	}
	t.Logf("fitted on %d id matches and %d code-less chats: never-clicked share %.2f (the world's %.2f)",
		wa.Labelled, wa.Unlabelled, wa.NeverClicked, float64(before.never)/float64(before.lost+before.never))

	// The same world, with the model in use.
	after := w.drive(t, lw.day(start.Add(span+time.Hour), span, &people), people, &seq)
	precision := posterior.Proportion(after.good, after.answered)
	recall := posterior.Proportion(after.good, after.lost)
	old := posterior.Proportion(before.good, before.answered)
	t.Logf("today's formula: precision %s, recall %s of %d code-lost chats (+%d who never clicked)",
		pctOf(old), pctOf(posterior.Proportion(before.good, before.lost)), before.lost, before.never)
	t.Logf("learned model:   precision %s, recall %s of %d code-lost chats (+%d who never clicked)",
		pctOf(precision), pctOf(recall), after.lost, after.never)
	if after.learned != after.answered || after.answered < 10 {
		t.Fatalf("%d of %d answers came from the learned model; want all, at least 10", after.learned, after.answered)
	}
	if precision.Hi < h.PrecisionTarget {
		t.Errorf("learned precision %s is below the target %.2f", pctOf(precision), h.PrecisionTarget)
	}

	// The live proof of model 1 on the id matches of the days it served.
	second := w.refit(t)
	if second.Version != 2 || second.Proved != after.ids {
		t.Fatalf("second fit %+v: want version 2, proved on the %d new id matches", second, after.ids)
	}
	h = w.heuristic(t)
	if len(h.Proof.Totals) != 1 || h.Proof.Totals[0].Messages != after.ids {
		t.Fatalf("proof totals %+v", h.Proof.Totals)
	}
	pr := h.Proof.Totals[0]
	t.Logf("live proof:      precision %s, recall %s of %d id matches with their codes hidden", pctOf(pr.Precision), pctOf(pr.Recall), pr.Messages)
	overlap := func(a, b posterior.Interval) bool { return a.Lo <= b.Hi && b.Lo <= a.Hi }
	if !overlap(pr.Recall, recall) {
		t.Errorf("the proof's recall %s disagrees with the code-lost chats' %s", pctOf(pr.Recall), pctOf(recall))
	}
	if pr.Precision.Hi < h.PrecisionTarget {
		t.Errorf("the proof's precision %s is below the target", pctOf(pr.Precision))
	}
	n := 0
	for _, b := range pr.Reliability {
		n += b.Answered
	}
	if n == 0 || n > pr.Messages {
		t.Errorf("reliability table counts %d of %d messages", n, pr.Messages)
	}

	// The dashboard shows the same model and proof.
	d := newDashClient(w)
	d.signIn(t, "demo", "demo-key-123")
	resp, page := d.get(t, "/dashboard/heuristic")
	if resp.StatusCode != 200 {
		t.Fatalf("heuristic page: %d\n%s", resp.StatusCode, clip(page, 1000))
	}
	wantProof := fmt.Sprintf("<td>whatsapp</td><td>all</td><td class=\"num\">%d</td><td class=\"num\">%d</td><td class=\"num\">%d</td>", pr.Messages, pr.Answered, pr.Correct)
	for _, want := range []string{"Model version 2", "the learned model answers", wantProof, "Reliability, whatsapp", "Delay from click to first message"} {
		if !strings.Contains(page, want) {
			t.Errorf("the heuristic page lacks %q", want)
		}
	}
	bins := 0
	for _, m := range h.Messengers {
		if m.Labelled+m.Unlabelled > 0 { // a messenger with no chats has only today's defaults
			bins += len(m.Delay)
		}
	}
	if bars := strings.Count(page, "<rect "); bars != bins || bins == 0 {
		t.Errorf("the delay charts have %d bars, the model's messengers %d bins", bars, bins)
	}
}

func pctOf(iv posterior.Interval) string {
	return fmt.Sprintf("%.1f %% [%.1f, %.1f] (%d/%d)", 100*iv.Value, 100*iv.Lo, 100*iv.Hi, iv.K, iv.N)
}

// The serving collector refits at start the sites whose model is missing
// or was refitted an hour or longer ago, then every site on each tick of
// its ticker; a refit another collector holds is answered 409 by the API.
func TestRefitsRunOnTheTicker(t *testing.T) {
	w := newTestWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	tick := make(chan time.Time)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.srv.RunRefits(ctx, tick)
	}()
	tick <- w.clock.Now()
	// The loop takes the second tick only once the first round is over.
	tick <- w.clock.Now()
	cancel()
	<-done
	for _, site := range []string{"demo", "shop"} {
		// No model at start: refitted then, and on the first tick; the
		// second tick's round may end with the cancel.
		if v := w.rdb.HGet(context.Background(), store.LearnModel(site), "version").Val(); v != "2" && v != "3" {
			t.Errorf("%s: model version %q after the start and two ticks", site, v)
		}
	}
	if err := w.rdb.Set(context.Background(), store.LearnLock("demo"), "another collector", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	resp, b := w.do(t, request("POST", "/v1/sites/demo/heuristic/refit", nil, "Authorization", "Bearer demo-key-123"))
	if resp.StatusCode != 409 || !strings.Contains(string(b), "another collector") {
		t.Fatalf("refit while another runs: %d %s", resp.StatusCode, b)
	}
	resp, b = w.do(t, request("GET", "/v1/sites/nosuch/heuristic", nil, "Authorization", "Bearer demo-key-123"))
	if resp.StatusCode != 404 {
		t.Fatalf("unknown site: %d %s", resp.StatusCode, b)
	}
}

// Only messages to the site's own chat links are examples: a client's
// made-up channel or number leaves no list behind.
func TestExamplesOnlyForTheSitesTargets(t *testing.T) {
	w := newTestWorld(t)
	for i, msg := range []map[string]string{
		{"channel": "whatsapp", "from": "4915112345678", "to": "15551234567", "text": "hello"},
		{"channel": "made-up", "from": "4915112345679", "to": "15550000000", "text": "hello"},
		{"channel": "whatsapp", "from": "4915112345670", "to": "15550000001", "text": "hello"},
	} {
		msg["id"] = fmt.Sprintf("e%d", i)
		w.postMessage(t, msg)
	}
	ctx := context.Background()
	ms := w.rdb.SMembers(ctx, store.LearnMessengers("demo")).Val()
	if len(ms) != 1 || ms[0] != "whatsapp" {
		t.Fatalf("messengers with examples: %v, want whatsapp only", ms)
	}
	if n := w.rdb.LLen(ctx, store.LearnUnlabelled("demo", "whatsapp")).Val(); n != 1 {
		t.Fatalf("%d code-less examples, want the one to the site's number", n)
	}
}

// A visitor who clicked from two visits is marked as having other visits,
// on each of them and on an id match's clicked visit.
func TestOtherVisitsAreMarked(t *testing.T) {
	w := newTestWorld(t)
	ctx := context.Background()
	st := w.demoSite()
	add := func(visitor string) *visit.Visit {
		v := w.addVisit(t, func(v *visit.Visit) { v.VisitorID = visitor; v.Language = "en-US" })
		w.clickOn(t, v, "whatsapp:15551234567", "")
		w.clock.Advance(time.Minute)
		return v
	}
	add("visitor-a")
	add("visitor-b")
	a2 := add("visitor-a")
	in := &inbound.Message{Messenger: "whatsapp", Chat: "whatsapp:4915112345678", Phone: "4915112345678", Target: "whatsapp:15551234567", Time: w.clock.Now()}
	raw, ex, err := w.srv.candidates(ctx, st, in, 0)
	if err != nil || len(raw) != 3 {
		t.Fatalf("candidates %d, %v", len(raw), err)
	}
	for i, c := range raw {
		if want := c.Of.VisitorID == "visitor-a"; ex.Candidates[i].OtherVisits != want {
			t.Errorf("visit %s of %s: other visits %v", c.Visit, c.Of.VisitorID, ex.Candidates[i].OtherVisits)
		}
	}
	// An id match on a2: its own other visit a1 is among the others.
	raw, ex, err = w.srv.candidates(ctx, st, in, a2.N)
	if err != nil || len(raw) != 2 {
		t.Fatalf("candidates without a2: %d, %v", len(raw), err)
	}
	if !markOtherVisits(raw, ex.Candidates, a2.VisitorID) || markOtherVisits(raw, ex.Candidates, "visitor-c") {
		t.Fatal("the clicked visitor's other visit was not seen, or an absent one was")
	}
}

// At start a model refitted long ago is refitted, a fresh one is not, and
// a site without a model gets one; what is due follows the collector's
// clock.
func TestRefitDueAtStart(t *testing.T) {
	w := newTestWorld(t)
	ctx := context.Background()
	version := func(site string) string { return w.rdb.HGet(ctx, store.LearnModel(site), "version").Val() }
	w.refit(t) // demo's model, refitted now
	if got := w.srv.RefitDue(ctx); !slices.Equal(got, []string{"shop"}) {
		t.Fatalf("due with demo fresh and shop without a model: %v, want [shop]", got)
	}
	if version("demo") != "1" || version("shop") != "1" {
		t.Fatalf("versions demo %s shop %s, want 1 and 1", version("demo"), version("shop"))
	}
	w.clock.Advance(RefitEvery - time.Minute)
	if got := w.srv.RefitDue(ctx); len(got) != 0 {
		t.Fatalf("due with both refitted 59 minutes ago: %v", got)
	}
	// demo refitted again a minute later: after another hour only shop,
	// refitted an hour ago, is due.
	w.clock.Advance(time.Minute)
	w.refit(t)
	w.clock.Advance(RefitEvery - time.Minute)
	if got := w.srv.RefitDue(ctx); !slices.Equal(got, []string{"shop"}) {
		t.Fatalf("due with shop refitted long ago: %v, want [shop]", got)
	}
	if version("demo") != "2" || version("shop") != "2" {
		t.Fatalf("versions demo %s shop %s, want 2 and 2", version("demo"), version("shop"))
	}
	// A model stored without its refit time is due.
	if err := w.rdb.HDel(ctx, store.LearnModel("demo"), "refitted").Err(); err != nil {
		t.Fatal(err)
	}
	if got := w.srv.RefitDue(ctx); !slices.Equal(got, []string{"demo"}) {
		t.Fatalf("due with demo's refit time missing: %v, want [demo]", got)
	}
}

// An operator's confirmation is kept as a labelled example marked as the
// operator's: the message and its candidates as the matcher saw them (the
// code-less example of the same message), the confirmed visit as the
// click. A second confirmation adds nothing, and the live proof counts
// only the id matches.
func TestConfirmationIsALabelledExample(t *testing.T) {
	w := newTestWorld(t)
	ctx := context.Background()
	if res := w.refit(t); res.Version != 1 {
		t.Fatalf("first refit: %+v", res)
	}
	w.clock.Advance(time.Minute)
	a := w.addVisit(t, func(v *visit.Visit) { v.Language = "en-US"; v.Country = "US"; v.TimeZone = "America/Los_Angeles" })
	w.clickOn(t, a, "whatsapp:15551234567", "https://shop.test/a")
	w.clock.Advance(5 * time.Second)
	b := w.addVisit(t, func(v *visit.Visit) { v.Language = "en-GB"; v.Country = "US"; v.TimeZone = "America/New_York" })
	w.clickOn(t, b, "whatsapp:15551234567", "https://shop.test/b")
	w.clock.Advance(30 * time.Second)
	if r := w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "16505551234", "to": "15551234567", "text": "hello"}); r.Method != reports.MethodNone {
		t.Fatalf("answer = %+v, want none", r)
	}
	labelledKey := store.LearnLabelled("demo", "whatsapp")
	if n := w.rdb.LLen(ctx, labelledKey).Val(); n != 0 {
		t.Fatalf("%d labelled examples before the confirmation", n)
	}
	seen := w.rdb.LRange(ctx, store.LearnUnlabelled("demo", "whatsapp"), 0, -1).Val()
	if len(seen) != 1 {
		t.Fatalf("%d code-less examples, want the message's", len(seen))
	}
	var matcher posterior.Unlabelled
	if err := json.Unmarshal([]byte(seen[0]), &matcher); err != nil {
		t.Fatal(err)
	}
	confirm := func(v *visit.Visit) (int, string) {
		resp, body := w.do(t, request("POST", "/v1/sites/demo/chats/whatsapp:16505551234/confirm", jsonBody(t, map[string]string{"visit": w.visitID(v)}),
			"Authorization", "Bearer demo-key-123"))
		return resp.StatusCode, string(body)
	}
	if code, body := confirm(a); code != 200 {
		t.Fatalf("confirm: %d %s", code, body)
	}
	got := w.rdb.LRange(ctx, labelledKey, 0, -1).Val()
	if len(got) != 1 {
		t.Fatalf("%d labelled examples after the confirmation, want 1", len(got))
	}
	var l posterior.Labelled
	if err := json.Unmarshal([]byte(got[0]), &l); err != nil {
		t.Fatal(err)
	}
	if !l.Confirmed {
		t.Errorf("the example is not marked as an operator's: %s", got[0])
	}
	msgJSON := func(m posterior.Message) string {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if g, want := msgJSON(l.Message), msgJSON(matcher.Message); g != want {
		t.Errorf("message %s, the matcher saw %s", g, want)
	}
	if l.Message.PhoneCountry != "US" || l.Message.ClicksPerHour != 2 {
		t.Errorf("message features %+v", l.Message)
	}
	byAt := map[time.Time]posterior.Click{}
	for _, c := range matcher.Candidates {
		byAt[c.At.UTC()] = c
	}
	if len(byAt) != 2 || len(l.Others) != 1 {
		t.Fatalf("the matcher saw %d candidates, the example has the clicked one and %d others", len(byAt), len(l.Others))
	}
	for name, c := range map[string]posterior.Click{"clicked": l.Clicked, "other": l.Others[0]} {
		if want, ok := byAt[c.At.UTC()]; !ok || want != c {
			t.Errorf("%s candidate %+v, the matcher saw %+v", name, c, want)
		}
	}
	if l.Clicked.Language != "en-US" || l.Clicked.Country != "US" || l.Others[0].Language != "en-GB" || !l.Clicked.HasOffset {
		t.Errorf("the label is not the confirmed visit: clicked %+v, other %+v", l.Clicked, l.Others[0])
	}

	if code, body := confirm(b); code != 400 {
		t.Errorf("a second confirmation: %d %s", code, body)
	}
	if code, body := confirm(a); code != 400 {
		t.Errorf("the same confirmation again: %d %s", code, body)
	}
	if n := w.rdb.LLen(ctx, labelledKey).Val(); n != 1 {
		t.Fatalf("%d labelled examples after confirming twice, want 1", n)
	}

	// An id match is a labelled example too, and the only one proven.
	c := w.addVisit(t, nil)
	w.clickOn(t, c, "whatsapp:15551234567", "https://shop.test/c")
	w.clock.Advance(20 * time.Second)
	if r := w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "16505550009", "to": "15551234567", "text": "hi " + w.code(c)}); r.Method != reports.MethodID {
		t.Fatalf("the code's message: %+v", r)
	}
	res := w.refit(t)
	if res.Labelled != 2 || res.Proved != 1 {
		t.Errorf("refit read %d labelled examples and proved on %d, want 2 and the id match", res.Labelled, res.Proved)
	}
	proof, err := w.srv.learn.LoadProof(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if tot := learn.Total(proof.Rows, "whatsapp"); tot.Messages != 1 {
		t.Errorf("the proof counts %d messages, want the id match only", tot.Messages)
	}
}
