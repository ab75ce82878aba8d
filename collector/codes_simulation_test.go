package collector

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/codes"
	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/reports"
)

// The code-survival simulation: visitors of three sites (token, emoji,
// invisible+token codes, and a Telegram bot's start links on the first)
// get one of two templates by the real pick, click, and most write; each
// keeps the code with a known probability per format and template, else
// edits it (one symbol changed) or deletes it. Every visit, click and
// message goes through the collector on a real Redis; the chats the
// heuristic leaves unmatched are confirmed by an operator, as the
// Unmatched page has them do. The report must recover every true rate
// inside its 95 % interval, and each site's experiment must keep the
// better template.
//
//	go test ./collector/ -run TestCodeSurvivalSimulation -v

const codeSimConfigYAML = `
sites:
  tok:
    api_key: tok-key-123
    id_secret: tok-secret-0123456789
    id_format: token
    whatsapp: [{number: "15551110000"}]
    telegram: {bots: [shopbot]}
    messages:
      - {text: "Hello! My request code: {id}"}
      - {text: "Hi! Please keep this code so we find your order: {id}"}
  emo:
    api_key: emo-key-123
    id_secret: emo-secret-0123456789
    id_format: emoji
    whatsapp: [{number: "15552220000"}]
    messages:
      - {text: "Hello! My request code: {id}"}
      - {text: "Hi! Please keep this code so we find your order: {id}"}
  inv:
    api_key: inv-key-123
    id_secret: inv-secret-0123456789
    id_format: invisible+token
    whatsapp: [{number: "15553330000"}]
    messages:
      - {text: "Hello! My request code: {id}"}
      - {text: "Hi! Please keep this code so we find your order: {id}"}
`

// codeSimTruth is the probability of keeping the code, per format and
// template (index in messages; start links have none).
var codeSimTruth = map[string][2]float64{
	"token":           {0.78, 0.88},
	"emoji":           {0.70, 0.82},
	"invisible+token": {0.85, 0.93},
	"start":           {0.95, 0.95},
}

type codeSimCell struct{ writers, kept int }

func TestCodeSurvivalSimulation(t *testing.T) {
	w := newTestWorld(t, codeSimConfigYAML)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(19, 2024))
	const visitors = 700 // per site; one in four on the bot for "tok"
	at := w.clock.Now()
	from := at
	cells := map[string]*codeSimCell{} // "format|template key"
	writersOf := map[string]int{}
	chat := 0
	for _, name := range []string{"tok", "emo", "inv"} {
		st := w.srv.sites[name]
		for i := 0; i < visitors; i++ {
			// Visitors ten minutes apart: the heuristic sees one click
			// at a time, and an operator confirms what it leaves.
			at = at.Add(10 * time.Minute)
			w.clock.Set(at)
			v := &visit.Visit{Time: at, Page: "https://shop.test/", Landing: "https://shop.test/",
				VisitorID: fmt.Sprintf("%s-visitor-%d", name, i), Language: []string{"en-US", "pt-BR", "ru"}[r.IntN(3)],
				Device: []string{"mobile", "desktop"}[r.IntN(2)], Channel: "organic_search"}
			v.Template = codes.Pick(name, st.cfg.Messages, v.VisitorID).Key()
			if err := w.srv.saveVisit(ctx, st, v); err != nil {
				t.Fatal(err)
			}
			bot := name == "tok" && r.IntN(4) == 0
			target := "whatsapp:" + st.cfg.WhatsApp[0].Number
			format := st.cfg.IDFormat
			if bot {
				target, format = "telegram:shopbot", "start"
			}
			if err := w.srv.recordClick(ctx, st, v.N, target, "https://shop.test/p/roses"); err != nil {
				t.Fatal(err)
			}
			if r.Float64() >= 0.6 {
				continue // clicked, never wrote
			}
			ti := 0
			if v.Template == st.cfg.Messages[1].Key() {
				ti = 1
			}
			key := format + "|" + v.Template
			if bot {
				key = format + "|" + reports.NoTemplate
			}
			if cells[key] == nil {
				cells[key] = &codeSimCell{}
			}
			cells[key].writers++
			writersOf[format]++
			keep := r.Float64() < codeSimTruth[format][ti]
			if keep {
				cells[key].kept++
			}
			gap := time.Duration(40 * math.Exp(0.9*r.NormFloat64()) * float64(time.Second))
			msgAt := at.Add(gap).Truncate(time.Second)
			w.clock.Set(msgAt)
			chat++
			in := &inbound.Message{Messenger: "whatsapp", Chat: fmt.Sprintf("whatsapp:1555900%04d", chat), Name: "Visitor",
				Target: target, Time: msgAt, MessageID: fmt.Sprintf("wa:codesim%d", chat)}
			in.Phone = strings.TrimPrefix(in.Chat, "whatsapp:")
			in.Text = codeSimText(r, st, v, ti, keep, bot, in)
			m, err := w.srv.receive(ctx, st, in)
			if err != nil {
				t.Fatal(err)
			}
			if m.Method == reports.MethodNone {
				// The operator confirms the visit the chat came from.
				if _, err := w.srv.confirmCandidate(ctx, st, in.Chat, st.codec.VisitID(v.N)); err != nil {
					t.Fatalf("confirm: %v", err)
				}
			}
			at = msgAt
		}
	}
	to := reports.Day(w.cfg.Site("tok"), at)
	day := reports.Day(w.cfg.Site("tok"), from)

	// Per format and per template (over the sites' templates), the truth
	// is the writers' mix of the generating probabilities.
	type agg struct {
		writers int
		sum     float64
		row     *reports.CodeRow
	}
	want := map[string]*agg{}
	for key, c := range cells {
		f, tk, _ := strings.Cut(key, "|")
		ti := 0
		if tk == w.cfg.Site("tok").Messages[1].Key() {
			ti = 1
		}
		for _, k := range []string{"format|" + f, "template|" + tk} {
			if want[k] == nil {
				want[k] = &agg{}
			}
			want[k].writers += c.writers
			want[k].sum += float64(c.writers) * codeSimTruth[f][ti]
		}
	}
	t.Logf("| format or template | chats | kept | edited | deleted | true survival | measured (95 %% interval) | median / p90 s |")
	t.Logf("|---|---|---|---|---|---|---|---|")
	var keeps []string
	for _, name := range []string{"tok", "emo", "inv"} {
		rep, err := w.srv.reports.Codes(ctx, name, reports.Range{From: day, To: to})
		if err != nil {
			t.Fatal(err)
		}
		for i := range rep.Rows {
			row := &rep.Rows[i]
			if row.Dimension != "format" && row.Dimension != "template" {
				continue
			}
			a := want[row.Dimension+"|"+row.Value]
			if a == nil {
				t.Errorf("%s: a row %s %s with no writers", name, row.Dimension, row.Value)
				continue
			}
			if a.row == nil {
				a.row = &reports.CodeRow{Dimension: row.Dimension, Value: row.Value, Label: row.Label}
			}
			a.row.Clicks += row.Clicks
			a.row.Kept += row.Kept
			a.row.Edited += row.Edited
			a.row.Deleted += row.Deleted
			if row.Dimension == "format" {
				a.row.MedianSeconds, a.row.P90Seconds = row.MedianSeconds, row.P90Seconds
			}
		}
		exp, err := w.srv.reports.Experiments(ctx, name, reports.Range{From: day, To: to})
		if err != nil {
			t.Fatal(err)
		}
		keeps = append(keeps, fmt.Sprintf("%s: %s", name, exp.Verdict))
		if exp.Keep != "" && exp.Keep != w.cfg.Site(name).Messages[1].Key() {
			t.Errorf("%s: the experiment keeps %s, the truly worse template", name, exp.Keep)
		}
	}
	for _, k := range []string{"format|token", "format|emoji", "format|invisible+token", "format|start",
		"template|" + w.cfg.Site("tok").Messages[0].Key(), "template|" + w.cfg.Site("tok").Messages[1].Key()} {
		a := want[k]
		if a == nil || a.row == nil {
			t.Errorf("%s: no row", k)
			continue
		}
		row := a.row
		chats := row.Kept + row.Edited + row.Deleted
		truth := a.sum / float64(a.writers)
		lo, hi := reports.Wilson(row.Kept, chats)
		med, p90 := "", ""
		if row.MedianSeconds != nil {
			med, p90 = fmt.Sprintf("%.0f", *row.MedianSeconds), fmt.Sprintf("%.0f", *row.P90Seconds)
		}
		t.Logf("| %s | %d | %d | %d | %d | %.1f %% | %.1f %% (%.1f–%.1f) | %s / %s |", k, chats, row.Kept, row.Edited, row.Deleted,
			100*truth, 100*float64(row.Kept)/float64(chats), 100*lo, 100*hi, med, p90)
		if int(chats) != a.writers {
			t.Errorf("%s: %d chats counted, %d people wrote", k, chats, a.writers)
		}
		if truth < lo || truth > hi {
			t.Errorf("%s: true survival %.3f outside [%.3f, %.3f]", k, truth, lo, hi)
		}
	}
	for _, k := range keeps {
		t.Log(k)
	}
	// The API answers both reports in JSON and CSV, by the column lists.
	for _, rep := range []string{"codes", "experiments"} {
		for _, format := range []string{"json", "csv"} {
			resp, body := w.do(t, request("GET", "/v1/sites/tok/reports/"+rep+"?from="+day+"&to="+to+"&format="+format, nil,
				"Authorization", "Bearer tok-key-123"))
			if resp.StatusCode != 200 {
				t.Fatalf("%s %s: %d %s", rep, format, resp.StatusCode, body)
			}
			head := "dimension,value,label,clicks"
			if rep == "experiments" {
				head = "template,text,weight,clicks"
			}
			if format == "csv" && !strings.HasPrefix(string(body), head) {
				t.Errorf("%s csv starts %q", rep, clip(string(body), 60))
			}
			if format == "json" && !strings.Contains(string(body), `"rows"`) {
				t.Errorf("%s json: %s", rep, clip(string(body), 200))
			}
		}
	}
}

// codeSimText is the first message: the template with the code (sometimes
// inside a longer message, sometimes with the platform's zero-width
// characters stripped), the code with one symbol changed, or no code.
func codeSimText(r *rand.Rand, st *site, v *visit.Visit, ti int, keep, bot bool, in *inbound.Message) string {
	if bot {
		if keep {
			in.Start, in.HasStart = st.codec.Start(v.N), true
			return "/start " + in.Start
		}
		return "Hi, do you deliver on Sundays?"
	}
	code := st.codec.Code(v.N, st.style)
	tmpl := st.cfg.Messages[ti].Text
	if !keep {
		if r.IntN(5) < 2 { // two in five of those who lose it edit it
			visible := st.codec.Token(v.N)
			if st.style.Visible().String() == "emoji" {
				visible = st.codec.Emoji(v.N)
				rs := []rune(visible)
				rs[2] = rs[3]
				return strings.Replace(tmpl, "{id}", string(rs), 1)
			}
			return strings.Replace(tmpl, "{id}", editCode(r, visible), 1)
		}
		return []string{"Hello, I would like to order", "Hi! Roses for Friday, please", "Is the red bouquet available?"}[r.IntN(3)]
	}
	text := strings.Replace(tmpl, "{id}", code, 1)
	switch r.IntN(4) {
	case 0: // pasted into a longer message
		text = "Good morning! " + text + " I want the red roses for Friday."
	case 1: // the platform strips zero-width characters
		text = strings.Map(func(c rune) rune {
			if strings.ContainsRune("\u200b\u200c\u2060\u2063", c) {
				return -1
			}
			return c
		}, text)
	}
	return text
}
