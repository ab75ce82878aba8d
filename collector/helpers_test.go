package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/intake"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

// User agents of a browser and of the bots the intake drops.
const (
	uaChromeWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	uaGooglebot     = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	uaHeadless      = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.109 Safari/537.36"
	uaCurl          = "curl/8.5.0"
)

// testOrigin is the page origin the test sites accept.
const testOrigin = "http://shop.test"

// testConfigYAML is the world most collector tests run in: site "demo" with
// WhatsApp, Telegram and offline sources, and site "shop" to prove one
// site's key never reads the other's data.
const testConfigYAML = `
public_url: http://127.0.0.1:8080
sites:
  demo:
    api_key: demo-key-123
    id_secret: demo-secret-0123456789
    origins: [http://shop.test]
    message: "Hello! My request code: {id}"
    whatsapp:
      - number: "15551234567"
    telegram:
      bots: [demo_bot]
      users: [demo_manager]
    whatsapp_app_secret: test_app_secret
    whatsapp_verify_token: verify-me
    telegram_secret_token: tg-secret-1
    conversion_event: purchase
    sources:
      flyer: {channel: offline, number: "15551234567", title: "Spring flyer"}
      billboard: {channel: offline, dedicated_number: "15557654321"}
  shop:
    api_key: shop-key-456
    id_secret: shop-secret-9876543210
    origins: [http://other.test]
    whatsapp:
      - number: "447700900123"
`

// testWorld is a collector on a fresh Redis database with a manual clock.
type testWorld struct {
	srv   *Server
	rdb   *redis.Client
	clock *store.ManualClock
	cfg   *config.Config
}

// testStart is the manual clock's starting time in every test.
var testStart = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func newTestWorld(t testing.TB, configYAML ...string) *testWorld {
	t.Helper()
	raw := testConfigYAML
	if len(configYAML) > 0 {
		raw = configYAML[0]
	}
	return newWorld(t, raw, testStart)
}

// newTestWorldAt is newTestWorld with the clock, and the collector's start,
// at start.
func newTestWorldAt(t testing.TB, start time.Time) *testWorld {
	t.Helper()
	return newWorld(t, testConfigYAML, start)
}

func newWorld(t testing.TB, raw string, start time.Time) *testWorld {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(raw), nil)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	rdb := redistest.New(t)
	clock := store.NewManualClock(start)
	srv, err := New(context.Background(), Options{
		Config: cfg, Redis: rdb, Clock: clock,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test",
	})
	if err != nil {
		t.Fatalf("collector.New: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return &testWorld{srv: srv, rdb: rdb, clock: clock, cfg: cfg}
}

// do sends a request through the fiber app and returns the response with its
// body read.
func (w *testWorld) do(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := w.srv.App().Test(req, 10_000)
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

// request builds a request with a body and the given headers (pairs).
func request(method, path string, body []byte, headers ...string) *http.Request {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return req
}

// jsonBody marshals v or fails the test.
func jsonBody(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// registerVisit registers a visit from the demo site's page and returns the
// answer.
func (w *testWorld) registerVisit(t testing.TB, landing string) intake.VisitResponse {
	t.Helper()
	body := jsonBody(t, map[string]string{"site": "demo", "url": landing, "landing": landing, "lang": "en-US"})
	resp, b := w.do(t, request("POST", "/v1/visits", body, "Origin", testOrigin, "Content-Type", "text/plain"))
	if resp.StatusCode != 200 {
		t.Fatalf("register visit: %d %s", resp.StatusCode, b)
	}
	var out intake.VisitResponse
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("visit answer %s: %v", b, err)
	}
	return out
}

// listen serves the collector on a loopback port until the test ends and
// returns its base URL.
func (w *testWorld) listen(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w.serveOn(t, ln)
	return "http://" + ln.Addr().String()
}

// serveOn serves the collector on ln until the test ends, then shuts it
// down and fails the test if serving failed.
func (w *testWorld) serveOn(t testing.TB, ln net.Listener) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.srv.Serve(ctx, ln, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
}
