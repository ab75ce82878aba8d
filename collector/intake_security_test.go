package collector

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/enrich/geotest"
	"github.com/messtrack/messtrack/collector/intake"
	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

// newGeoWorld is a test world with the test City database and the given
// top-level config lines before the usual sites. Without lines, the
// in-process peer (0.0.0.0) is a trusted proxy, so tests can set the client
// address with X-Forwarded-For.
func newGeoWorld(t testing.TB, topLines ...string) *testWorld {
	t.Helper()
	if len(topLines) == 0 {
		topLines = []string{"trusted_proxies: [0.0.0.0]"}
	}
	raw := "geoip: " + geotest.WriteDB(t) + "\n" + strings.Join(topLines, "\n") + "\n" + testConfigYAML
	return newTestWorld(t, raw)
}

// visitHeaders are what a desktop browser on the demo site sends.
func visitHeaders(extra ...string) []string {
	return append([]string{"Origin", testOrigin, "Content-Type", "text/plain", "User-Agent", uaChromeWindows}, extra...)
}

// postTypicalVisit registers the typical ad visit from visitor 81.2.69.160.
func (w *testWorld) postTypicalVisit(t testing.TB) intake.VisitResponse {
	t.Helper()
	body := jsonBody(t, map[string]string{
		"site": "demo", "url": typicalLanding, "landing": typicalLanding, "referrer": "https://www.google.com/",
		"screen": "1920x1080", "lang": "en-GB", "tz": "Europe/London", "visitor": "k3J9aQ2mX8pLz0rT5vW1yB",
	})
	resp, b := w.do(t, request("POST", "/v1/visits", body, visitHeaders("X-Forwarded-For", "81.2.69.160")...))
	if resp.StatusCode != 200 {
		t.Fatalf("typical visit: %d %s", resp.StatusCode, b)
	}
	var out intake.VisitResponse
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// storedVisit loads the visit an answer names.
func (w *testWorld) storedVisit(t testing.TB, site, id string) *visit.Visit {
	t.Helper()
	st := w.srv.sites[site]
	n, err := st.codec.ParseVisitID(id)
	if err != nil {
		t.Fatal(err)
	}
	v, err := w.srv.loadVisit(context.Background(), st, n)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVisitIsEnriched(t *testing.T) {
	w := newGeoWorld(t)
	v := w.storedVisit(t, "demo", w.postTypicalVisit(t).Visit)
	want := visit.Visit{
		Time: testStart, VisitorID: "k3J9aQ2mX8pLz0rT5vW1yB", Page: typicalLanding, Landing: typicalLanding,
		Referrer: "https://www.google.com/", UTMSource: "google", UTMMedium: "cpc", UTMCampaign: "spring_roses",
		ClickIDKind: "gclid", ClickID: "Cj0K", Channel: reports.ChannelPaidSearch, Screen: "1920x1080", Language: "en-GB",
		TimeZone: "Europe/London", IP: "81.2.69.160", Country: "GB", Region: "England", City: "London",
		GeoTimeZone: "Europe/London", OS: "Windows 10", Browser: "Chrome 120", Device: "desktop",
	}
	v.N = 0
	if *v != want {
		t.Fatalf("stored visit:\n got %+v\nwant %+v", *v, want)
	}
}

func TestClientIPFromForwardedFor(t *testing.T) {
	tests := []struct {
		name      string
		top       string
		forwarded string
		wantIP    string
		wantCity  string
	}{
		{name: "trusted proxy: header believed", top: "trusted_proxies: [0.0.0.0]", forwarded: "81.2.69.160", wantIP: "81.2.69.160", wantCity: "London"},
		{name: "trusted proxy: forged left entries ignored", top: "trusted_proxies: [0.0.0.0]", forwarded: "89.160.20.112, 81.2.69.160", wantIP: "81.2.69.160", wantCity: "London"},
		{name: "trusted proxy chain skipped", top: "trusted_proxies: [0.0.0.0, 10.0.0.0/8]", forwarded: "89.160.20.112, 10.1.2.3", wantIP: "89.160.20.112", wantCity: "Linköping"},
		{name: "trusted proxy: an entry that is no address ends the walk", top: "trusted_proxies: [0.0.0.0]", forwarded: "81.2.69.160, <script>", wantIP: "0.0.0.0"},
		{name: "untrusted peer: header ignored", top: "trusted_proxies: [10.0.0.1]", forwarded: "81.2.69.160", wantIP: "0.0.0.0"},
		{name: "no proxies configured: header ignored", top: "truncate_ips: false", forwarded: "81.2.69.160", wantIP: "0.0.0.0"},
		{name: "truncate_ips zeroes the host", top: "trusted_proxies: [0.0.0.0]\ntruncate_ips: true", forwarded: "81.2.69.160", wantIP: "81.2.69.0", wantCity: "London"},
		{name: "truncate_ips for IPv6", top: "trusted_proxies: [0.0.0.0]\ntruncate_ips: true", forwarded: "2a02:6b8:1234:5678::1", wantIP: "2a02:6b8:1234::", wantCity: "Moscow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newGeoWorld(t, tt.top)
			body := jsonBody(t, map[string]string{"site": "demo", "url": "https://shop.test/"})
			resp, b := w.do(t, request("POST", "/v1/visits", body, visitHeaders("X-Forwarded-For", tt.forwarded)...))
			if resp.StatusCode != 200 {
				t.Fatalf("visit: %d %s", resp.StatusCode, b)
			}
			var ans intake.VisitResponse
			if err := json.Unmarshal(b, &ans); err != nil {
				t.Fatal(err)
			}
			v := w.storedVisit(t, "demo", ans.Visit)
			if v.IP != tt.wantIP || v.City != tt.wantCity {
				t.Fatalf("stored IP %q city %q, want %q %q", v.IP, v.City, tt.wantIP, tt.wantCity)
			}
		})
	}
}

// TestClientIPOverLoopback checks the trusted-proxy rule on real sockets:
// the peer is 127.0.0.1, which the test database places in San Jose.
func TestClientIPOverLoopback(t *testing.T) {
	tests := []struct {
		name, top, wantIP, wantCity string
	}{
		{name: "loopback trusted", top: "trusted_proxies: [127.0.0.1]", wantIP: "81.2.69.160", wantCity: "London"},
		{name: "loopback not trusted", top: "trusted_proxies: [192.0.2.1]", wantIP: "127.0.0.1", wantCity: "San Jose"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newGeoWorld(t, tt.top)
			base := w.listen(t)
			body := jsonBody(t, map[string]string{"site": "demo", "url": "https://shop.test/"})
			req, err := http.NewRequest("POST", base+"/v1/visits", strings.NewReader(string(body)))
			if err != nil {
				t.Fatal(err)
			}
			hdr := visitHeaders("X-Forwarded-For", "81.2.69.160")
			for i := 0; i < len(hdr); i += 2 {
				req.Header.Set(hdr[i], hdr[i+1])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("visit: %d %s", resp.StatusCode, b)
			}
			var ans intake.VisitResponse
			if err := json.Unmarshal(b, &ans); err != nil {
				t.Fatal(err)
			}
			v := w.storedVisit(t, "demo", ans.Visit)
			if v.IP != tt.wantIP || v.City != tt.wantCity {
				t.Fatalf("stored IP %q city %q, want %q %q", v.IP, v.City, tt.wantIP, tt.wantCity)
			}
		})
	}
}

func TestDroppedHitsStoreNothing(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		reason  string
	}{
		{name: "search bot", headers: []string{"User-Agent", uaGooglebot}, reason: "bot"},
		{name: "headless browser", headers: []string{"User-Agent", uaHeadless}, reason: "headless"},
		{name: "command-line tool", headers: []string{"User-Agent", uaCurl}, reason: "not-a-browser"},
		{name: "Sec-Purpose prefetch", headers: []string{"Sec-Purpose", "prefetch"}, reason: "prefetch"},
		{name: "prerender", headers: []string{"Sec-Purpose", "prefetch;prerender"}, reason: "prerender"},
		{name: "Purpose prefetch", headers: []string{"Purpose", "prefetch"}, reason: "prefetch"},
		{name: "X-Moz prefetch", headers: []string{"X-Moz", "prefetch"}, reason: "prefetch"},
	}
	w := newGeoWorld(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := jsonBody(t, map[string]string{"site": "demo", "url": "https://shop.test/"})
			resp, b := w.do(t, request("POST", "/v1/visits", body, visitHeaders(tt.headers...)...))
			if resp.StatusCode != 202 {
				t.Fatalf("status %d %s, want 202", resp.StatusCode, b)
			}
			if got := resp.Header.Get("X-Messtrack-Dropped"); got != tt.reason {
				t.Fatalf("X-Messtrack-Dropped = %q, want %q", got, tt.reason)
			}
		})
	}
	if keys := w.keys(t, "mt:{demo}:v:*"); len(keys) != 0 {
		t.Fatalf("dropped hits stored visits: %v", keys)
	}
	metrics := w.scrape(t)
	if !strings.Contains(metrics, `messtrack_visits_dropped_total{reason="prefetch"} 3`) {
		t.Fatalf("metrics lack the dropped prefetches:\n%s", grepLines(metrics, "dropped"))
	}
}

func TestPreflight(t *testing.T) {
	w := newTestWorld(t)
	tests := []struct {
		name, origin, method string
		status               int
		allowOrigin          string
	}{
		{name: "the site's origin", origin: testOrigin, method: "POST", status: 204, allowOrigin: testOrigin},
		{name: "another site's origin", origin: "http://other.test", method: "POST", status: 204, allowOrigin: "http://other.test"},
		{name: "foreign origin", origin: "http://evil.test", method: "POST", status: 403},
		{name: "no origin", origin: "", method: "POST", status: 400},
		{name: "wrong method", origin: testOrigin, method: "DELETE", status: 403},
	}
	for _, path := range []string{"/v1/visits", "/v1/clicks"} {
		for _, tt := range tests {
			t.Run(path+" "+tt.name, func(t *testing.T) {
				hdr := []string{"Access-Control-Request-Method", tt.method}
				if tt.origin != "" {
					hdr = append(hdr, "Origin", tt.origin)
				}
				resp, b := w.do(t, request("OPTIONS", path, nil, hdr...))
				if resp.StatusCode != tt.status {
					t.Fatalf("status %d %s, want %d", resp.StatusCode, b, tt.status)
				}
				if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tt.allowOrigin {
					t.Fatalf("Access-Control-Allow-Origin = %q, want %q", got, tt.allowOrigin)
				}
				if tt.status == 204 && resp.Header.Get("Access-Control-Allow-Methods") != "POST" {
					t.Fatalf("Allow-Methods = %q", resp.Header.Get("Access-Control-Allow-Methods"))
				}
			})
		}
	}
}

// TestBodyOverServerLimitIs413JSON announces a body over the server-wide
// limit on a raw connection: the server answers from the headers, before the
// body, so the test sends none (a client still writing would see a reset).
func TestBodyOverServerLimitIs413JSON(t *testing.T) {
	w := newTestWorld(t)
	base := w.listen(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/visits HTTP/1.1\r\nHost: shop.test\r\nOrigin: %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n", testOrigin, maxBody+1)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
	var e struct{ Error string }
	if err := json.Unmarshal(b, &e); err != nil || e.Error == "" {
		t.Fatalf("body %q is not a JSON error", b)
	}
}

func TestRateLimit(t *testing.T) {
	w := newGeoWorld(t, "trusted_proxies: [0.0.0.0]\nrate_limit_per_minute: 3")
	// A second collector on the same Redis: the limit must hold across both.
	other, err := New(context.Background(), Options{
		Config: w.cfg, Redis: w.rdb, Clock: w.clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	visit := func(srv *Server, ip string) *http.Response {
		body := jsonBody(t, map[string]string{"site": "demo", "url": "https://shop.test/"})
		resp, err := srv.App().Test(request("POST", "/v1/visits", body, visitHeaders("X-Forwarded-For", ip)...), 10_000)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	w.clock.Set(testStart.Add(15 * time.Second)) // 45 s left in the window
	for i, srv := range []*Server{w.srv, other, w.srv} {
		if resp := visit(srv, "81.2.69.160"); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d, want 200", i+1, resp.StatusCode)
		}
	}
	resp := visit(other, "81.2.69.160")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "45" {
		t.Fatalf("4th request: %d Retry-After %q, want 429 and 45", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp := visit(w.srv, "89.160.20.112"); resp.StatusCode != 200 {
		t.Fatalf("another address: %d, want 200", resp.StatusCode)
	}
	// Clicks are a group of their own; /s/ and /q/ are limited whoever serves them.
	v := w.registerVisitFrom(t, "89.160.20.112")
	click := jsonBody(t, map[string]string{"site": "demo", "visit": v.Visit, "target": "whatsapp:15551234567"})
	if resp, b := w.do(t, request("POST", "/v1/clicks", click, visitHeaders("X-Forwarded-For", "81.2.69.160")...)); resp.StatusCode != 204 {
		t.Fatalf("click from a visit-limited address: %d %s", resp.StatusCode, b)
	}
	for _, path := range []string{"/s/demo.js", "/q/demo/flyer"} {
		var last int
		for i := 0; i < 4; i++ {
			resp, _ := w.do(t, request("GET", path, nil, "X-Forwarded-For", "81.2.69.160"))
			last = resp.StatusCode
		}
		if last != 429 {
			t.Fatalf("GET %s after 4 requests: %d, want 429", path, last)
		}
	}
	w.clock.Advance(45 * time.Second) // the next window
	if resp := visit(w.srv, "81.2.69.160"); resp.StatusCode != 200 {
		t.Fatalf("next window: %d, want 200", resp.StatusCode)
	}
	// The refusal was the second collector's: each counts its own.
	if m := (&testWorld{srv: other}).scrape(t); !strings.Contains(m, `messtrack_rate_limited_total{group="visits"} 1`) {
		t.Fatalf("metrics lack the refusal:\n%s", grepLines(m, "rate_limited"))
	}
}

func TestRateLimitIgnoresForgedForwardedFor(t *testing.T) {
	w := newTestWorld(t, "rate_limit_per_minute: 2\n"+testConfigYAML)
	var codes []int
	for i := 0; i < 3; i++ {
		body := jsonBody(t, map[string]string{"site": "demo", "url": "https://shop.test/"})
		resp, _ := w.do(t, request("POST", "/v1/visits", body, visitHeaders("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))...))
		codes = append(codes, resp.StatusCode)
	}
	if fmt.Sprint(codes) != "[200 200 429]" {
		t.Fatalf("statuses %v, want [200 200 429]: an untrusted X-Forwarded-For must not reset the limit", codes)
	}
}

func TestRateLimitOffForBench(t *testing.T) {
	w := newTestWorld(t, "rate_limit_per_minute: -1\n"+testConfigYAML)
	for i := 0; i < 20; i++ {
		w.registerVisit(t, "https://shop.test/")
	}
	if keys := w.keys(t, "mt:rl:*"); len(keys) != 0 {
		t.Fatalf("disabled limit still counts: %v", keys)
	}
}

// registerVisitFrom registers a plain visit from a client address.
func (w *testWorld) registerVisitFrom(t testing.TB, ip string) intake.VisitResponse {
	t.Helper()
	body := jsonBody(t, map[string]string{"site": "demo", "url": "https://shop.test/"})
	resp, b := w.do(t, request("POST", "/v1/visits", body, visitHeaders("X-Forwarded-For", ip)...))
	if resp.StatusCode != 200 {
		t.Fatalf("visit: %d %s", resp.StatusCode, b)
	}
	var out intake.VisitResponse
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGetVisitNeedsTheSitesKey(t *testing.T) {
	w := newGeoWorld(t)
	demoVisit := w.postTypicalVisit(t).Visit
	gone := w.registerVisitFrom(t, "81.2.69.160").Visit
	st := w.srv.sites["demo"]
	goneN, _ := st.codec.ParseVisitID(gone)
	w.rdb.Del(context.Background(), demoKeys.Visit(goneN))
	tests := []struct {
		name, path, auth string
		status           int
		errPart          string
	}{
		{name: "own key", path: "/v1/sites/demo/visits/" + demoVisit, auth: "Bearer demo-key-123", status: 200},
		{name: "no key", path: "/v1/sites/demo/visits/" + demoVisit, status: 401, errPart: "API key"},
		{name: "wrong key", path: "/v1/sites/demo/visits/" + demoVisit, auth: "Bearer demo-key-12", status: 401, errPart: "API key"},
		{name: "not a bearer", path: "/v1/sites/demo/visits/" + demoVisit, auth: "Basic ZGVtbzpkZW1v", status: 401, errPart: "API key"},
		{name: "another site's key", path: "/v1/sites/demo/visits/" + demoVisit, auth: "Bearer shop-key-456", status: 401, errPart: "API key"},
		{name: "own key, another site's visit", path: "/v1/sites/shop/visits/" + demoVisit, auth: "Bearer shop-key-456", status: 400, errPart: "not a visit ID"}, // its check symbols are demo's
		{name: "unknown site", path: "/v1/sites/nope/visits/" + demoVisit, auth: "Bearer demo-key-123", status: 404, errPart: "unknown site"},
		{name: "malformed visit ID", path: "/v1/sites/demo/visits/%3Cb%3E", auth: "Bearer demo-key-123", status: 400, errPart: "not a visit ID"},
		{name: "expired visit", path: "/v1/sites/demo/visits/" + gone, auth: "Bearer demo-key-123", status: 404, errPart: "unknown or expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.auth != "" {
				hdr = []string{"Authorization", tt.auth}
			}
			resp, b := w.do(t, request("GET", tt.path, nil, hdr...))
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, b, tt.status)
			}
			if tt.status != 200 {
				var e struct{ Error string }
				if err := json.Unmarshal(b, &e); err != nil || !strings.Contains(e.Error, tt.errPart) {
					t.Fatalf("error %s, want it to mention %q", b, tt.errPart)
				}
				if strings.Contains(string(b), "London") {
					t.Fatalf("refusal leaks the visit: %s", b)
				}
				return
			}
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"id": demoVisit, "city": "London", "channel": "paid_search", "utm_campaign": "spring_roses",
				"landing_page": typicalLanding, "browser": "Chrome 120", "time": testStart.Format(time.RFC3339)}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
			if _, err := time.Parse(time.RFC3339, fmt.Sprint(got["expires"])); err != nil {
				t.Errorf("expires = %v", got["expires"])
			}
		})
	}
}

// scrape returns the /metrics text.
func (w *testWorld) scrape(t testing.TB) string {
	t.Helper()
	resp, b := w.do(t, request("GET", "/metrics", nil))
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	return string(b)
}

// grepLines keeps the lines of s that mention sub, for failure messages.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestMetrics(t *testing.T) {
	w := newTestWorld(t)
	v := w.registerVisit(t, "https://shop.test/")
	body := jsonBody(t, map[string]string{"site": "demo", "visit": v.Visit, "target": "telegram:demo_bot"})
	if resp, b := w.do(t, request("POST", "/v1/clicks", body, "Origin", testOrigin)); resp.StatusCode != 204 {
		t.Fatalf("click: %d %s", resp.StatusCode, b)
	}
	w.do(t, request("POST", "/v1/visits", []byte(`{"site":`), "Origin", testOrigin))
	w.do(t, request("GET", "/no/such/page-"+strconv.Itoa(7), nil))
	w.srv.countMatch("id")
	w.srv.countMatch("heuristic")
	w.srv.countMatch("id")
	m := w.scrape(t)
	for _, want := range []string{
		`messtrack_visits_total{site="demo"} 1`,
		`messtrack_clicks_total{site="demo"} 1`,
		`messtrack_matches_total{method="id"} 2`,
		`messtrack_matches_total{method="heuristic"} 1`,
		`messtrack_http_requests_total{route="/v1/visits",status="200"} 1`,
		`messtrack_http_requests_total{route="/v1/visits",status="400"} 1`,
		`messtrack_http_requests_total{route="/v1/clicks",status="204"} 1`,
		`messtrack_http_requests_total{route="unmatched",status="404"} 1`,
		`messtrack_http_request_duration_seconds_count{route="/v1/visits"} 2`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(m, "page-7") {
		t.Errorf("a client path became a label")
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", grepLines(m, "messtrack_"))
	}
}

func TestMetricsCountRedisErrors(t *testing.T) {
	// A Redis that has gone away after the collector started on it.
	redisSrv := redistest.Start(t)
	cfg, err := config.Parse("dead.yaml", []byte("sites:\n  demo:\n    api_key: demo-key-123\n    id_secret: demo-secret-0123456789\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: redisSrv.Addr, MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	srv, err := New(context.Background(), Options{Config: cfg, Redis: rdb, Clock: store.NewManualClock(testStart),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	redisSrv.Stop()
	w := &testWorld{srv: srv}
	resp, b := w.do(t, request("GET", "/healthz", nil))
	if resp.StatusCode != 503 {
		t.Fatalf("healthz with Redis gone: %d %s", resp.StatusCode, b)
	}
	if m := w.scrape(t); !strings.Contains(m, `messtrack_redis_errors_total{command="ping"} 1`) {
		t.Fatalf("metrics lack the failed ping:\n%s", grepLines(m, "redis_errors"))
	}
}

// TestShutdownFinishesRequestsUnderWay starts a request, cancels Serve while
// it runs, and checks that the request still gets its full answer and that
// no new connection is taken meanwhile.
func TestShutdownFinishesRequestsUnderWay(t *testing.T) {
	w := newTestWorld(t)
	started, release := make(chan struct{}), make(chan struct{})
	w.srv.App().Get("/test/slow", func(c *fiber.Ctx) error {
		close(started)
		<-release
		return c.SendString("finished")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- w.srv.Serve(ctx, ln, 10*time.Second) }()

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/test/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{body: string(b), err: err}
	}()
	<-started
	cancel()
	// Wait until the listener is closed: shutdown is under way.
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned (%v) before the request under way finished", err)
	default:
	}
	close(release)
	r := <-got
	if r.err != nil || r.body != "finished" {
		t.Fatalf("request under way: %q, %v; want it finished", r.body, r.err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}
