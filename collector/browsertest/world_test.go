package browsertest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector"
	"github.com/messtrack/messtrack/collector/collectortest"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/ids"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

// testConfigYAML is the collector's shared test world: site "demo" with
// WhatsApp, Telegram and offline sources, and site "shop".
const testConfigYAML = collectortest.ConfigYAML

// testWorld is a collector on a fresh Redis database with a manual clock.
type testWorld struct {
	srv   *collector.Server
	probe collector.TestProbe
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
	cfg, err := config.Parse("test.yaml", []byte(raw), nil)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	rdb := redistest.NewUniversal(t)
	clock := store.NewManualClock(start)
	srv, err := collector.New(context.Background(), collector.Options{
		Config: cfg, Redis: rdb, Clock: clock,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test",
	})
	if err != nil {
		t.Fatalf("collector.New: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return &testWorld{srv: srv, probe: srv.TestProbe(), rdb: rdb, clock: clock, cfg: cfg}
}

// codec is the site's codec of visit IDs and codes.
func (w *testWorld) codec(t testing.TB, site string) *ids.Codec {
	t.Helper()
	c, err := w.probe.Codec(site)
	if err != nil {
		t.Fatal(err)
	}
	return c
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

// listen serves the collector on a loopback port until the test ends and
// returns its base URL.
func (w *testWorld) listen(t testing.TB) string {
	t.Helper()
	return collectortest.Listen(t, w.srv)
}

// serveOn serves the collector on ln until the test ends, then shuts it
// down and fails the test if serving failed.
func (w *testWorld) serveOn(t testing.TB, ln net.Listener) {
	t.Helper()
	collectortest.ServeOn(t, w.srv, ln)
}
