package collector

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"github.com/messtrack/messtrack/collector/collectortest"
	"github.com/messtrack/messtrack/collector/dashboard"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/reports"
)

func TestDashboardReportPages(t *testing.T) {
	w := newDashWorld(t)
	d := newDashClient(w.testWorld)
	d.signIn(t, "demo", "demo-key-123")
	conversations, conversions := collectortest.GoldenAdsTotals(t)
	f := dashboard.NewNumberFormat("USD", time.UTC)
	tests := []struct {
		name string
		path string
		want []string
	}{
		{name: "ads", path: "/dashboard/ads" + collectortest.FixtureQuery(), want: []string{
			"<th scope=\"col\">Ad ID</th>", "Cost per conversation", "Conversion rate", "Revenue",
			"Succulents - image A", "120000000000000001",
			`<tfoot><tr><td>Totals</td>`,
			">" + f.Count(conversations) + "<", ">" + f.Count(conversions) + "<",
			`value="2026-03-16"`, `href="/dashboard/ads?format=csv&amp;from=2026-03-16&amp;to=2026-04-12"`,
		}},
		{name: "channels", path: "/dashboard/channels" + collectortest.FixtureQuery(), want: []string{"messenger_ad", "paid_search", "offline", "flyer", "Totals"}},
		{name: "pages", path: "/dashboard/pages" + collectortest.FixtureQuery(), want: []string{"https://shop.example/cacti", "landing", "Totals"}},
		{name: "new vs repeat", path: "/dashboard/new-repeat" + collectortest.FixtureQuery(), want: []string{">new<", ">repeat<", "Totals"}},
		{name: "dynamics by week", path: "/dashboard/dynamics" + collectortest.FixtureQuery("by", "week"), want: []string{
			`<svg class="chart"`, `class="series s0"`, `class="series s1 prev"`, "2026-W12", "2026-W15",
			"previous period, 2026-02-16 – 2026-03-15",
		}},
		{name: "dynamics of revenue by month", path: "/dashboard/dynamics" + collectortest.FixtureQuery("by", "month", "metric", "revenue"), want: []string{
			"2026-03", "2026-04", "$",
		}},
		{name: "chats", path: "/dashboard/chats", want: []string{"Visitor A", "Visitor C", dashboard.ChatLink(w.matchedChat)}},
		{name: "chat card", path: dashboard.ChatLink(w.matchedChat), want: []string{
			"Visitor A", "paid_search", "spring", "cpc", "gclid", "abc",
			`<a href="https://shop.example/cacti?utm_source=google&amp;utm_medium=cpc&amp;utm_campaign=spring&amp;gclid=abc" rel="noopener noreferrer nofollow"`,
			"Austin", "converted", "won, 2026-04-13 08:31 UTC", "$120.00", "Contact history",
		}},
		{name: "unmatched", path: "/dashboard/unmatched", want: []string{
			"Visitor C", "Do you deliver on Sundays?", w.candidateVisits[0], w.candidateVisits[1], `action="/dashboard/unmatched/confirm"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := d.get(t, tt.path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d\n%s", resp.StatusCode, clip(body, 1500))
			}
			for _, s := range tt.want {
				if !strings.Contains(body, s) {
					t.Errorf("the page lacks %q", s)
				}
			}
			if t.Failed() {
				t.Logf("page:\n%s", clip(body, 6000))
			}
		})
	}
}

func TestDashboardAdsCSV(t *testing.T) {
	w := newDashWorld(t)
	d := newDashClient(w.testWorld)
	d.signIn(t, "demo", "demo-key-123")
	resp, body := d.get(t, "/dashboard/ads"+collectortest.FixtureQuery("format", "csv"))
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="ads-2026-03-16-2026-04-12.csv"` {
		t.Errorf("Content-Disposition = %q", cd)
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := "ad_id,title,type,cost,reach,conversations,cost_per_conversation,conversions,cost_per_conversion,conversion_rate,revenue"
	if strings.Join(recs[0], ",") != wantHeader {
		t.Errorf("header = %v", recs[0])
	}
	conversations, conversions := collectortest.GoldenAdsTotals(t)
	last := recs[len(recs)-1]
	if last[0] != "totals" || last[5] != jsonInt(conversations) || last[7] != jsonInt(conversions) {
		t.Errorf("totals row %v, want %d conversations and %d conversions", last, conversations, conversions)
	}
	sawFormula := false
	for _, r := range recs[1 : len(recs)-1] {
		for _, cell := range r {
			if cell != "" && strings.ContainsRune("=+@\t\r", rune(cell[0])) {
				t.Errorf("cell %q would run as a formula", cell)
			}
		}
		if r[0] == "120000000000000004" {
			sawFormula = r[1] == `'=HYPERLINK("http://evil.example","win")`
		}
	}
	if !sawFormula {
		t.Error("the fixture's formula title is not in the CSV, neutralised")
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestDashboardRefusesBadQueries(t *testing.T) {
	w := newDashWorld(t)
	d := newDashClient(w.testWorld)
	d.signIn(t, "demo", "demo-key-123")
	tests := []struct {
		name, path, want string
	}{
		{name: "a date that is none", path: "/dashboard/ads?from=yesterday", want: "is not a date"},
		{name: "a range backwards", path: "/dashboard/channels?from=2026-04-12&to=2026-03-16", want: "after"},
		{name: "an unknown format", path: "/dashboard/ads?format=xml", want: "is not html or csv"},
		{name: "an unknown grouping", path: "/dashboard/dynamics?by=year", want: "is not one of day, week, month, quarter"},
		{name: "an unknown number", path: "/dashboard/dynamics?metric=<b>x</b>", want: "&lt;b&gt;x&lt;/b&gt;"},
		{name: "an unknown method", path: "/dashboard/chats?method=guess", want: "is not one of"},
		{name: "a chat list date", path: "/dashboard/chats?from=13/04/2026", want: "is not a date"},
		{name: "no such chat", path: dashboard.ChatLink("whatsapp:19990000000"), want: "no chat"},
		{name: "not a chat key", path: "/dashboard/chats/nothing", want: "is not a chat key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := d.get(t, tt.path)
			if resp.StatusCode < 400 || resp.StatusCode >= 500 || !strings.Contains(body, tt.want) || !strings.Contains(body, "<h1>Error</h1>") {
				t.Fatalf("%d, want a 4xx page saying %q:\n%s", resp.StatusCode, tt.want, clip(body, 1500))
			}
		})
	}
}

func TestDashboardChatFilters(t *testing.T) {
	w := newDashWorld(t)
	d := newDashClient(w.testWorld)
	d.signIn(t, "demo", "demo-key-123")
	st := w.demoSite()
	n, err := st.codec.ParseVisitID(mustChatVisit(t, w, w.matchedChat))
	if err != nil {
		t.Fatal(err)
	}
	code := st.codec.Code(n, st.style)
	tests := []struct {
		name  string
		query url.Values
		want  []string
	}{
		{name: "all", query: url.Values{}, want: []string{w.matchedChat, w.hostileChat, w.unmatchedChat}},
		{name: "by name", query: url.Values{"q": {"visitor a"}}, want: []string{w.matchedChat}},
		{name: "by phone", query: url.Values{"q": {"0001003"}}, want: []string{w.unmatchedChat}},
		{name: "by the code the person sent", query: url.Values{"q": {code}}, want: []string{w.matchedChat}},
		{name: "by method", query: url.Values{"method": {"none"}}, want: []string{w.unmatchedChat}},
		{name: "by channel", query: url.Values{"channel": {"paid_search"}}, want: []string{w.matchedChat}},
		{name: "by campaign", query: url.Values{"campaign": {"spring"}}, want: []string{w.matchedChat}},
		{name: "by tag", query: url.Values{"tag": {"cpc"}}, want: []string{w.matchedChat}},
		{name: "by date", query: url.Values{"from": {"2026-04-13"}, "to": {"2026-04-13"}}, want: []string{w.matchedChat, w.hostileChat, w.unmatchedChat}},
		{name: "a day without chats", query: url.Values{"to": {"2026-04-12"}}, want: nil},
	}
	all := []string{w.matchedChat, w.hostileChat, w.unmatchedChat}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := d.get(t, "/dashboard/chats?"+tt.query.Encode())
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %s", resp.StatusCode, clip(body, 800))
			}
			for _, chat := range all {
				listed := strings.Contains(body, `href="`+dashboard.ChatLink(chat)+`"`)
				if want := containsChat(tt.want, chat); listed != want {
					t.Errorf("%s listed = %v, want %v", chat, listed, want)
				}
			}
		})
	}
}

func containsChat(list []string, chat string) bool {
	for _, c := range list {
		if c == chat {
			return true
		}
	}
	return false
}

// mustChatVisit is the visit ID a chat was matched to.
func mustChatVisit(t *testing.T, w *dashWorld, chat string) string {
	t.Helper()
	rec, err := w.srv.chatRecord(context.Background(), w.demoSite(), chat)
	if err != nil || rec.Visit == "" {
		t.Fatalf("chat %s: %v %+v", chat, err, rec)
	}
	return rec.Visit
}

func TestDashboardConfirmCandidate(t *testing.T) {
	tests := []struct {
		name       string
		token      string // "session" posts the session's token
		visit      string // "" posts the first candidate
		wantStatus int
	}{
		{name: "without a token", token: "", wantStatus: http.StatusForbidden},
		{name: "with a wrong token", token: "xyz", wantStatus: http.StatusForbidden},
		{name: "a visit that is no candidate", token: "session", visit: "other", wantStatus: http.StatusBadRequest},
		{name: "with the session's token", token: "session", wantStatus: http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newDashWorld(t)
			d := newDashClient(w.testWorld)
			d.signIn(t, "demo", "demo-key-123")
			form := url.Values{"chat": {w.unmatchedChat}, "visit": {w.candidateVisits[0]}}
			switch tt.token {
			case "session":
				form.Set("csrf", d.csrf(t))
			case "":
			default:
				form.Set("csrf", tt.token)
			}
			if tt.visit == "other" {
				form.Set("visit", mustChatVisit(t, w, w.matchedChat))
			}
			resp, body := d.post(t, "/dashboard/unmatched/confirm", form)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("confirm: %d, want %d\n%s", resp.StatusCode, tt.wantStatus, clip(body, 1000))
			}
			rec, err := w.srv.chatRecord(context.Background(), w.demoSite(), w.unmatchedChat)
			if err != nil {
				t.Fatal(err)
			}
			confirmed := tt.wantStatus == http.StatusSeeOther
			if confirmed != (rec.Confirmed && rec.Method == reports.MethodHeuristic && rec.Visit == w.candidateVisits[0]) {
				t.Fatalf("after a %d the chat is %s confirmed=%v visit %s", resp.StatusCode, rec.Method, rec.Confirmed, rec.Visit)
			}
			if !confirmed {
				return
			}
			if loc := resp.Header.Get("Location"); loc != dashboard.ChatLink(w.unmatchedChat)+"?confirmed=1" {
				t.Errorf("redirect to %q", loc)
			}
			_, card := d.get(t, resp.Header.Get("Location"))
			if !strings.Contains(card, "The candidate is confirmed") || !strings.Contains(card, "confirmed by an operator") {
				t.Errorf("the card does not say the chat is confirmed:\n%s", clip(card, 3000))
			}
			if _, page := d.get(t, "/dashboard/unmatched"); strings.Contains(page, w.unmatchedChat) {
				t.Error("the confirmed chat is still listed as unmatched")
			}
		})
	}
}

// hostileRaw are what must never reach a page unescaped.
var hostileRaw = []string{"<script>window", "<img src=x", "<svg onload", `href="javascript:`, `href="javascript&#`, "alert(\"adid\")\">"}

func TestDashboardEscapesHostileStrings(t *testing.T) {
	w := newDashWorld(t)
	d := newDashClient(w.testWorld)
	d.signIn(t, "demo", "demo-key-123")
	day := "?from=2026-04-13&to=2026-04-13"
	tests := []struct {
		name, path string
		escaped    []string // how the payloads must appear
	}{
		{name: "chat card", path: dashboard.ChatLink(w.hostileChat), escaped: []string{
			"&lt;script&gt;window.__pwned", "&lt;img src=x onerror=", "&#34;&gt;&lt;svg onload=",
			"<dd>javascript:window.__pwned=&#39;href&#39;", "=HYPERLINK(",
		}},
		{name: "chat list", path: "/dashboard/chats", escaped: []string{"&lt;img src=x onerror=", "spring&lt;script&gt;"}},
		{name: "ads", path: "/dashboard/ads" + day, escaped: []string{"&lt;script&gt;window.__pwned=&#34;ad&#34;", "javascript:alert(&#34;adid&#34;)"}},
		{name: "channels", path: "/dashboard/channels" + day, escaped: []string{"&lt;img src=x onerror="}},
		{name: "pages", path: "/dashboard/pages" + day, escaped: []string{"https://shop.example/%22%3E%3Csvg"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := d.get(t, tt.path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %s", resp.StatusCode, clip(body, 800))
			}
			for _, raw := range hostileRaw {
				if strings.Contains(body, raw) {
					t.Errorf("the page holds %q unescaped", raw)
				}
			}
			for _, s := range tt.escaped {
				if !strings.Contains(body, s) {
					t.Errorf("the page lacks the escaped %q", s)
				}
			}
			if t.Failed() {
				t.Logf("page:\n%s", clip(body, 8000))
			}
		})
	}
}
