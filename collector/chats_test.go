package collector

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/ledger"
	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/reports"
)

// --- helpers shared by the chat, webhook, matcher and simulation tests ------

// sample reads a platform sample payload byte for byte.
func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "platform-samples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hubSignature is the X-Hub-Signature-256 of body under secret.
func hubSignature(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// demoSite is the "demo" site of the test world.
func (w *testWorld) demoSite() *site { return w.srv.sites["demo"] }

// addVisit stores a visit made at the clock's time with fields set by fill,
// standing in for the snippet and the enrichment steps (geo, user agent).
func (w *testWorld) addVisit(t testing.TB, fill func(v *visit.Visit)) *visit.Visit {
	t.Helper()
	v := &visit.Visit{Time: w.clock.Now(), Page: "https://shop.test/", Landing: "https://shop.test/"}
	if fill != nil {
		fill(v)
	}
	if err := w.srv.saveVisit(context.Background(), w.demoSite(), v); err != nil {
		t.Fatal(err)
	}
	return v
}

// clickAt records a click of v on target at the clock's time.
func (w *testWorld) clickOn(t testing.TB, v *visit.Visit, target, page string) {
	t.Helper()
	if err := w.srv.recordClick(context.Background(), w.demoSite(), v.N, target, page); err != nil {
		t.Fatal(err)
	}
}

// code is the visible code of v that the snippet puts in prefilled text.
func (w *testWorld) code(v *visit.Visit) string {
	st := w.demoSite()
	return st.codec.Code(v.N, st.style)
}

// visitID is v's visit ID.
func (w *testWorld) visitID(v *visit.Visit) string { return w.demoSite().codec.VisitID(v.N) }

// postMessage sends a generic message to the demo site and decodes the
// answer.
func (w *testWorld) postMessage(t testing.TB, msg map[string]string) messageResponse {
	t.Helper()
	resp, b := w.do(t, request("POST", "/v1/sites/demo/messages", jsonBody(t, msg),
		"Authorization", "Bearer demo-key-123", "Content-Type", "application/json"))
	if resp.StatusCode != 200 {
		t.Fatalf("POST messages %v: %d %s", msg, resp.StatusCode, b)
	}
	var out messageResponse
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("answer %s: %v", b, err)
	}
	return out
}

// chatRecordOf fetches a chat's record through the API.
func (w *testWorld) chatRecordOf(t testing.TB, chat string) chatRecord {
	t.Helper()
	resp, b := w.do(t, request("GET", "/v1/sites/demo/chats/"+url.PathEscape(chat), nil, "Authorization", "Bearer demo-key-123"))
	if resp.StatusCode != 200 {
		t.Fatalf("GET chat %s: %d %s", chat, resp.StatusCode, b)
	}
	var rec chatRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatalf("record %s: %v", b, err)
	}
	return rec
}

// factLog collects the conversation facts handed to reports.
type factLog struct {
	mu    sync.Mutex
	facts []reports.Conversation
	fail  error
}

func (l *factLog) take(_ context.Context, f reports.Conversation) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return l.fail
	}
	l.facts = append(l.facts, f)
	return nil
}

func (l *factLog) all() []reports.Conversation {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]reports.Conversation(nil), l.facts...)
}

func (w *testWorld) collectFacts() *factLog {
	l := &factLog{}
	w.srv.SetConversationSink(l.take)
	return l
}

// --- chat record and list ----------------------------------------------------

func TestChatRecordHasTheFixedShape(t *testing.T) {
	w := newTestWorld(t)
	facts := w.collectFacts()
	v := w.addVisit(t, func(v *visit.Visit) {
		v.Landing = "https://shop.test/roses?utm_source=google&utm_medium=cpc&utm_campaign=spring&utm_content=ad42&utm_term=roses"
		v.Page = "https://shop.test/roses/red"
		v.Referrer = "https://www.google.com/"
		v.UTMSource, v.UTMMedium, v.UTMCampaign, v.UTMContent, v.UTMTerm = "google", "cpc", "spring", "ad42", "roses"
		v.ClickIDKind, v.ClickID, v.Channel = "gclid", "abc123", "paid_search"
		v.Country, v.Region, v.City, v.OS, v.Browser, v.Device = "US", "CA", "Mountain View", "Android", "Chrome", "mobile"
		v.Screen, v.Language = "412x915", "en-US"
	})
	w.clickOn(t, v, "whatsapp:15551234567", "https://shop.test/roses/red?size=xl")
	w.clock.Advance(40 * time.Second)
	msgAt := w.clock.Now().Truncate(time.Second)
	w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "16505551234", "to": "15551234567",
		"text": "Hello! My request code: " + w.code(v), "time": msgAt.Format(time.RFC3339), "name": "Visitor A"})

	resp, raw := w.do(t, request("GET", "/v1/sites/demo/chats/whatsapp:16505551234", nil, "Authorization", "Bearer demo-key-123"))
	if resp.StatusCode != 200 {
		t.Fatalf("GET chat: %d %s", resp.StatusCode, raw)
	}
	var shape map[string]json.RawMessage
	if err := json.Unmarshal(raw, &shape); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"chat", "name", "first_message_at", "dialog", "method", "confidence", "source", "visitor", "sessions", "history"} {
		if _, ok := shape[key]; !ok {
			t.Errorf("record lacks %q: %s", key, raw)
		}
	}
	var src map[string]any
	if err := json.Unmarshal(shape["source"], &src); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"channel", "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "referrer", "landing_page", "page", "ad_id", "ad_title", "click_id"} {
		if _, ok := src[key]; !ok {
			t.Errorf("source lacks %q", key)
		}
	}
	if string(shape["sessions"]) != "[]" {
		t.Errorf("sessions = %s, want []", shape["sessions"])
	}
	rec := w.chatRecordOf(t, "whatsapp:16505551234")
	want := ledger.Source{Channel: "paid_search", UTMSource: "google", UTMMedium: "cpc", UTMCampaign: "spring",
		UTMContent: "ad42", UTMTerm: "roses", Referrer: "https://www.google.com/", LandingPage: v.Landing,
		Page: "https://shop.test/roses/red?size=xl", AdID: "ad42", AdType: "ad", ClickID: "abc123"}
	if rec.Source != want {
		t.Errorf("source = %+v\nwant %+v", rec.Source, want)
	}
	if rec.Visitor != (ledger.Visitor{Country: "US", Region: "CA", City: "Mountain View", OS: "Android", Browser: "Chrome",
		Device: "mobile", Screen: "412x915", Language: "en-US"}) {
		t.Errorf("visitor = %+v", rec.Visitor)
	}
	if rec.Method != reports.MethodID || rec.Confidence != 1 || rec.Dialog != reports.DialogNew || rec.Name != "Visitor A" ||
		rec.FirstMessageAt != msgAt.UTC().Format(time.RFC3339) || rec.Visit != w.visitID(v) {
		t.Errorf("record = %+v", rec)
	}
	if len(rec.History) != 1 || rec.History[0].Kind != "conversation" || rec.History[0].Visit != w.visitID(v) ||
		rec.History[0].Method != reports.MethodID {
		t.Errorf("history = %+v", rec.History)
	}
	got := facts.all()
	if len(got) != 1 {
		t.Fatalf("facts = %+v, want one", got)
	}
	f := got[0]
	if f.Site != "demo" || f.Chat != "whatsapp:16505551234" || !f.Time.Equal(msgAt) || f.Messenger != "whatsapp" ||
		f.Method != reports.MethodID || f.Channel != "paid_search" || f.UTMCampaign != "spring" ||
		f.AdID != "ad42" || f.ClickID != "abc123" || f.Page != "https://shop.test/roses/red?size=xl" || f.Landing != v.Landing {
		t.Errorf("fact = %+v", f)
	}
}

func TestChatEndpointsGuardAccess(t *testing.T) {
	w := newTestWorld(t)
	w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "16505551234", "text": "hi"})
	tests := []struct {
		name, method, path, key string
		body                    string
		want                    int
	}{
		{name: "no key", method: "GET", path: "/v1/sites/demo/chats/whatsapp:16505551234", want: 401},
		{name: "other site's key", method: "GET", path: "/v1/sites/demo/chats/whatsapp:16505551234", key: "shop-key-456", want: 401},
		{name: "other site's chats", method: "GET", path: "/v1/sites/shop/chats/whatsapp:16505551234", key: "shop-key-456", want: 404},
		{name: "unknown site", method: "GET", path: "/v1/sites/nosuch/chats", key: "demo-key-123", want: 404},
		{name: "unknown chat", method: "GET", path: "/v1/sites/demo/chats/whatsapp:19995550000", key: "demo-key-123", want: 404},
		{name: "not a chat key", method: "GET", path: "/v1/sites/demo/chats/16505551234", key: "demo-key-123", want: 400},
		{name: "percent-encoded key", method: "GET", path: "/v1/sites/demo/chats/whatsapp%3A16505551234", key: "demo-key-123", want: 200},
		{name: "bad list date", method: "GET", path: "/v1/sites/demo/chats?from=yesterday", key: "demo-key-123", want: 400},
		{name: "bad list method", method: "GET", path: "/v1/sites/demo/chats?method=magic", key: "demo-key-123", want: 400},
		{name: "bad cursor", method: "GET", path: "/v1/sites/demo/chats?cursor=zzz", key: "demo-key-123", want: 400},
		{name: "confirm without key", method: "POST", path: "/v1/sites/demo/chats/whatsapp:16505551234/confirm", body: `{"visit":"1"}`, want: 401},
		{name: "confirm bad JSON", method: "POST", path: "/v1/sites/demo/chats/whatsapp:16505551234/confirm", key: "demo-key-123", body: `{"visit":`, want: 400},
		{name: "confirm no visit", method: "POST", path: "/v1/sites/demo/chats/whatsapp:16505551234/confirm", key: "demo-key-123", body: `{}`, want: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.key != "" {
				headers = append(headers, "Authorization", "Bearer "+tc.key)
			}
			resp, b := w.do(t, request(tc.method, tc.path, []byte(tc.body), headers...))
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, b, tc.want)
			}
			if tc.want != 200 && !strings.Contains(string(b), `"error"`) {
				t.Errorf("error body %s lacks an error", b)
			}
		})
	}
}

func TestListChatsFiltersAndPages(t *testing.T) {
	w := newTestWorld(t)
	ctx := context.Background()
	var ids []*visit.Visit
	// Ten chats a minute apart: even ones with a code from campaign
	// "spring", odd ones without a code on the dedicated number.
	for i := range 10 {
		w.clock.Advance(time.Minute)
		from := "1650555" + string(rune('0'+i)) + "000"
		if i%2 == 0 {
			v := w.addVisit(t, func(v *visit.Visit) { v.UTMCampaign, v.Channel = "spring", "paid_social" })
			ids = append(ids, v)
			w.postMessage(t, map[string]string{"channel": "whatsapp", "from": from, "to": "15551234567",
				"text": "code " + w.code(v), "name": "Visitor " + string(rune('A'+i))})
		} else {
			w.postMessage(t, map[string]string{"channel": "whatsapp", "from": from, "to": "15557654321",
				"text": "hello", "name": "Visitor " + string(rune('A'+i))})
		}
	}
	st := w.demoSite()
	tests := []struct {
		name   string
		filter chatFilter
		want   int
		first  string
	}{
		{name: "all", filter: chatFilter{}, want: 10, first: "whatsapp:16505559000"},
		{name: "by method", filter: chatFilter{Method: reports.MethodDedicatedNumber}, want: 5, first: "whatsapp:16505559000"},
		{name: "by channel", filter: chatFilter{Channel: "paid_social"}, want: 5, first: "whatsapp:16505558000"},
		{name: "by campaign", filter: chatFilter{Campaign: "SPRING"}, want: 5},
		{name: "by name", filter: chatFilter{Query: "visitor c"}, want: 1, first: "whatsapp:16505552000"},
		{name: "by phone", filter: chatFilter{Query: "5553000"}, want: 1, first: "whatsapp:16505553000"},
		{name: "by code", filter: chatFilter{Query: w.visitID(ids[1])}, want: 1, first: "whatsapp:16505552000"},
		{name: "by time", filter: chatFilter{From: testStart.Add(3 * time.Minute), To: testStart.Add(5 * time.Minute)}, want: 2, first: "whatsapp:16505553000"},
		{name: "nothing", filter: chatFilter{Method: reports.MethodReferral}, want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page, err := w.srv.listChats(ctx, st, tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Chats) != tc.want {
				t.Fatalf("got %d chats, want %d: %+v", len(page.Chats), tc.want, page.Chats)
			}
			if tc.first != "" && page.Chats[0].Chat != tc.first {
				t.Errorf("first = %s, want %s", page.Chats[0].Chat, tc.first)
			}
		})
	}

	t.Run("cursor pages cover every chat once, newest first", func(t *testing.T) {
		var seen []string
		cursor := ""
		for range 10 {
			resp, b := w.do(t, request("GET", "/v1/sites/demo/chats?limit=3&cursor="+url.QueryEscape(cursor), nil, "Authorization", "Bearer demo-key-123"))
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			var page chatPage
			if err := json.Unmarshal(b, &page); err != nil {
				t.Fatal(err)
			}
			for _, c := range page.Chats {
				seen = append(seen, c.Chat)
			}
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
		if len(seen) != 10 || seen[0] != "whatsapp:16505559000" || seen[9] != "whatsapp:16505550000" {
			t.Errorf("pages gave %v", seen)
		}
	})

	t.Run("dates in the site's time zone", func(t *testing.T) {
		resp, b := w.do(t, request("GET", "/v1/sites/demo/chats?from=2026-11-02&to=2026-11-02&method=id", nil, "Authorization", "Bearer demo-key-123"))
		var page chatPage
		if resp.StatusCode != 200 || json.Unmarshal(b, &page) != nil || len(page.Chats) != 5 {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		resp, b = w.do(t, request("GET", "/v1/sites/demo/chats?to=2026-11-01", nil, "Authorization", "Bearer demo-key-123"))
		if resp.StatusCode != 200 || json.Unmarshal(b, &page) != nil || len(page.Chats) != 0 {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
	})
}

func TestListChatsKeepsOrderAcrossEqualTimes(t *testing.T) {
	w := newTestWorld(t)
	// Thirty chats whose first messages share one second: the cursor
	// must still walk them all, once each.
	at := testStart.Format(time.RFC3339)
	for i := range 30 {
		w.postMessage(t, map[string]string{"channel": "viber", "from": "user" + string(rune('a'+i)), "text": "hi", "time": at})
	}
	seen := map[string]bool{}
	f := chatFilter{Limit: 7}
	for range 10 {
		page, err := w.srv.listChats(context.Background(), w.demoSite(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Chats {
			if seen[c.Chat] {
				t.Fatalf("%s listed twice", c.Chat)
			}
			seen[c.Chat] = true
		}
		if page.Next == "" {
			break
		}
		f.Cursor = page.Next
	}
	if len(seen) != 30 {
		t.Errorf("listed %d chats, want 30", len(seen))
	}
}

func TestHostileStringsAreStoredAndReturnedSafely(t *testing.T) {
	w := newTestWorld(t)
	name := "<script>alert(1)</script>\x00\x1b[31mVisitor\u202e\x7f B"
	text := "=HYPERLINK(\"http://evil.test\")\x00\x08 <img src=x onerror=alert(2)>\nline two"
	w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "16505551234", "text": text, "name": name})
	resp, raw := w.do(t, request("GET", "/v1/sites/demo/chats/whatsapp:16505551234", nil, "Authorization", "Bearer demo-key-123"))
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, raw)
	}
	for _, bad := range []string{"<script>", "<img", "\x00", "\x1b", "\x08", "\x7f", "\u202e"} {
		if strings.Contains(string(raw), bad) {
			t.Errorf("answer carries %q raw: %s", bad, raw)
		}
	}
	if !strings.Contains(string(raw), `\u003cscript\u003e`) {
		t.Errorf("HTML not JSON-escaped: %s", raw)
	}
	rec := w.chatRecordOf(t, "whatsapp:16505551234")
	if rec.Name != "<script>alert(1)</script>[31mVisitor B" {
		t.Errorf("name = %q", rec.Name)
	}
	if got := rec.History[0].Text; got != "=HYPERLINK(\"http://evil.test\") <img src=x onerror=alert(2)>\nline two" {
		t.Errorf("text = %q", got)
	}
	page, err := w.srv.listChats(context.Background(), w.demoSite(), chatFilter{Query: "visitor b"})
	if err != nil || len(page.Chats) != 1 {
		t.Errorf("search by cleaned name: %v %+v", err, page)
	}
}

func TestConversationFactSurvivesAFailedHandOver(t *testing.T) {
	w := newTestWorld(t)
	facts := w.collectFacts()
	facts.fail = errHandOverTest
	body := sample(t, "whatsapp_text.json")
	post := func() int {
		resp, b := w.do(t, request("POST", "/hooks/whatsapp/demo", body, "X-Hub-Signature-256", hubSignature("test_app_secret", body)))
		t.Logf("%d %s", resp.StatusCode, b)
		return resp.StatusCode
	}
	if got := post(); got != http.StatusInternalServerError {
		t.Fatalf("hand-over failing: status %d, want 500 so the platform retries", got)
	}
	// The message itself is stored: the chat exists.
	if rec := w.chatRecordOf(t, "whatsapp:16505551234"); rec.Method != reports.MethodNone {
		t.Fatalf("record = %+v", rec)
	}
	facts.mu.Lock()
	facts.fail = nil
	facts.mu.Unlock()
	if got := post(); got != 200 {
		t.Fatalf("retry: status %d", got)
	}
	if got := facts.all(); len(got) != 1 || got[0].Chat != "whatsapp:16505551234" || got[0].Method != reports.MethodNone {
		t.Fatalf("facts after retry = %+v, want the one conversation", got)
	}
	if got := post(); got != 200 || len(facts.all()) != 1 {
		t.Fatalf("a third delivery handed the fact over again: %d %+v", got, facts.all())
	}
}

var errHandOverTest = &testError{"reports unavailable"}

type testError struct{ s string }

func (e *testError) Error() string { return e.s }
