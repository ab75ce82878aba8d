package collector

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/intake"
)

func TestRegisterVisitStoresAndAnswersCodes(t *testing.T) {
	w := newTestWorld(t)
	landing := "https://shop.test/spring?utm_source=google&utm_medium=cpc&utm_campaign=roses&gclid=abc123"
	got := w.registerVisit(t, landing)
	if got.Visit == "" || got.Code == "" || got.Start == "" {
		t.Fatalf("answer lacks codes: %+v", got)
	}
	// The script gets the finished message: the template with the code,
	// ending in a line break.
	if want := "Hello! My request code: " + got.Code + "\n"; got.Text != want {
		t.Errorf("answer text = %q, want %q", got.Text, want)
	}
	st := w.srv.sites["demo"]
	n, err := st.codec.ParseVisitID(got.Visit)
	if err != nil {
		t.Fatalf("ParseVisitID(%q): %v", got.Visit, err)
	}
	v, err := w.srv.loadVisit(context.Background(), st, n)
	if err != nil {
		t.Fatalf("loadVisit: %v", err)
	}
	// No visitor ID was sent: the collector mints one and answers it, and a
	// later visit that sends it keeps it.
	if got.Visitor == "" || v.VisitorID != got.Visitor {
		t.Errorf("minted visitor %q, stored %q", got.Visitor, v.VisitorID)
	}
	body := jsonBody(t, map[string]string{"site": "demo", "url": landing, "visitor": got.Visitor})
	resp, b := w.do(t, request("POST", "/v1/visits", body, "Origin", testOrigin, "Content-Type", "text/plain"))
	var again intake.VisitResponse
	if resp.StatusCode != 200 || json.Unmarshal(b, &again) != nil || again.Visitor != got.Visitor {
		t.Errorf("visit sending visitor %q answered %d %s", got.Visitor, resp.StatusCode, b)
	}
	if v.UTMSource != "google" || v.UTMCampaign != "roses" || v.ClickIDKind != "gclid" || v.ClickID != "abc123" {
		t.Errorf("stored visit lacks UTM or click ID: %+v", v)
	}
	if !v.Time.Equal(testStart) {
		t.Errorf("visit time = %v, want the clock's %v", v.Time, testStart)
	}
	ttl := w.rdb.TTL(context.Background(), demoKeys.Visit(n)).Val()
	if want := 97 * 24 * time.Hour; ttl < want-time.Minute || ttl > want {
		t.Errorf("visit TTL = %v, want about %v", ttl, want)
	}
	exp, err := time.Parse(time.RFC3339, got.Expires)
	if err != nil || !exp.Equal(testStart.Add(97*24*time.Hour)) {
		t.Errorf("expires = %q", got.Expires)
	}
}

func TestVisitNumbersAreDistinct(t *testing.T) {
	w := newTestWorld(t)
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		v := w.registerVisit(t, "https://shop.test/")
		if seen[v.Visit] {
			t.Fatalf("visit ID %s handed out twice", v.Visit)
		}
		seen[v.Visit] = true
	}
}

func TestIntakeRejectsBadInput(t *testing.T) {
	w := newTestWorld(t)
	good := `{"site":"demo","url":"https://shop.test/"}`
	// A well-formed visit ID that no stored visit has.
	absent := w.srv.sites["demo"].codec.VisitID(999)
	tests := []struct {
		name    string
		path    string
		body    string
		origin  string
		status  int
		errPart string
	}{
		{name: "malformed JSON", path: "/v1/visits", body: `{"site":`, origin: testOrigin, status: 400, errPart: "malformed JSON"},
		{name: "wrong type", path: "/v1/visits", body: `{"site":5}`, origin: testOrigin, status: 400, errPart: "field"},
		{name: "empty body", path: "/v1/visits", body: ``, origin: testOrigin, status: 400, errPart: "empty body"},
		{name: "unknown site", path: "/v1/visits", body: `{"site":"nope","url":"https://shop.test/"}`, origin: testOrigin, status: 404, errPart: "unknown site"},
		{name: "foreign origin", path: "/v1/visits", body: good, origin: "http://evil.test", status: 403, errPart: "not one of the site's origins"},
		{name: "no origin", path: "/v1/visits", body: good, status: 403, errPart: "no Origin"},
		{name: "other site's origin", path: "/v1/visits", body: good, origin: "http://other.test", status: 403, errPart: "origin"},
		{name: "missing url", path: "/v1/visits", body: `{"site":"demo"}`, origin: testOrigin, status: 400, errPart: "url is required"},
		{name: "javascript url", path: "/v1/visits", body: `{"site":"demo","url":"javascript:alert(1)"}`, origin: testOrigin, status: 400, errPart: "not an http(s) URL"},
		{name: "oversized", path: "/v1/visits", body: `{"site":"demo","url":"https://shop.test/?` + strings.Repeat("a", 9000) + `"}`, origin: testOrigin, status: 413, errPart: "exceeds"},
		{name: "click unknown visit", path: "/v1/clicks", body: `{"site":"demo","visit":"` + absent + `","target":"whatsapp:15551234567"}`, origin: testOrigin, status: 404, errPart: "unknown or expired"},
		{name: "click malformed visit", path: "/v1/clicks", body: `{"site":"demo","visit":"ZZZZZZZ","target":"whatsapp:15551234567"}`, origin: testOrigin, status: 400, errPart: "not a visit ID"},
		{name: "click foreign target", path: "/v1/clicks", body: `{"site":"demo","visit":"` + absent + `","target":"whatsapp:19990000000"}`, origin: testOrigin, status: 400, errPart: "not a chat of this site"},
		{name: "ftp landing", path: "/v1/visits", body: `{"site":"demo","url":"https://shop.test/","landing":"ftp://shop.test/"}`, origin: testOrigin, status: 400, errPart: "landing is not an http(s) URL"},
		{name: "bad referrer", path: "/v1/visits", body: `{"site":"demo","url":"https://shop.test/","referrer":"<script>alert(1)</script>"}`, origin: testOrigin, status: 400, errPart: "referrer is not an http(s) URL"},
		{name: "url too long", path: "/v1/visits", body: `{"site":"demo","url":"https://shop.test/?` + strings.Repeat("a", 2100) + `"}`, origin: testOrigin, status: 400, errPart: "longer than 2048"},
		{name: "JSON array of objects", path: "/v1/visits", body: `[{"site":"demo"}]`, origin: testOrigin, status: 400, errPart: "item 0 of the array must be a string"},
		{name: "JSON number", path: "/v1/visits", body: `5`, origin: testOrigin, status: 400, errPart: "a JSON object is required"},
		{name: "missing site", path: "/v1/visits", body: `{"url":"https://shop.test/"}`, origin: testOrigin, status: 404, errPart: "unknown site"},
		{name: "click malformed JSON", path: "/v1/clicks", body: `{"site":"demo",`, origin: testOrigin, status: 400, errPart: "malformed JSON"},
		{name: "click empty body", path: "/v1/clicks", body: ``, origin: testOrigin, status: 400, errPart: "empty body"},
		{name: "click oversized", path: "/v1/clicks", body: `{"site":"demo","page":"` + strings.Repeat("a", 9000) + `"}`, origin: testOrigin, status: 413, errPart: "exceeds"},
		{name: "click unknown site", path: "/v1/clicks", body: `{"site":"nope","visit":"` + absent + `","target":"whatsapp:15551234567"}`, origin: testOrigin, status: 404, errPart: "unknown site"},
		{name: "click foreign origin", path: "/v1/clicks", body: `{"site":"demo","visit":"` + absent + `","target":"whatsapp:15551234567"}`, origin: "http://evil.test", status: 403, errPart: "origin"},
		{name: "click missing visit", path: "/v1/clicks", body: `{"site":"demo","target":"whatsapp:15551234567"}`, origin: testOrigin, status: 400, errPart: "not a visit ID"},
		{name: "click hostile visit", path: "/v1/clicks", body: `{"site":"demo","visit":"<img src=x>","target":"whatsapp:15551234567"}`, origin: testOrigin, status: 400, errPart: "not a visit ID"},
		{name: "click missing target", path: "/v1/clicks", body: `{"site":"demo","visit":"` + absent + `"}`, origin: testOrigin, status: 400, errPart: "not a chat of this site"},
		{name: "click bad page", path: "/v1/clicks", body: `{"site":"demo","visit":"` + absent + `","target":"telegram:demo_bot","page":"javascript:x"}`, origin: testOrigin, status: 400, errPart: "page is not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := []string{"Content-Type", "text/plain"}
			if tt.origin != "" {
				hdr = append(hdr, "Origin", tt.origin)
			}
			resp, body := w.do(t, request("POST", tt.path, []byte(tt.body), hdr...))
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d (%s), want %d", resp.StatusCode, body, tt.status)
			}
			var e struct{ Error string }
			if err := json.Unmarshal(body, &e); err != nil || !strings.Contains(e.Error, tt.errPart) {
				t.Fatalf("error body %s, want it to mention %q", body, tt.errPart)
			}
		})
	}
	if keys := w.keys(t, "mt:{demo}:[vc]*"); len(keys) != 0 {
		t.Fatalf("bad requests left keys behind: %v", keys)
	}
}

func TestClickGoesIntoTheTargetIndex(t *testing.T) {
	w := newTestWorld(t)
	v := w.registerVisit(t, "https://shop.test/")
	w.clock.Advance(2 * time.Minute)
	body := jsonBody(t, map[string]string{"site": "demo", "visit": v.Visit, "target": "whatsapp:+1 555 123 4567", "page": "https://shop.test/roses"})
	resp, b := w.do(t, request("POST", "/v1/clicks", body, "Origin", testOrigin))
	if resp.StatusCode != 204 {
		t.Fatalf("click: %d %s", resp.StatusCode, b)
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != testOrigin {
		t.Errorf("CORS origin = %q", got)
	}
	st := w.srv.sites["demo"]
	clicks, err := w.srv.recentClicks(context.Background(), st, "whatsapp:15551234567", testStart, w.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	n, _ := st.codec.ParseVisitID(v.Visit)
	if len(clicks) != 1 || clicks[0].N != n || !clicks[0].At.Equal(testStart.Add(2*time.Minute)) {
		t.Fatalf("clicks = %+v, want visit %d at +2m", clicks, n)
	}
}

func TestHealth(t *testing.T) {
	w := newTestWorld(t)
	resp, body := w.do(t, request("GET", "/healthz", nil))
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"redis":"ok"`) {
		t.Fatalf("healthz = %d %s", resp.StatusCode, body)
	}
}

// TestVisitLanguageFromHeader: the snippet sends no language, so the
// visit takes the first tag of the request's Accept-Language; a language
// in the body still wins.
func TestVisitLanguageFromHeader(t *testing.T) {
	w := newTestWorld(t)
	st := w.srv.sites["demo"]
	for _, tt := range []struct {
		name, body, header, want string
	}{
		{name: "header only", body: `{"site":"demo","url":"https://shop.test/"}`, header: "de-CH, de;q=0.9,en;q=0.8", want: "de-CH"},
		{name: "single tag with weight", body: `{"site":"demo","url":"https://shop.test/"}`, header: "fr;q=0.7", want: "fr"},
		{name: "body wins", body: `{"site":"demo","url":"https://shop.test/","lang":"en-US"}`, header: "de-CH", want: "en-US"},
		{name: "neither", body: `{"site":"demo","url":"https://shop.test/"}`, want: ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := w.do(t, request("POST", "/v1/visits", []byte(tt.body), "Origin", testOrigin, "Content-Type", "text/plain", "Accept-Language", tt.header))
			if resp.StatusCode != 200 {
				t.Fatalf("register visit: %d %s", resp.StatusCode, b)
			}
			var got intake.VisitResponse
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("visit answer %s: %v", b, err)
			}
			n, err := st.codec.ParseVisitID(got.Visit)
			if err != nil {
				t.Fatal(err)
			}
			v, err := w.srv.loadVisit(context.Background(), st, n)
			if err != nil {
				t.Fatal(err)
			}
			if v.Language != tt.want {
				t.Errorf("language = %q, want %q", v.Language, tt.want)
			}
		})
	}
}
