package collector

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/intake"
)

// The attribution model: the rules as the README states them, written
// plainly, with no Redis and nothing shared with the collector's code.
//
//  1. In a chat, a message starts a conversation when it is the chat's
//     earliest message, when it carries a click-to-WhatsApp referral, or when
//     it carries a live code of a visit whose code no earlier message of the
//     chat brought. Other messages continue. A message seen before (same
//     message ID) changes nothing.
//  2. A conversation from a code is attributed to that visit, one from a
//     referral to the ad; the chat's earliest message without either is
//     unattributed (no clicks are recorded, so the heuristic finds nothing).
//     Every attributed conversation is a session.
//  3. A session is open from its start until the chat's next session starts
//     or session_days pass (at exactly start + session_days it is closed).
//     Its conversion is the earliest event inside that span whose category
//     was the conversion event in force at the event's time. The configured
//     category is in force for all history; a change from its moment on.
//     An event ID seen before counts once.
//  4. A conversation counts on the day it started, its session's conversion
//     and revenue too. A chat's earliest conversation is new, the rest repeat.

// modelVisit is a visit of the stream and what the reports know of it.
type modelVisit struct {
	at                  time.Time
	url                 string
	channel, source, ad string
	page                string
	code, start         string
}

// modelMsg is one inbound message.
type modelMsg struct {
	chat string // "whatsapp:<phone>" or "telegram:<id>"
	id   string
	at   time.Time
	// visit is the index of the visit whose code the message carries, -1
	// for none.
	visit int
	// ad is a click-to-WhatsApp referral's source_id, "" for none.
	ad string
}

// modelEvent is one business event.
type modelEvent struct {
	chat, category, id string
	at                 time.Time
	value              int64 // thousandths
}

// modelChoice is a conversion-event change.
type modelChoice struct {
	at       time.Time
	category string
}

// modelConv is a conversation as the model decides it.
type modelConv struct {
	chat                string
	at                  time.Time
	attributed          bool
	channel, source, ad string
	page                string
	dialog              string
	converted           bool
	category            string
	value               int64
}

// modelStream is a seeded random history of a site.
type modelStream struct {
	visits  []modelVisit
	msgs    []modelMsg
	events  []modelEvent
	choices []modelChoice
	config  string
	window  time.Duration
	// order lists the visits by time, the order they are registered in.
	order []int
}

// runModel applies the rules to the stream.
func (m *modelStream) runModel() []modelConv {
	byChat := map[string][]modelMsg{}
	seen := map[string]bool{}
	for _, msg := range m.msgs {
		if seen[msg.id] {
			continue
		}
		seen[msg.id] = true
		byChat[msg.chat] = append(byChat[msg.chat], msg)
	}
	inForce := func(t time.Time) string {
		cat := m.config
		for _, c := range m.choices {
			if !c.at.After(t) {
				cat = c.category
			}
		}
		return cat
	}
	events := map[string][]modelEvent{}
	seenEvent := map[string]bool{}
	for _, e := range m.events {
		if e.category != inForce(e.at) || seenEvent[e.id] {
			continue
		}
		seenEvent[e.id] = true
		events[e.chat] = append(events[e.chat], e)
	}
	var out []modelConv
	for chat, msgs := range byChat {
		slices.SortFunc(msgs, func(a, b modelMsg) int { return a.at.Compare(b.at) })
		var convs []modelConv
		brought := map[int]bool{}
		for i, msg := range msgs {
			c := modelConv{chat: chat, at: msg.at}
			switch {
			case msg.ad != "":
				c.attributed, c.channel, c.source, c.ad, c.page = true, "messenger_ad", "fb.me", msg.ad, "(no page)"
			case msg.visit >= 0 && !brought[msg.visit]:
				brought[msg.visit] = true
				v := m.visits[msg.visit]
				c.attributed, c.channel, c.source, c.ad, c.page = true, v.channel, v.source, v.ad, v.page
			case i == 0:
			default:
				continue
			}
			c.dialog = "repeat"
			if len(convs) == 0 {
				c.dialog = "new"
			}
			convs = append(convs, c)
		}
		var sessions []int
		for i, c := range convs {
			if c.attributed {
				sessions = append(sessions, i)
			}
		}
		evs := events[chat]
		slices.SortFunc(evs, func(a, b modelEvent) int {
			return cmp.Or(a.at.Compare(b.at), strings.Compare("i"+a.id, "i"+b.id))
		})
		for j, i := range sessions {
			start := convs[i].at
			end := start.Add(m.window)
			if j+1 < len(sessions) && convs[sessions[j+1]].at.Before(end) {
				end = convs[sessions[j+1]].at
			}
			for _, e := range evs {
				if !e.at.Before(start) && e.at.Before(end) {
					convs[i].converted, convs[i].category, convs[i].value = true, e.category, e.value
					break
				}
			}
		}
		out = append(out, convs...)
	}
	return out
}

// newModelStream makes a seeded stream over days days from start: people who
// click the site's ads and write with the code (or lose it), people who tap a
// click-to-WhatsApp ad, people who write with no source, returns through
// other ads weeks later, one page view's code sent from a second phone or
// from Telegram, follow-up messages, duplicates, events of several
// categories (some at the session window's edge), and category changes.
func newModelStream(seed uint64, start time.Time, days int) *modelStream {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	m := &modelStream{config: "purchase", window: 90 * 24 * time.Hour}
	end := start.Add(time.Duration(days) * 24 * time.Hour)
	m.choices = []modelChoice{
		{at: start.Add(time.Duration(days/3)*24*time.Hour + 7*time.Hour + 13*time.Millisecond), category: "won"},
		{at: start.Add(time.Duration(2*days/3)*24*time.Hour + 3*time.Hour), category: "purchase"},
	}
	kinds := []struct {
		query, channel, source string
		ad                     func(i int) string
	}{
		{"utm_source=google&utm_medium=cpc&utm_campaign=brand&utm_content=", "paid_search", "google", func(i int) string { return fmt.Sprintf("g-%d", i%4) }},
		{"utm_source=newsletter&utm_medium=email&utm_campaign=", "email", "newsletter", func(i int) string { return fmt.Sprintf("nl-%d", i%3) }},
		{"", "direct", "", func(int) string { return "" }},
	}
	randTime := func(from time.Time, spread time.Duration) time.Time {
		return from.Add(time.Duration(rng.Int64N(int64(spread)))).Truncate(time.Second)
	}
	msgN, evN := 0, 0
	nextMsg := func(chat string, at time.Time, visit int, ad string) {
		msgN++
		m.msgs = append(m.msgs, modelMsg{chat: chat, id: fmt.Sprintf("wamid.M%05d", msgN), at: at, visit: visit, ad: ad})
		if rng.IntN(20) == 0 { // a redelivery
			m.msgs = append(m.msgs, m.msgs[len(m.msgs)-1])
		}
	}
	event := func(chat string, at time.Time) {
		evN++
		cat := []string{"purchase", "purchase", "won", "lead"}[rng.IntN(4)]
		e := modelEvent{chat: chat, category: cat, id: fmt.Sprintf("crm-%05d", evN), at: at, value: int64(rng.IntN(50000)) * 10}
		m.events = append(m.events, e)
		if rng.IntN(20) == 0 {
			m.events = append(m.events, e)
		}
	}
	const people = 120
	for p := range people {
		chat := fmt.Sprintf("whatsapp:1650555%04d", p)
		episodes := 1 + rng.IntN(3)
		at := randTime(start, time.Duration(days)*24*time.Hour*2/3)
		for range episodes {
			if !at.Before(end) {
				break
			}
			var first time.Time
			switch k := rng.IntN(10); {
			case k < 5: // a web visit, then a message with its code (or without)
				kind := kinds[rng.IntN(len(kinds))]
				i := len(m.visits)
				v := modelVisit{at: at, channel: kind.channel, source: kind.source, ad: kind.ad(i),
					page: fmt.Sprintf("http://shop.test/p/%d", i)}
				v.url = v.page
				if kind.query != "" {
					v.url += "?" + kind.query + url.QueryEscape(v.ad)
				}
				m.visits = append(m.visits, v)
				first = at.Add(time.Duration(20+rng.IntN(300)) * time.Second)
				visit := i
				if rng.IntN(8) == 0 {
					visit = -1 // the code was deleted
				}
				nextMsg(chat, first, visit, "")
				if visit >= 0 && rng.IntN(12) == 0 {
					// The same page view's code from a second phone.
					nextMsg(fmt.Sprintf("whatsapp:1650777%04d", p), first.Add(time.Duration(30+rng.IntN(600))*time.Second), i, "")
				}
				if visit >= 0 && rng.IntN(12) == 0 {
					// And through Telegram's start payload.
					nextMsg(fmt.Sprintf("telegram:%d", 880000+p), first.Add(time.Duration(30+rng.IntN(600))*time.Second), i, "")
				}
			case k < 8: // a click-to-WhatsApp ad
				first = at
				nextMsg(chat, first, -1, fmt.Sprintf("12022%d", rng.IntN(5)))
			default: // a message with no source
				first = at
				nextMsg(chat, first, -1, "")
			}
			for range rng.IntN(4) {
				nextMsg(chat, first.Add(time.Duration(1+rng.IntN(72*60))*time.Minute), -1, "")
			}
			for range rng.IntN(3) {
				event(chat, first.Add(time.Duration(rng.Int64N(int64(100*24*time.Hour)))))
			}
			if rng.IntN(8) == 0 {
				// At the window's edge: just inside, or exactly on it.
				edge := first.Add(m.window)
				if rng.IntN(2) == 0 {
					edge = edge.Add(-time.Millisecond)
				}
				event(chat, edge)
			}
			at = first.Add(time.Duration(1+rng.IntN(30)) * 24 * time.Hour)
		}
	}
	// An event for a chat that never wrote.
	event("whatsapp:19995550000", start.Add(24*time.Hour))
	return m
}

// fact is one delivery of the stream through the public endpoints.
type fact struct {
	at   time.Time // when it happened
	send func(t *testing.T, w *testWorld)
}

// deliveries turns the stream into HTTP calls: WhatsApp messages as signed
// Cloud API notifications (with the referral in its documented shape),
// Telegram starts as Bot API updates, events through the events API.
func (m *modelStream) deliveries(t *testing.T, w *testWorld) []fact {
	var out []fact
	for _, msg := range m.msgs {
		msg := msg
		out = append(out, fact{at: msg.at, send: func(t *testing.T, w *testWorld) {
			t.Helper()
			channel, id, _ := strings.Cut(msg.chat, ":")
			if channel == "telegram" {
				uid, _ := strconv.ParseInt(id, 10, 64)
				upd, _ := strconv.ParseInt(strings.TrimPrefix(msg.id, "wamid.M"), 10, 64)
				body := tgUpdateJSON("message", upd, uid, uid, msg.at, "/start "+m.visits[msg.visit].start, "en")
				if status, _, b := w.postTelegram(t, "?bot=demo_bot", body); status != 200 {
					t.Fatalf("telegram %s: %d %s", msg.id, status, b)
				}
				return
			}
			text := "Hello, is it in stock?"
			if msg.visit >= 0 {
				text = "Hello! My request code: " + m.visits[msg.visit].code
			}
			raw := waTextJSON(id, msg.id, msg.at, text)
			if msg.ad != "" {
				ref := fmt.Sprintf(`,"referral":{"source_url":"https://fb.me/%s","source_id":%q,"source_type":"ad","headline":"Ad %s","media_type":"image","ctwa_clid":"clid-%s"}}`,
					msg.ad, msg.ad, msg.ad, msg.id)
				raw = strings.TrimSuffix(raw, "}") + ref
			}
			body := waNotification("15551234567", waContactJSON("Visitor "+id[len(id)-2:], id), raw)
			if status, _, b := w.postWhatsApp(t, body); status != 200 {
				t.Fatalf("whatsapp %s: %d %s", msg.id, status, b)
			}

		}})
	}
	for _, e := range m.events {
		e := e
		out = append(out, fact{at: e.at, send: func(t *testing.T, w *testWorld) {
			t.Helper()
			body := jsonBody(t, map[string]any{"chat": e.chat, "category": e.category, "id": e.id,
				"time": e.at.UTC().Format(time.RFC3339Nano), "value": float64(e.value) / 1000})
			resp, b := w.do(t, request("POST", "/v1/sites/demo/events", body, "Authorization", demoAuth, "Content-Type", "application/json"))
			if resp.StatusCode != 200 {
				t.Fatalf("event %s: %d %s", e.id, resp.StatusCode, b)
			}
		}})
	}
	return out
}

// prepare registers each visit through POST /v1/visits at its time
// and makes the category changes at theirs, in time order.
func (m *modelStream) prepare(t *testing.T, w *testWorld, until time.Time, visitsDone, choicesDone *int) {
	t.Helper()
	if m.order == nil {
		m.order = make([]int, len(m.visits))
		for i := range m.order {
			m.order[i] = i
		}
		slices.SortStableFunc(m.order, func(a, b int) int { return m.visits[a].at.Compare(m.visits[b].at) })
	}
	for {
		oi, ci := *visitsDone, *choicesDone
		vi := -1
		var next time.Time
		isVisit := false
		if oi < len(m.order) && !m.visits[m.order[oi]].at.After(until) {
			vi = m.order[oi]
			next, isVisit = m.visits[vi].at, true
		}
		if ci < len(m.choices) && !m.choices[ci].at.After(until) && (!isVisit || m.choices[ci].at.Before(next)) {
			next, isVisit = m.choices[ci].at, false
		} else if !isVisit {
			return
		}
		w.clock.Set(next)
		if isVisit {
			body := jsonBody(t, map[string]string{"site": "demo", "url": m.visits[vi].url, "landing": m.visits[vi].url, "lang": "en-US"})
			resp, b := w.do(t, request("POST", "/v1/visits", body, "Origin", testOrigin, "Content-Type", "text/plain"))
			if resp.StatusCode != 200 {
				t.Fatalf("register visit: %d %s", resp.StatusCode, b)
			}
			var out intake.VisitResponse
			if err := json.Unmarshal(b, &out); err != nil {
				t.Fatal(err)
			}
			m.visits[vi].code, m.visits[vi].start = out.Code, out.Start
			*visitsDone = oi + 1
			continue
		}
		body := jsonBody(t, map[string]string{"category": m.choices[ci].category})
		resp, b := w.do(t, request("PUT", "/v1/sites/demo/conversion-event", body, "Authorization", demoAuth, "Content-Type", "application/json"))
		if resp.StatusCode != 200 {
			t.Fatalf("choose %s: %d %s", m.choices[ci].category, resp.StatusCode, b)
		}
		*choicesDone = ci + 1
	}
}

// numbers are what one report row counts.
type numbers struct {
	Conversations, Sessions, Conversions int64
	Revenue                              int64 // thousandths
}

func (n numbers) String() string {
	return fmt.Sprintf("conversations %d sessions %d conversions %d revenue %.3f",
		n.Conversations, n.Sessions, n.Conversions, float64(n.Revenue)/1000)
}

// expected adds the model's conversations of a range into report rows.
func expected(convs []modelConv, from, to string, key func(c modelConv) []string) map[string]numbers {
	out := map[string]numbers{}
	for _, c := range convs {
		day := c.at.UTC().Format(time.DateOnly)
		if day < from || day > to {
			continue
		}
		for _, k := range key(c) {
			if k == "" {
				continue
			}
			n := out[k]
			n.Conversations++
			if c.attributed {
				n.Sessions++
			}
			if c.converted {
				n.Conversions++
				n.Revenue += c.value
			}
			out[k] = n
		}
	}
	return out
}

// reportRow is a row of any report as its JSON shows it.
type reportRow struct {
	AdID          string   `json:"ad_id"`
	Channel       string   `json:"channel"`
	Source        string   `json:"source"`
	Kind          string   `json:"kind"`
	URL           string   `json:"url"`
	Dialog        string   `json:"dialog"`
	Period        string   `json:"period"`
	Conversations int64    `json:"conversations"`
	Sessions      *int64   `json:"sessions"`
	Conversions   *int64   `json:"conversions"`
	Revenue       *float64 `json:"revenue"`
}

func (r reportRow) numbers(sessions bool) numbers {
	n := numbers{Conversations: r.Conversations}
	if r.Sessions != nil {
		n.Sessions = *r.Sessions
	}
	if !sessions {
		n.Sessions = n.Conversations // the ads report counts sessions as conversations
	}
	if r.Conversions != nil {
		n.Conversions = *r.Conversions
	}
	if r.Revenue != nil {
		n.Revenue = int64(*r.Revenue*1000 + 0.5)
	}
	return n
}

// checkReports compares every report over a range with the model.
func checkReports(t *testing.T, w *testWorld, convs []modelConv, from, to string) {
	t.Helper()
	get := func(path string) []reportRow {
		resp, b := w.do(t, request("GET", "/v1/sites/demo/reports/"+path+"from="+from+"&to="+to, nil, "Authorization", demoAuth))
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		var rep struct {
			Rows []reportRow `json:"rows"`
		}
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return rep.Rows
	}
	compare := func(name string, want map[string]numbers, rows []reportRow, key func(r reportRow) string, sessions bool) {
		t.Helper()
		got := map[string]numbers{}
		for _, r := range rows {
			if n := r.numbers(sessions); n != (numbers{}) {
				got[key(r)] = n
			}
		}
		for k, n := range want {
			if got[k] != n {
				t.Errorf("%s %s..%s %q: got %v, model %v", name, from, to, k, got[k], n)
			}
		}
		for k, n := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("%s %s..%s %q: got %v, the model has no such row", name, from, to, k, n)
			}
		}
	}
	attributedOnly := func(key func(c modelConv) string) func(c modelConv) []string {
		return func(c modelConv) []string {
			if !c.attributed {
				return nil
			}
			return []string{key(c)}
		}
	}
	compare("ads", expected(convs, from, to, attributedOnly(func(c modelConv) string { return c.ad })),
		get("ads?"), func(r reportRow) string { return r.AdID }, false)
	compare("channels", expected(convs, from, to, func(c modelConv) []string {
		if !c.attributed {
			return []string{"unattributed/"}
		}
		return []string{c.channel + "/" + c.source}
	}), get("channels?"), func(r reportRow) string { return r.Channel + "/" + r.Source }, true)
	compare("pages", expected(convs, from, to, func(c modelConv) []string {
		if !c.attributed {
			return []string{"page unattributed", "landing unattributed"}
		}
		return []string{"page " + c.page, "landing " + c.page}
	}), get("pages?"), func(r reportRow) string { return r.Kind + " " + r.URL }, true)
	compare("new-repeat", expected(convs, from, to, func(c modelConv) []string { return []string{c.dialog} }),
		get("new-repeat?"), func(r reportRow) string { return r.Dialog }, true)
	compare("dynamics", expected(convs, from, to, func(c modelConv) []string { return []string{c.at.UTC().Format(time.DateOnly)} }),
		get("dynamics?by=day&"), func(r reportRow) string { return r.Period }, true)
}

// TestAttributionMatchesTheModel sends seeded streams through the public
// endpoints, in time order (with some deliveries late) and shuffled, and
// checks that every report row over several ranges, cut sessions included,
// equals the model's.
func TestAttributionMatchesTheModel(t *testing.T) {
	// Visits expire in Redis' own time, set from the collector's clock:
	// the stream starts in the days ahead so that none has expired.
	start := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 2)
	const days = 60
	day := func(n int) string { return start.AddDate(0, 0, n).Format(time.DateOnly) }
	monthEnd := time.Date(start.Year(), start.Month()+1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	ranges := [][2]string{
		{day(-1), day(200)}, // everything
		{day(17), day(43)},  // cuts sessions at both ends
		{monthEnd.Format(time.DateOnly), monthEnd.AddDate(0, 0, 1).Format(time.DateOnly)}, // across a month's end
		{day(29), day(29)}, // one day
		{day(0), day(27)},  // four weeks
	}
	for _, seed := range []uint64{1, 2, 3} {
		for _, order := range []string{"time", "shuffled"} {
			t.Run(fmt.Sprintf("seed %d, %s order", seed, order), func(t *testing.T) {
				m := newModelStream(seed, start, days)
				w := newTestWorldAt(t, start.Add(-time.Hour))
				var visitsDone, choicesDone int
				facts := m.deliveries(t, w)
				rng := rand.New(rand.NewPCG(seed, 99))
				switch order {
				case "time":
					// Delivered when they happen; one in twenty a day late.
					type timed struct {
						deliver time.Time
						f       fact
					}
					var list []timed
					for _, f := range facts {
						d := f.at.Add(time.Second)
						if rng.IntN(20) == 0 {
							d = d.Add(26 * time.Hour)
						}
						list = append(list, timed{d, f})
					}
					slices.SortStableFunc(list, func(a, b timed) int { return a.deliver.Compare(b.deliver) })
					for _, d := range list {
						m.prepare(t, w, d.deliver, &visitsDone, &choicesDone)
						w.clock.Set(d.deliver)
						d.f.send(t, w)
					}
				case "shuffled":
					end := start.Add(200 * 24 * time.Hour)
					m.prepare(t, w, end, &visitsDone, &choicesDone)
					w.clock.Set(end)
					rng.Shuffle(len(facts), func(i, j int) { facts[i], facts[j] = facts[j], facts[i] })
					for _, f := range facts {
						f.send(t, w)
					}
				}
				convs := m.runModel()
				var sessions, conversions int
				for _, c := range convs {
					if c.attributed {
						sessions++
					}
					if c.converted {
						conversions++
					}
				}
				if sessions < 100 || conversions < 20 {
					t.Fatalf("the stream is too thin to prove anything: %d sessions, %d conversions", sessions, conversions)
				}
				t.Logf("%d messages, %d events: %d conversations, %d sessions, %d conversions",
					len(m.msgs), len(m.events), len(convs), sessions, conversions)
				for _, r := range ranges {
					checkReports(t, w, convs, r[0], r[1])
				}
			})
		}
	}
}
