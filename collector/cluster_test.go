package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

// Two collectors on one real Redis Cluster, traffic spread over them: visit
// IDs stay unique per site and the rate limit holds across both.
func TestTwoCollectorsOnOneCluster(t *testing.T) {
	cc := redistest.NewCluster(t)
	cfg, err := config.Parse("test.yaml", []byte("trusted_proxies: [0.0.0.0]\nrate_limit_per_minute: 40\n"+testConfigYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := store.NewManualClock(testStart)
	var collectors []*testWorld
	for i := 0; i < 2; i++ {
		srv, err := New(context.Background(), Options{
			Config: cfg, Redis: cc, Clock: clock,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test",
		})
		if err != nil {
			t.Fatalf("collector %d: %v", i, err)
		}
		t.Cleanup(func() { srv.Close() })
		collectors = append(collectors, &testWorld{srv: srv, clock: clock, cfg: cfg})
	}
	post := func(w *testWorld, site, origin, ip string) (int, string) {
		body, _ := json.Marshal(map[string]string{"site": site, "url": origin + "/", "lang": "en-GB"})
		resp, b := w.do(t, request("POST", "/v1/visits", body, "Origin", origin, "Content-Type", "text/plain",
			"User-Agent", uaChromeWindows, "X-Forwarded-For", ip))
		if resp.StatusCode != 200 {
			return resp.StatusCode, string(b)
		}
		var v struct {
			Visit string `json:"visit"`
		}
		if err := json.Unmarshal(b, &v); err != nil || v.Visit == "" {
			t.Fatalf("visit answer %s: %v", b, err)
		}
		return 200, v.Visit
	}
	for _, s := range []struct{ site, origin string }{{"demo", testOrigin}, {"shop", "http://other.test"}} {
		seen := map[string]int{}
		for i := 0; i < 120; i++ {
			status, id := post(collectors[i%2], s.site, s.origin, fmt.Sprintf("198.51.100.%d", i%30))
			if status != 200 {
				t.Fatalf("%s visit %d: %d %s", s.site, i, status, id)
			}
			if prev, dup := seen[id]; dup {
				t.Fatalf("%s: visit %d got ID %s, as visit %d did", s.site, i, id, prev)
			}
			seen[id] = i
		}
	}
	// One visitor alternating between the collectors gets 40 a minute, not
	// 40 from each.
	accepted := 0
	for i := 0; i < 60; i++ {
		if status, _ := post(collectors[i%2], "demo", testOrigin, "203.0.113.77"); status == 200 {
			accepted++
		}
	}
	if accepted != 40 {
		t.Errorf("one visitor over two collectors: %d visits accepted in a minute, want the limit of 40", accepted)
	}
}
