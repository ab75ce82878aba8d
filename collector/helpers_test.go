package collector

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/collectortest"
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
const testOrigin = collectortest.Origin

// testConfigYAML is the world most collector tests run in: site "demo" with
// WhatsApp, Telegram and offline sources, and site "shop" to prove one
// site's key never reads the other's data.
const testConfigYAML = collectortest.ConfigYAML

// testWorld is a collector on a fresh Redis database with a manual clock.
type testWorld struct {
	srv   *Server
	rdb   redis.UniversalClient
	clock *store.ManualClock
	cfg   *config.Config
}

// testStart is the manual clock's starting time in every test.
var testStart = collectortest.Start

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
	return newWorldOn(t, redistest.NewUniversal(t), raw, start)
}

// newWorldOn is newWorld on rdb, for tests whose premise is one kind of
// Redis whichever the test pass runs on.
func newWorldOn(t testing.TB, rdb redis.UniversalClient, raw string, start time.Time) *testWorld {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(raw), nil)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
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

// keys lists the keys matching pattern on every master when the test runs
// on a cluster (KEYS on a cluster client asks one node).
func (w *testWorld) keys(t testing.TB, pattern string) []string {
	t.Helper()
	return redistest.Keys(t, w.rdb, pattern)
}

// do sends a request through the fiber app and returns the response with its
// body read.
func (w *testWorld) do(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	return collectortest.Do(t, w.srv.App(), req)
}

// request builds a request with a body and the given headers (pairs).
var request = collectortest.Request

// jsonBody marshals v or fails the test.
var jsonBody = collectortest.JSONBody

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
	return collectortest.Listen(t, w.srv)
}
