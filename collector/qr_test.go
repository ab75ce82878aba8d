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
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/collectortest"
	"github.com/messtrack/messtrack/collector/enrich"
	"github.com/messtrack/messtrack/collector/enrich/geotest"
	"github.com/messtrack/messtrack/collector/httperr"
	"github.com/messtrack/messtrack/collector/qr"
	"github.com/messtrack/messtrack/collector/qr/qrtest"
	"github.com/messtrack/messtrack/collector/qrhttp"
	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

// phoneUA is a phone's browser, as a QR scan comes from.
const phoneUA = collectortest.PhoneUA

// scanIP is the phone's address in the test City database (Linköping).
const scanIP = "89.160.20.112"

// newQRWorld is the QR test world with the test City database, behind the
// in-process peer as a trusted proxy so that scans come from scanIP.
func newQRWorld(t testing.TB) *testWorld {
	t.Helper()
	return newTestWorld(t, "geoip: "+geotest.WriteDB(t)+"\ntrusted_proxies: [0.0.0.0]\n"+collectortest.QRConfigYAML)
}

// getQR asks the owner's API for a source's QR image and returns its body.
func (w *testWorld) getQR(t testing.TB, path string) []byte {
	t.Helper()
	resp, body := w.do(t, request("GET", path, nil, "Authorization", "Bearer demo-key-123"))
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return body
}

// scan follows a /q/ URL the way a phone does after reading the code and
// returns the chat link it is sent to.
func (w *testWorld) scan(t testing.TB, scanned string) string {
	t.Helper()
	path, ok := strings.CutPrefix(scanned, w.cfg.PublicURL)
	if !ok {
		t.Fatalf("QR holds %q, not a link to the collector at %s", scanned, w.cfg.PublicURL)
	}
	resp, body := w.do(t, request("GET", path, nil, "User-Agent", phoneUA, "Accept-Language", "de-DE,de;q=0.9,en;q=0.8",
		"X-Forwarded-For", scanIP))
	if resp.StatusCode != 302 {
		t.Fatalf("scan %s: %d %s", path, resp.StatusCode, body)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	if got := resp.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy = %q, want no-referrer", got)
	}
	if d := resp.Header.Get(httperr.HeaderDropped); d != "" {
		t.Errorf("a person's scan was dropped: %q", d)
	}
	return resp.Header.Get("Location")
}

// visitKeys counts the stored visits of a site.
func (w *testWorld) visitKeys(t testing.TB, siteName string) int {
	t.Helper()
	v0 := store.NewShards(siteName, 1).Visit(0)
	return len(w.keys(t, v0[:len(v0)-1]+"*"))
}

func TestSourceQRScanToChat(t *testing.T) {
	tests := []struct {
		name     string
		source   string
		format   string
		query    string
		size     int
		wantLink string // the chat link up to its code
		// wantTarget is the chat whose click index gets the scan.
		wantTarget string
		channel    string
	}{
		{name: "whatsapp flyer png", source: "flyer", format: "png", wantLink: "https://wa.me/15551234567?text=Hello%21%20My%20request%20code%3A%20", wantTarget: "whatsapp:15551234567", channel: "offline"},
		{name: "whatsapp flyer svg", source: "flyer", format: "svg", query: "?size=300&level=H", size: 300, wantLink: "https://wa.me/15551234567?text=Hello%21%20My%20request%20code%3A%20", wantTarget: "whatsapp:15551234567", channel: "offline"},
		{name: "dedicated number billboard", source: "billboard", format: "png", query: "?size=256&level=l", size: 256, wantLink: "https://wa.me/15557654321?text=", wantTarget: "whatsapp:15557654321", channel: "offline"},
		{name: "telegram bot desk card", source: "desk", format: "svg", query: "?level=Q", wantLink: "https://t.me/demo_bot?start=", wantTarget: "telegram:demo_bot", channel: "offline"},
		{name: "telegram user shop window", source: "window", format: "png", wantLink: "https://t.me/demo_manager?text=Hello%21%20My%20request%20code%3A%20", wantTarget: "telegram:demo_manager", channel: "shop_window"},
		{name: "source without a chat falls back to the site number", source: "poster", format: "svg", wantLink: "https://wa.me/15551234567?text=", wantTarget: "whatsapp:15551234567", channel: "offline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newQRWorld(t)
			st := w.srv.sites["demo"]
			img := w.getQR(t, "/v1/sites/demo/qr/"+tt.source+"."+tt.format+tt.query)
			size := tt.size
			if size == 0 {
				size = qr.DefaultSize
			}
			scanned := qrtest.DecodeImage(t, tt.format, img, size)
			if want := "http://127.0.0.1:8080/q/demo/" + tt.source; scanned != want {
				t.Fatalf("QR holds %q, want %q", scanned, want)
			}
			link := w.scan(t, scanned)
			if !strings.HasPrefix(link, tt.wantLink) {
				t.Fatalf("scan sent the person to %q, want a link starting %q", link, tt.wantLink)
			}
			if strings.Contains(link, "+") {
				t.Errorf("chat link %q holds '+', which wa.me reads as a space", link)
			}
			n := collectortest.LinkVisit(t, st.codec, link)
			v, err := w.srv.loadVisit(context.Background(), st, n)
			if err != nil {
				t.Fatalf("the code in %q names no stored visit: %v", link, err)
			}
			if v.Source != tt.source || v.Channel != tt.channel || v.Static {
				t.Errorf("visit source %q channel %q static %v, want %q %q false", v.Source, v.Channel, v.Static, tt.source, tt.channel)
			}
			if !v.Time.Equal(testStart) || v.Language != "de-DE" || v.Landing != scanned {
				t.Errorf("visit time %v language %q landing %q", v.Time, v.Language, v.Landing)
			}
			if v.Country != "SE" || v.City != "Linköping" || v.IP != scanIP || v.OS != "iOS 17" || v.Device != "mobile" || v.Browser == "" {
				t.Errorf("scan's geo and device: country %q city %q ip %q os %q device %q browser %q",
					v.Country, v.City, v.IP, v.OS, v.Device, v.Browser)
			}
			ttl, err := w.rdb.TTL(context.Background(), demoKeys.Visit(n)).Result()
			if err != nil || ttl <= 0 {
				t.Errorf("a scan's visit must expire like any visit: TTL %v, %v", ttl, err)
			}
			clicks, err := w.srv.recentClicks(context.Background(), st, tt.wantTarget, testStart.Add(-time.Minute), testStart)
			if err != nil || len(clicks) != 1 || clicks[0].N != n {
				t.Errorf("clicks on %s: %+v, %v; want the scan's visit %d", tt.wantTarget, clicks, err, n)
			}
		})
	}
}

func TestScanEachScanIsAVisit(t *testing.T) {
	w := newTestWorld(t)
	st := w.srv.sites["demo"]
	first := collectortest.LinkVisit(t, st.codec, w.scan(t, w.cfg.PublicURL+"/q/demo/flyer"))
	second := collectortest.LinkVisit(t, st.codec, w.scan(t, w.cfg.PublicURL+"/q/demo/flyer"))
	if first == second {
		t.Fatalf("two scans share visit %d", first)
	}
	if got := w.visitKeys(t, "demo"); got != 2 {
		t.Errorf("%d visits stored, want 2", got)
	}
}

func TestScanCarriesPrintedUTMTags(t *testing.T) {
	w := newTestWorld(t)
	st := w.srv.sites["demo"]
	scanned := w.cfg.PublicURL + "/q/demo/flyer?utm_source=print&utm_campaign=spring%20sale"
	v, err := w.srv.loadVisit(context.Background(), st, collectortest.LinkVisit(t, st.codec, w.scan(t, scanned)))
	if err != nil {
		t.Fatal(err)
	}
	if v.UTMSource != "print" || v.UTMCampaign != "spring sale" || v.Landing != scanned {
		t.Errorf("utm_source %q utm_campaign %q landing %q", v.UTMSource, v.UTMCampaign, v.Landing)
	}
	if v.Channel != "offline" || v.Source != "flyer" {
		t.Errorf("printed tags moved the scan to channel %q source %q", v.Channel, v.Source)
	}
}

func TestScanUnknownSiteOrSource(t *testing.T) {
	tests := []struct {
		name     string
		path     string
		wantText string
	}{
		{name: "unknown site", path: "/q/nosuchsite/flyer", wantText: "No site &#34;nosuchsite&#34;"},
		{name: "unknown source", path: "/q/demo/leaflet", wantText: "No source &#34;leaflet&#34;"},
		{name: "source of the other site", path: "/q/shop/flyer", wantText: "No source &#34;flyer&#34;"},
		{name: "markup in the source", path: "/q/demo/%3Cscript%3Ealert(1)%3C%2Fscript%3E", wantText: "No source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newTestWorld(t)
			resp, body := w.do(t, request("GET", tt.path, nil, "User-Agent", phoneUA))
			if resp.StatusCode != 404 {
				t.Fatalf("status %d, want 404: %s", resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type %q, want an HTML page", ct)
			}
			if loc := resp.Header.Get("Location"); loc != "" {
				t.Errorf("a dead code redirected to %q", loc)
			}
			page := string(body)
			if !strings.Contains(page, "This code leads nowhere") || !strings.Contains(page, tt.wantText) {
				t.Errorf("page lacks the reason %q:\n%s", tt.wantText, page)
			}
			if strings.Contains(page, "<img") || strings.Contains(page, "<script") {
				t.Errorf("page carries markup from the URL:\n%s", page)
			}
			if n := w.visitKeys(t, "demo"); n != 0 {
				t.Errorf("%d visits stored for a dead code", n)
			}
		})
	}
}

func TestScanRawMarkupInPath(t *testing.T) {
	w := newTestWorld(t)
	base := w.listen(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Sent byte for byte: an HTTP client would percent-encode the markup.
	raw := "GET /q/demo/\"><img_src=x_onerror=alert(1)> HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	page := string(body)
	if resp.StatusCode != 404 || !strings.Contains(page, "&lt;img_src=x_onerror=alert(1)&gt;") {
		t.Fatalf("status %d, page:\n%s", resp.StatusCode, page)
	}
	if strings.Contains(page, "<img") {
		t.Errorf("page carries markup from the URL:\n%s", page)
	}
}

func TestScanDroppedHitsStillReachTheChat(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		headers []string
		wantWhy string
	}{
		{name: "HEAD from a link checker", method: "HEAD", headers: []string{"User-Agent", phoneUA}, wantWhy: "head"},
		{name: "browser prefetch", method: "GET", headers: []string{"User-Agent", phoneUA, "Sec-Purpose", "prefetch"}, wantWhy: "prefetch"},
		{name: "prerender", method: "GET", headers: []string{"User-Agent", phoneUA, "Sec-Purpose", "prefetch;prerender"}, wantWhy: "prerender"},
		{name: "link preview marker", method: "GET", headers: []string{"User-Agent", phoneUA, "X-Purpose", "preview"}, wantWhy: "preview"},
		{name: "messenger link preview", method: "GET", headers: []string{"User-Agent", "WhatsApp/2.23.20.0 A"}, wantWhy: "not-a-browser"},
		{name: "social preview fetcher", method: "GET", headers: []string{"User-Agent", "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"}, wantWhy: "not-a-browser"},
		{name: "search crawler", method: "GET", headers: []string{"User-Agent", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}, wantWhy: "bot"},
		{name: "headless browser", method: "GET", headers: []string{"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36"}, wantWhy: "headless"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newTestWorld(t)
			resp, _ := w.do(t, request(tt.method, "/q/demo/flyer", nil, tt.headers...))
			if resp.StatusCode != 302 || resp.Header.Get("Location") != "https://wa.me/15551234567" {
				t.Fatalf("status %d to %q, want 302 to the plain chat", resp.StatusCode, resp.Header.Get("Location"))
			}
			if got := resp.Header.Get(httperr.HeaderDropped); got != tt.wantWhy {
				t.Errorf("%s = %q, want %q", httperr.HeaderDropped, got, tt.wantWhy)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q: a cached redirect would skip the next person's scan", got)
			}
			if n := w.visitKeys(t, "demo"); n != 0 {
				t.Errorf("%d visits stored for a machine's hit", n)
			}
		})
	}
}

// TestScanLinkWhenEnrichmentDrops: a scan whose enrichment drops the hit
// or fails still reaches the chat, without a code, and stores no visit.
func TestScanLinkWhenEnrichmentDrops(t *testing.T) {
	w := newTestWorld(t)
	tests := []struct {
		name     string
		step     enrich.Step
		wantLink string
		wantWhy  string
	}{
		{name: "a bot, as the pipeline reports it", step: enrich.StepFunc(func(*visit.Visit, *enrich.Hit) error {
			return fmt.Errorf("enrich: %w", fail(ErrDropped, "bot: link preview"))
		}), wantLink: "https://wa.me/15551234567", wantWhy: "bot: link preview"},
		{name: "a bare ErrDropped", step: enrich.StepFunc(func(*visit.Visit, *enrich.Hit) error {
			return fmt.Errorf("enrich: uaStep: %w", ErrDropped)
		}), wantLink: "https://wa.me/15551234567", wantWhy: "dropped"},
		{name: "a failing step", step: enrich.StepFunc(func(*visit.Visit, *enrich.Hit) error {
			return fmt.Errorf("enrich: geo: %w", io.ErrUnexpectedEOF)
		}), wantLink: "https://wa.me/15551234567", wantWhy: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The collector's QR handlers with this enrichment step.
			s := w.srv
			h := qrhttp.New(qrhttp.Options{Config: s.cfg, Site: s.prepared, Guard: s.requireKey, SiteOf: authedPrepared,
				Visits: port{s}, Redis: s.rdb, Enrich: tt.step, ClientIP: s.clientIP, Dropped: s.countDropped, Clock: s.clock, Log: s.log})
			app := fiber.New()
			h.Register(app)
			resp, err := app.Test(request("GET", "/q/demo/flyer", nil, "User-Agent", phoneUA))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			link, why := resp.Header.Get("Location"), resp.Header.Get(httperr.HeaderDropped)
			if resp.StatusCode != 302 || link != tt.wantLink || why != tt.wantWhy {
				t.Errorf("scan: %d to %q, %q; want 302 to %q, %q", resp.StatusCode, link, why, tt.wantLink, tt.wantWhy)
			}
			if n := w.visitKeys(t, "demo"); n != 0 {
				t.Errorf("%d visits stored for a dropped hit", n)
			}
		})
	}
}

func TestScanWithRedisDownStillReachesTheChat(t *testing.T) {
	// A private server on both passes: the test stops it.
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { rdb.Close() })
	cfg, err := config.Parse("test.yaml", []byte(testConfigYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(context.Background(), Options{Config: cfg, Redis: rdb, Clock: store.NewManualClock(testStart),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	w := &testWorld{srv: s, cfg: cfg}
	resp, body := w.do(t, request("GET", "/q/demo/flyer", nil, "User-Agent", phoneUA))
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "https://wa.me/15551234567" {
		t.Fatalf("status %d to %q (%s), want 302 to the plain chat", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

func TestSourceQRBadInput(t *testing.T) {
	tests := []struct {
		name       string
		path       string
		key        string
		wantStatus int
		wantError  string
	}{
		{name: "no key", path: "/v1/sites/demo/qr/flyer.png", wantStatus: 401, wantError: "missing or wrong API key"},
		{name: "wrong key", path: "/v1/sites/demo/qr/flyer.png", key: "Bearer nope-nope-nope", wantStatus: 401, wantError: "missing or wrong API key"},
		{name: "other site's key", path: "/v1/sites/demo/qr/flyer.png", key: "Bearer shop-key-456", wantStatus: 401, wantError: "missing or wrong API key"},
		{name: "other site's key for its own site's source", path: "/v1/sites/shop/qr/flyer.svg", key: "Bearer shop-key-456", wantStatus: 404, wantError: `site "shop" has no source "flyer"`},
		{name: "unknown site", path: "/v1/sites/nosuchsite/qr/flyer.png", key: "Bearer demo-key-123", wantStatus: 404, wantError: `unknown site "nosuchsite"`},
		{name: "unknown source", path: "/v1/sites/demo/qr/leaflet.png", key: "Bearer demo-key-123", wantStatus: 404, wantError: `site "demo" has no source "leaflet"`},
		{name: "markup as source", path: "/v1/sites/demo/qr/%3Cb%3E.png", key: "Bearer demo-key-123", wantStatus: 404, wantError: "has no source"},
		{name: "unknown format", path: "/v1/sites/demo/qr/flyer.gif", key: "Bearer demo-key-123", wantStatus: 404, wantError: "ask for SOURCE.png or SOURCE.svg"},
		{name: "no format", path: "/v1/sites/demo/qr/flyer", key: "Bearer demo-key-123", wantStatus: 404, wantError: "ask for SOURCE.png or SOURCE.svg"},
		{name: "size not a number", path: "/v1/sites/demo/qr/flyer.png?size=big", key: "Bearer demo-key-123", wantStatus: 400, wantError: `size "big" is not a whole number`},
		{name: "size zero", path: "/v1/sites/demo/qr/flyer.png?size=0", key: "Bearer demo-key-123", wantStatus: 400, wantError: "size 0 is outside 128..2048"},
		{name: "size too small", path: "/v1/sites/demo/qr/flyer.png?size=64", key: "Bearer demo-key-123", wantStatus: 400, wantError: "size 64 is outside 128..2048"},
		{name: "size too large", path: "/v1/sites/demo/qr/flyer.svg?size=100000", key: "Bearer demo-key-123", wantStatus: 400, wantError: "size 100000 is outside 128..2048"},
		{name: "negative size", path: "/v1/sites/demo/qr/flyer.png?size=-4", key: "Bearer demo-key-123", wantStatus: 400, wantError: "size -4 is outside"},
		{name: "unknown level", path: "/v1/sites/demo/qr/flyer.png?level=X", key: "Bearer demo-key-123", wantStatus: 400, wantError: `level "X" is not one of L, M, Q, H`},
		{name: "level with markup", path: "/v1/sites/demo/qr/flyer.png?level=%3Cscript%3E", key: "Bearer demo-key-123", wantStatus: 400, wantError: "is not one of L, M, Q, H"},
		{name: "static not a flag", path: "/v1/sites/demo/qr/flyer.png?static=maybe", key: "Bearer demo-key-123", wantStatus: 400, wantError: `static "maybe" is not 1, 0, true or false`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newTestWorld(t)
			var headers []string
			if tt.key != "" {
				headers = []string{"Authorization", tt.key}
			}
			resp, body := w.do(t, request("GET", tt.path, nil, headers...))
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, body)
			}
			var out struct{ Error string }
			if err := json.Unmarshal(body, &out); err != nil {
				t.Fatalf("error body %q is not JSON: %v", body, err)
			}
			if !strings.Contains(out.Error, tt.wantError) {
				t.Errorf("error %q lacks %q", out.Error, tt.wantError)
			}
			if strings.Contains(out.Error, "<script") || strings.Contains(out.Error, "<b>") {
				t.Errorf("error %q echoes markup decoded", out.Error)
			}
			if keys := w.keys(t, "mt:{demo}:src:*"); len(keys) != 0 {
				t.Errorf("a refused request left static source keys %v", keys)
			}
		})
	}
}

func TestStaticSourceQR(t *testing.T) {
	w := newTestWorld(t, collectortest.QRConfigYAML)
	st := w.srv.sites["demo"]
	ctx := context.Background()

	link := qrtest.DecodePNG(t, w.getQR(t, "/v1/sites/demo/qr/flyer.png?static=1"), qr.DefaultSize)
	if !strings.HasPrefix(link, "https://wa.me/15551234567?text=Hello%21%20My%20request%20code%3A%20") {
		t.Fatalf("static QR holds %q, want the chat link itself", link)
	}
	n := collectortest.LinkVisit(t, st.codec, link)
	v, err := w.srv.loadVisit(ctx, st, n)
	if err != nil {
		t.Fatalf("static code names no visit: %v", err)
	}
	if !v.Static || v.Source != "flyer" || v.Channel != "offline" {
		t.Errorf("static visit static %v source %q channel %q", v.Static, v.Source, v.Channel)
	}
	if ttl := w.rdb.TTL(ctx, demoKeys.Visit(n)).Val(); ttl != -1 {
		t.Errorf("static visit TTL %v: a printed code must not expire", ttl)
	}

	t.Run("the same code every time and in every format", func(t *testing.T) {
		w.clock.Set(testStart.Add(400 * 24 * time.Hour))
		again := qrtest.DecodeSVG(t, w.getQR(t, "/v1/sites/demo/qr/flyer.svg?static=true&size=200&level=H"), 200)
		if again != link {
			t.Errorf("second static QR holds %q, want %q", again, link)
		}
	})
	t.Run("a lost record comes back under the same number", func(t *testing.T) {
		if err := w.rdb.Del(ctx, demoKeys.Visit(n)).Err(); err != nil {
			t.Fatal(err)
		}
		again := qrtest.DecodePNG(t, w.getQR(t, "/v1/sites/demo/qr/flyer.png?static=1"), qr.DefaultSize)
		if again != link {
			t.Fatalf("after losing the record the QR holds %q, want %q", again, link)
		}
		v, err := w.srv.loadVisit(ctx, st, n)
		if err != nil || !v.Static || v.Source != "flyer" {
			t.Errorf("restored visit %+v, %v", v, err)
		}
	})
	t.Run("each source has its own code", func(t *testing.T) {
		desk := qrtest.DecodeSVG(t, w.getQR(t, "/v1/sites/demo/qr/desk.svg?static=1"), qr.DefaultSize)
		if !strings.HasPrefix(desk, "https://t.me/demo_bot?start=") {
			t.Fatalf("static bot QR holds %q", desk)
		}
		dn := collectortest.LinkVisit(t, st.codec, desk)
		if dn == n {
			t.Fatalf("desk and flyer share static visit %d", n)
		}
		dv, err := w.srv.loadVisit(ctx, st, dn)
		if err != nil || dv.Source != "desk" || !dv.Static {
			t.Errorf("desk static visit %+v, %v", dv, err)
		}
	})
	t.Run("the scan QR is not the static one", func(t *testing.T) {
		scanQR := qrtest.DecodePNG(t, w.getQR(t, "/v1/sites/demo/qr/flyer.png?static=0"), qr.DefaultSize)
		if scanQR != "http://127.0.0.1:8080/q/demo/flyer" {
			t.Errorf("static=0 QR holds %q", scanQR)
		}
	})
}

func TestStaticSourceLinkConcurrentFirstUse(t *testing.T) {
	w := newTestWorld(t)
	const callers = 8
	links := make([]string, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			links[i], errs[i] = w.srv.StaticSourceLink(context.Background(), "demo", "billboard")
		})
	}
	wg.Wait()
	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if links[i] != links[0] {
			t.Fatalf("callers got different static links: %q and %q", links[0], links[i])
		}
	}
	if n := w.visitKeys(t, "demo"); n != 1 {
		t.Errorf("%d visits stored for one static source", n)
	}
	if _, err := w.srv.StaticSourceLink(context.Background(), "demo", "leaflet"); err == nil || !strings.Contains(err.Error(), `no source "leaflet"`) {
		t.Errorf("unknown source: %v", err)
	}
	if _, err := w.srv.StaticSourceLink(context.Background(), "nosuchsite", "flyer"); err == nil || !strings.Contains(err.Error(), "unknown site") {
		t.Errorf("unknown site: %v", err)
	}
}

func TestVisitQR(t *testing.T) {
	w := newTestWorld(t, collectortest.QRConfigYAML)
	st := w.srv.sites["demo"]
	visit := w.registerVisit(t, "https://shop.test/pricing?utm_source=newsletter")
	wantN, err := st.codec.ParseVisitID(visit.Visit)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		target   string
		query    string
		size     int
		wantLink string
	}{
		{name: "whatsapp number", target: "whatsapp:15551234567", wantLink: "https://wa.me/15551234567?text=Hello%21%20My%20request%20code%3A%20"},
		{name: "whatsapp number as people write it", target: "whatsapp:+1 (555) 123-4567", query: "&size=160&level=L", size: 160, wantLink: "https://wa.me/15551234567?text="},
		{name: "dedicated number", target: "whatsapp:15557654321", wantLink: "https://wa.me/15557654321?text="},
		{name: "telegram bot", target: "telegram:@Demo_Bot", wantLink: "https://t.me/demo_bot?start=" + st.codec.Start(wantN)},
		{name: "telegram user", target: "telegram:demo_manager", query: "&level=H", wantLink: "https://t.me/demo_manager?text=Hello%21%20My%20request%20code%3A%20"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/qr/demo/" + visit.Visit + ".svg?target=" + url.QueryEscape(tt.target) + tt.query
			resp, body := w.do(t, request("GET", path, nil))
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
			}
			for h, want := range map[string]string{
				"Content-Type":                 "image/svg+xml",
				"Content-Security-Policy":      "default-src 'none'",
				"X-Content-Type-Options":       "nosniff",
				"Cross-Origin-Resource-Policy": "cross-origin",
			} {
				if got := resp.Header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			size := tt.size
			if size == 0 {
				size = qr.DefaultSize
			}
			link := qrtest.DecodeSVG(t, body, size)
			if !strings.HasPrefix(link, tt.wantLink) {
				t.Fatalf("QR holds %q, want a link starting %q", link, tt.wantLink)
			}
			if got := collectortest.LinkVisit(t, st.codec, link); got != wantN {
				t.Errorf("QR carries visit %d, want %d (%s)", got, wantN, visit.Visit)
			}
		})
	}
}

func TestVisitQRBadInput(t *testing.T) {
	w := newTestWorld(t)
	st := w.srv.sites["demo"]
	visit := w.registerVisit(t, "https://shop.test/")
	unknown := st.codec.VisitID(st.codec.Number(1 << 20))
	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantError  string
	}{
		{name: "unknown site", path: "/qr/nosuchsite/" + visit.Visit + ".svg?target=whatsapp:15551234567", wantStatus: 404, wantError: "unknown site"},
		{name: "unknown visit", path: "/qr/demo/" + unknown + ".svg?target=whatsapp:15551234567", wantStatus: 404, wantError: "is unknown or expired"},
		{name: "not a visit ID", path: "/qr/demo/%3Cimg%3E.svg?target=whatsapp:15551234567", wantStatus: 400, wantError: "is not a visit ID"},
		{name: "png asked", path: "/qr/demo/" + visit.Visit + ".png?target=whatsapp:15551234567", wantStatus: 404, wantError: "ask for VISIT.svg"},
		{name: "no target", path: "/qr/demo/" + visit.Visit + ".svg", wantStatus: 400, wantError: "target is required"},
		{name: "other site's number", path: "/qr/demo/" + visit.Visit + ".svg?target=whatsapp:447700900123", wantStatus: 400, wantError: "is not a chat of this site"},
		{name: "stranger's telegram", path: "/qr/demo/" + visit.Visit + ".svg?target=telegram:someone_else", wantStatus: 400, wantError: "is not a chat of this site"},
		{name: "unknown messenger", path: "/qr/demo/" + visit.Visit + ".svg?target=signal:15551234567", wantStatus: 400, wantError: "is not a chat of this site"},
		{name: "markup as target", path: "/qr/demo/" + visit.Visit + ".svg?target=%3Cscript%3E", wantStatus: 400, wantError: "is not a chat of this site"},
		{name: "bad size", path: "/qr/demo/" + visit.Visit + ".svg?target=whatsapp:15551234567&size=9999", wantStatus: 400, wantError: "size 9999 is outside"},
		{name: "bad level", path: "/qr/demo/" + visit.Visit + ".svg?target=whatsapp:15551234567&level=Z", wantStatus: 400, wantError: "level \"Z\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := w.do(t, request("GET", tt.path, nil))
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, body)
			}
			var out struct{ Error string }
			if err := json.Unmarshal(body, &out); err != nil {
				t.Fatalf("error body %q is not JSON: %v", body, err)
			}
			if !strings.Contains(out.Error, tt.wantError) {
				t.Errorf("error %q lacks %q", out.Error, tt.wantError)
			}
		})
	}
}

// BenchmarkScan measures a QR scan (register the offline visit, redirect)
// against registering a web visit, the baseline, in the same run.
func BenchmarkScan(b *testing.B) {
	// Both run the whole pipeline (user agent, geo) with no rate limit.
	w := newTestWorld(b, "geoip: "+geotest.WriteDB(b)+"\ntrusted_proxies: [0.0.0.0]\nrate_limit_per_minute: -1\n"+testConfigYAML)
	visitBody := jsonBody(b, map[string]string{"site": "demo", "url": "https://shop.test/", "lang": "en-US"})
	b.Run("visit baseline", func(b *testing.B) {
		for b.Loop() {
			resp, _ := w.do(b, request("POST", "/v1/visits", visitBody, "Origin", testOrigin, "Content-Type", "text/plain",
				"User-Agent", phoneUA, "X-Forwarded-For", scanIP))
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			resp, _ := w.do(b, request("GET", "/q/demo/flyer", nil, "User-Agent", phoneUA, "X-Forwarded-For", scanIP))
			if resp.StatusCode != 302 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}

func TestVisitQRIsRateLimited(t *testing.T) {
	w := newTestWorld(t, "rate_limit_per_minute: 2\n"+testConfigYAML)
	visit := w.registerVisit(t, "https://shop.test/")
	path := "/qr/demo/" + visit.Visit + ".svg?target=whatsapp:15551234567"
	for i, want := range []int{200, 200, 429} {
		resp, body := w.do(t, request("GET", path, nil))
		if resp.StatusCode != want {
			t.Fatalf("request %d: %d %s, want %d", i+1, resp.StatusCode, body, want)
		}
	}
	// Scans keep their own budget: a page full of desktop QRs does not use
	// up the scans of the people in the shop.
	if resp, body := w.do(t, request("GET", "/q/demo/flyer", nil, "User-Agent", phoneUA)); resp.StatusCode != 302 {
		t.Errorf("scan after the QR limit: %d %s", resp.StatusCode, body)
	}
}

func TestStaticVisitViewHasNoExpiry(t *testing.T) {
	w := newTestWorld(t)
	link, err := w.srv.StaticSourceLink(context.Background(), "demo", "flyer")
	if err != nil {
		t.Fatal(err)
	}
	st := w.srv.sites["demo"]
	n := collectortest.LinkVisit(t, st.codec, link)
	resp, body := w.do(t, request("GET", "/v1/sites/demo/visits/"+st.codec.VisitID(n), nil, "Authorization", "Bearer demo-key-123"))
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var view map[string]any
	if err := json.Unmarshal(body, &view); err != nil {
		t.Fatal(err)
	}
	if _, ok := view["expires"]; ok || view["offline_source"] != "flyer" || view["channel"] != "offline" {
		t.Errorf("static visit view %s", body)
	}
}
