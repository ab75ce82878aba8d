package collector

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/collectortest"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

// BenchmarkReplicaWait measures what waiting for a replica before each
// acknowledgement costs: WhatsApp webhooks (a new chat each) and visits
// through two collectors on the same cluster of three masters with a
// replica each, one with redis_wait_replicas: 0, one with the default (one
// replica), in alternating rounds of the same run.
//
//	go test ./collector -run '^$' -bench ReplicaWait -benchtime 4000x
func BenchmarkReplicaWait(b *testing.B) {
	c := redistest.SharedCluster(b)
	_ = c.Client(b) // flushed
	serve := func(extra string) string {
		cfg, err := config.Parse("bench.yaml", []byte("rate_limit_per_minute: -1\n"+extra+testConfigYAML), nil)
		if err != nil {
			b.Fatal(err)
		}
		cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
		b.Cleanup(func() { _ = cc.Close() })
		srv, err := New(context.Background(), Options{Config: cfg, Redis: cc, Clock: store.NewManualClock(testStart),
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = srv.Close() })
		return collectortest.Listen(b, srv)
	}
	targets := []*waitRun{{name: "nowait", base: serve("redis_wait_replicas: 0\n")}, {name: "wait", base: serve("")}}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: waitConns}, Timeout: 10 * time.Second}
	for _, tr := range targets {
		tr.round(b, hc, waitConns*8) // warm connections and scripts
		tr.hooks, tr.visits, tr.hookTime, tr.visitTime = nil, nil, 0, 0
	}
	const rounds = 4
	b.ResetTimer()
	for i := range rounds {
		n := b.N / rounds
		if i == 0 {
			n += b.N % rounds
		}
		for _, tr := range targets {
			tr.round(b, hc, n)
		}
	}
	b.StopTimer()
	no, yes := targets[0], targets[1]
	b.ReportMetric(float64(len(no.hooks))/no.hookTime.Seconds(), "nowait-hooks/s")
	b.ReportMetric(float64(len(yes.hooks))/yes.hookTime.Seconds(), "wait-hooks/s")
	b.ReportMetric((float64(len(yes.hooks))/yes.hookTime.Seconds())/(float64(len(no.hooks))/no.hookTime.Seconds()), "hooks-ratio")
	b.ReportMetric(float64(pct(yes.hooks, 0.99).Microseconds())/float64(pct(no.hooks, 0.99).Microseconds()), "hooks-p99-ratio")
	b.ReportMetric((float64(len(yes.visits))/yes.visitTime.Seconds())/(float64(len(no.visits))/no.visitTime.Seconds()), "visits-ratio")
}

// waitConns is how many requests are in flight at once.
const waitConns = 16

// waitRun is one collector's latencies and busy time.
type waitRun struct {
	name                string
	base                string
	seq                 atomic.Int64
	hooks, visits       []time.Duration
	hookTime, visitTime time.Duration
}

func pct(lat []time.Duration, q float64) time.Duration {
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// round sends n webhooks, then n visits, waitConns at a time.
func (r *waitRun) round(b *testing.B, hc *http.Client, n int) {
	for _, hook := range []bool{true, false} {
		var mu sync.Mutex
		var lat []time.Duration
		var firstErr error
		var wg sync.WaitGroup
		start := time.Now()
		for w := range waitConns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				mine := make([]time.Duration, 0, n/waitConns+1)
				for i := w; i < n; i += waitConns {
					var req *http.Request
					if hook {
						k := r.seq.Add(1)
						waID := fmt.Sprintf("1%s%09d", map[string]string{"wait": "1", "nowait": "2"}[r.name], k)
						body := waNotification("15551234567", waContactJSON("Visitor", waID),
							waTextJSON(waID, "wamid.bench."+waID, testStart, "Hello, is the blue one in stock?"))
						req, _ = http.NewRequest("POST", r.base+"/hooks/whatsapp/demo", strings.NewReader(string(body)))
						req.Header.Set("Content-Type", "application/json")
						req.Header.Set("X-Hub-Signature-256", hubSignature("test_app_secret", body))
					} else {
						req, _ = http.NewRequest("POST", r.base+"/v1/visits", strings.NewReader(`{"site":"demo","url":"http://shop.test/","lang":"en-GB"}`))
						req.Header.Set("Content-Type", "text/plain")
						req.Header.Set("Origin", testOrigin)
						req.Header.Set("User-Agent", uaChromeWindows)
					}
					t0 := time.Now()
					resp, err := hc.Do(req)
					if err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != 200 {
							err = fmt.Errorf("%s: status %d", req.URL.Path, resp.StatusCode)
						}
					}
					mine = append(mine, time.Since(t0))
					if err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
						return
					}
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		if firstErr != nil {
			b.Fatalf("%s: %v", r.name, firstErr)
		}
		if hook {
			r.hooks, r.hookTime = append(r.hooks, lat...), r.hookTime+time.Since(start)
		} else {
			r.visits, r.visitTime = append(r.visits, lat...), r.visitTime+time.Since(start)
		}
	}
}
