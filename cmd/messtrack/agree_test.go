package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

const agreeConfig = `
public_url: http://127.0.0.1:8080
redis: REDIS
sites:
  demo:
    api_key: demo-key-123
    id_secret: demo-secret-0123456789
    origins: [http://shop.test]
    whatsapp:
      - number: "15551234567"
    conversion_event: purchase
`

// agreeWorld is a collector and the command line on one Redis.
type agreeWorld struct {
	srv     *collector.Server
	cfgPath string
}

func (w *agreeWorld) call(t *testing.T, method, path string, body any, headers ...string) []byte {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer demo-key-123")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := w.srv.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 && resp.StatusCode != 204 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return b
}

func (w *agreeWorld) cli(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append(args, "--config", w.cfgPath)
	if err := run(context.Background(), args, &out, &errOut, func(string) string { return "" }); err != nil {
		t.Fatalf("messtrack %v: %v\n%s", args, err, errOut.String())
	}
	return out.String()
}

// csvCells reads a report's CSV into row → column → cell, a row named by
// its leading text cells ("totals" and "total" both name the totals row).
func csvCells(t *testing.T, raw []byte) map[string]map[string]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil || len(recs) < 2 {
		t.Fatalf("CSV %v: %s", err, raw)
	}
	head := recs[0]
	numeric := map[string]bool{"conversations": true, "share": true, "sessions": true, "conversions": true,
		"conversion_rate": true, "revenue": true, "cost": true, "reach": true, "cost_per_conversation": true, "cost_per_conversion": true}
	out := map[string]map[string]string{}
	for _, r := range recs[1:] {
		var key []string
		cells := map[string]string{}
		for i, col := range head {
			if i >= len(r) {
				break
			}
			if numeric[col] {
				cells[col] = r[i]
			} else if col == head[0] || col == "channel" || col == "source" || col == "url" || col == "kind" || col == "ad_id" {
				cell := r[i]
				if cell == "totals" {
					cell = "total"
				}
				key = append(key, cell)
			}
		}
		out[strings.Join(key, "|")] = cells
	}
	return out
}

// signIn signs in to the dashboard as an operator would (the form's token
// from its cookie, the site's name and key) and returns the session cookie.
func (w *agreeWorld) signIn(t *testing.T) *http.Cookie {
	t.Helper()
	req, _ := http.NewRequest("GET", "/dashboard/signin", nil)
	resp, err := w.srv.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var login *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "mt_dash_login" {
			login = c
		}
	}
	if login == nil {
		t.Fatal("the sign-in form set no login cookie")
	}
	form := url.Values{"csrf": {login.Value}, "site": {"demo"}, "key": {"demo-key-123"}}
	req, _ = http.NewRequest("POST", "/dashboard/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(login)
	resp, err = w.srv.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "mt_dash" && c.Value != "" {
			return c
		}
	}
	t.Fatalf("sign-in answered %d without a session", resp.StatusCode)
	return nil
}

// page fetches a dashboard page with the session cookie.
func (w *agreeWorld) page(t *testing.T, path string, session *http.Cookie) string {
	t.Helper()
	req, _ := http.NewRequest("GET", path, nil)
	req.AddCookie(session)
	resp, err := w.srv.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%s: %d %v %.300s", path, resp.StatusCode, err, b)
	}
	return string(b)
}

// rowsAndTotals is the part of a report both surfaces must agree on.
func rowsAndTotals(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	return map[string]any{"rows": m["rows"], "totals": m["totals"], "previous": m["previous"], "keep": m["keep"], "verdict": m["verdict"]}
}

// TestReportsAgreeAcrossSurfaces: on one history, every report is the same
// through the HTTP API, the command line (JSON and CSV) and the dashboard's
// CSV downloads, the chat records' sessions add up to the ads report, and a
// recount changes none of it.
func TestReportsAgreeAcrossSurfaces(t *testing.T) {
	redisURL, _ := redistest.NewURL(t)
	path := filepath.Join(t.TempDir(), "messtrack.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(agreeConfig, "REDIS", `"`+redisURL+`"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := store.Open(ctx, cfg.Redis, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	day := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -20)
	clock := store.NewManualClock(day)
	c, err := collector.New(ctx, collector.Options{Config: cfg, Redis: db.Client, Clock: clock, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	w := &agreeWorld{srv: c, cfgPath: path}

	// Visitors A, B and C come from three campaigns; A comes back through
	// another a week later; D writes with no source.
	visit := func(query string) string {
		b := w.call(t, "POST", "/v1/visits", map[string]string{"site": "demo", "url": "http://shop.test/p?" + query,
			"landing": "http://shop.test/p?" + query}, "Origin", "http://shop.test")
		var v struct{ Visit, Code string }
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		clock.Advance(20 * time.Second)
		w.call(t, "POST", "/v1/clicks", map[string]string{"site": "demo", "visit": v.Visit, "target": "whatsapp:15551234567",
			"page": "http://shop.test/p"}, "Origin", "http://shop.test")
		return v.Code
	}
	message := func(from, text string) {
		clock.Advance(2 * time.Minute)
		w.call(t, "POST", "/v1/sites/demo/messages", map[string]string{"channel": "whatsapp", "from": from,
			"to": "15551234567", "text": text, "time": clock.Now().Format(time.RFC3339)})
	}
	event := func(chat, cat string, value float64) {
		clock.Advance(time.Hour)
		w.call(t, "POST", "/v1/sites/demo/events", map[string]any{"chat": chat, "category": cat, "value": value,
			"time": clock.Now().Format(time.RFC3339)})
	}
	for i, q := range []string{"utm_source=google&utm_medium=cpc&utm_campaign=brand&utm_content=ad-1",
		"utm_source=newsletter&utm_medium=email&utm_campaign=nov", "utm_source=google&utm_medium=cpc&utm_campaign=brand&utm_content=ad-2"} {
		code := visit(q)
		message(fmt.Sprintf("1650555000%d", i), "Hello! My request code: "+code)
	}
	message("16505559999", "hello, no code here")
	event("whatsapp:16505550000", "purchase", 12.5)
	event("whatsapp:16505550001", "lead", 0)
	clock.Advance(7 * 24 * time.Hour)
	message("16505550000", "back again "+visit("utm_source=google&utm_medium=cpc&utm_campaign=brand&utm_content=ad-2"))
	event("whatsapp:16505550000", "purchase", 30)
	event("whatsapp:16505550002", "purchase", 7.25)

	from, to := day.Format(time.DateOnly), clock.Now().Format(time.DateOnly)
	q := "from=" + from + "&to=" + to
	for _, rep := range []string{"ads", "channels", "pages", "new-repeat", "dynamics", "codes", "experiments"} {
		api := w.call(t, "GET", "/v1/sites/demo/reports/"+rep+"?"+q+"&format=json&by=week", nil)
		cli := w.cli(t, "report", "--site", "demo", rep, "--from", from, "--to", to, "--format", "json", "--by", "week")
		if rep == "codes" && !strings.Contains(string(api), `"kept"`) {
			t.Errorf("the codes report counted nothing: %s", api)
		}
		if a, b := rowsAndTotals(t, api), rowsAndTotals(t, []byte(cli)); !reflect.DeepEqual(a, b) {
			t.Errorf("%s: the API and the command line differ:\n%v\n%v", rep, a, b)
		}
		apiCSV := w.call(t, "GET", "/v1/sites/demo/reports/"+rep+"?"+q+"&format=csv&by=week", nil)
		cliCSV := w.cli(t, "report", "--site", "demo", rep, "--from", from, "--to", to, "--format", "csv", "--by", "week")
		if string(apiCSV) != cliCSV {
			t.Errorf("%s CSV differs:\n%s\n%s", rep, apiCSV, cliCSV)
		}
	}

	// The WhatsApp reports: a template message recorded by a platform that
	// sends itself, the same on both surfaces.
	w.call(t, "POST", "/v1/sites/demo/whatsapp/outbound", map[string]string{"message_id": "wamid.agree1", "template": "spring_sale",
		"language": "en_US", "category": "marketing", "to": "16505550000", "time": clock.Now().Add(-time.Hour).Format(time.RFC3339)})
	for _, rep := range []string{"whatsapp", "templates"} {
		api := w.call(t, "GET", "/v1/sites/demo/reports/"+rep+"?"+q+"&format=json", nil)
		cli := w.cli(t, "report", "--site", "demo", rep, "--from", from, "--to", to, "--format", "json")
		if a, b := rowsAndTotals(t, api), rowsAndTotals(t, []byte(cli)); !reflect.DeepEqual(a, b) {
			t.Errorf("%s: the API and the command line differ:\n%v\n%v", rep, a, b)
		}
		apiCSV := w.call(t, "GET", "/v1/sites/demo/reports/"+rep+"?"+q+"&format=csv", nil)
		cliCSV := w.cli(t, "report", "--site", "demo", rep, "--from", from, "--to", to, "--format", "csv")
		if string(apiCSV) != cliCSV {
			t.Errorf("%s CSV differs:\n%s\n%s", rep, apiCSV, cliCSV)
		}
	}
	if !strings.Contains(w.cli(t, "report", "--site", "demo", "templates", "--from", from, "--to", to), "spring_sale") {
		t.Error("the templates table lacks the recorded template")
	}

	// The dashboard's CSV downloads hold the same numbers in every column
	// both have (the API's adds the notes and the split by category).
	session := w.signIn(t)
	for _, rep := range []string{"ads", "channels", "pages", "new-repeat", "codes"} {
		api := csvCells(t, w.call(t, "GET", "/v1/sites/demo/reports/"+rep+"?"+q+"&format=csv", nil))
		dash := csvCells(t, []byte(w.page(t, "/dashboard/"+rep+"?"+q+"&format=csv", session)))
		if len(dash) == 0 || len(dash) != len(api) {
			t.Errorf("%s: %d dashboard rows, %d API rows", rep, len(dash), len(api))
		}
		for row, cols := range dash {
			for col, v := range cols {
				if av, ok := api[row][col]; ok && av != v {
					t.Errorf("%s row %q column %s: dashboard %q, API %q", rep, row, col, v, av)
				}
			}
		}
	}

	var ads struct {
		Totals struct {
			Conversations int64
			Conversions   int64
			Revenue       float64
		}
	}
	if err := json.Unmarshal(w.call(t, "GET", "/v1/sites/demo/reports/ads?"+q, nil), &ads); err != nil {
		t.Fatal(err)
	}
	var sessions, converted int64
	var revenue float64
	for _, chat := range []string{"whatsapp:16505550000", "whatsapp:16505550001", "whatsapp:16505550002", "whatsapp:16505559999"} {
		var rec struct {
			Sessions []struct {
				Status     string
				Conversion *struct{ Value float64 }
			}
		}
		if err := json.Unmarshal(w.call(t, "GET", "/v1/sites/demo/chats/"+url.PathEscape(chat), nil), &rec); err != nil {
			t.Fatal(err)
		}
		for _, s := range rec.Sessions {
			sessions++
			if s.Conversion != nil {
				converted++
				revenue += s.Conversion.Value
			}
		}
	}
	if sessions != 4 || converted != 3 || revenue != 49.75 ||
		ads.Totals.Conversations != sessions || ads.Totals.Conversions != converted || ads.Totals.Revenue != revenue {
		t.Errorf("chat records: %d sessions, %d converted, %.2f revenue; ads totals %+v; want 4, 3, 49.75 in both",
			sessions, converted, revenue, ads.Totals)
	}

	// A recount rebuilds the channels report to the same numbers and
	// leaves the code-survival counters, which it does not rebuild, alone.
	recounted := []string{"channels", "codes", "experiments"}
	before := map[string][]byte{}
	for _, rep := range recounted {
		before[rep] = w.call(t, "GET", "/v1/sites/demo/reports/"+rep+"?"+q, nil)
	}
	out := w.cli(t, "recount", "--site", "demo")
	if !strings.Contains(out, "recount: 4 chats\n") || !strings.Contains(out, "recount: done: 4 chats, 5 conversations, 3 conversions") ||
		!strings.Contains(out, "code-survival counters (codes, experiments) are left as they were") {
		t.Errorf("recount said:\n%s", out)
	}
	for _, rep := range recounted {
		if after := w.call(t, "GET", "/v1/sites/demo/reports/"+rep+"?"+q, nil); !reflect.DeepEqual(rowsAndTotals(t, before[rep]), rowsAndTotals(t, after)) {
			t.Errorf("recount changed the %s report:\n%s\n%s", rep, before[rep], after)
		}
	}
}
