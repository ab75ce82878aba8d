package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/valyala/fasthttp"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

// scaleSetup is one arrangement the scale benchmark drives: one
// redis-server or a 3-master cluster, one or two collectors (each with its
// own Redis client and loopback port, as separate processes would have).
type scaleSetup struct {
	name    string
	bases   []string
	phone   int // first digits of this setup's phone numbers, so chats never collide
	clock   *store.ManualClock
	codes   []string // visit codes not yet sent in a first message
	ids     []string // the same visits' IDs
	sent    int
	visits  loadTally
	message loadTally
}

// loadTally counts requests and the time spent sending them.
type loadTally struct {
	n       int
	elapsed time.Duration
}

func (t loadTally) rate() float64 { return float64(t.n) / t.elapsed.Seconds() }

// newScaleSetup starts n collectors on the Redis that client opens.
func newScaleSetup(b *testing.B, name string, phone int, cfg *config.Config, n int, client func() redis.UniversalClient) *scaleSetup {
	b.Helper()
	s := &scaleSetup{name: name, phone: phone, clock: store.NewManualClock(testStart)}
	for i := 0; i < n; i++ {
		rdb := client()
		b.Cleanup(func() { _ = rdb.Close() })
		srv, err := New(context.Background(), Options{
			Config: cfg, Redis: rdb, Clock: s.clock,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test",
		})
		if err != nil {
			b.Fatalf("%s: collector %d: %v", name, i+1, err)
		}
		b.Cleanup(func() { srv.Close() })
		s.bases = append(s.bases, serveBench(b, srv.App()))
	}
	return s
}

// scaleRequest is one request of a load round: its path, body and headers.
type scaleRequest struct {
	path    string
	body    []byte
	headers []string
}

// round sends reqs over loadConns connections spread over the setup's
// collectors (connection w goes to collector w mod n) and returns every
// answer's body.
func (s *scaleSetup) round(b *testing.B, client *fasthttp.Client, reqs []scaleRequest, want int) ([][]byte, time.Duration) {
	b.Helper()
	out := make([][]byte, len(reqs))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	start := time.Now()
	for w := 0; w < loadConns; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			base := s.bases[w%len(s.bases)]
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			for i := w; i < len(reqs); i += loadConns {
				r := reqs[i]
				req.Reset()
				req.SetRequestURI(base + r.path)
				req.Header.SetMethod("POST")
				for h := 0; h+1 < len(r.headers); h += 2 {
					req.Header.Set(r.headers[h], r.headers[h+1])
				}
				req.SetBody(r.body)
				err := client.Do(req, resp)
				if err == nil && resp.StatusCode() != want {
					err = fmt.Errorf("status %d: %s", resp.StatusCode(), resp.Body())
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("%s: POST %s: %w", s.name, r.path, err)
					}
					mu.Unlock()
					return
				}
				out[i] = append([]byte(nil), resp.Body()...)
			}
		}(w)
	}
	wg.Wait()
	took := time.Since(start)
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	return out, took
}

// visitRound posts n visits and keeps their codes for the message round.
func (s *scaleSetup) visitRound(b *testing.B, client *fasthttp.Client, n int) {
	b.Helper()
	reqs := make([]scaleRequest, n)
	for i := range reqs {
		landing := fmt.Sprintf("https://shop.test/p%d?utm_source=facebook&utm_medium=cpc&utm_content=ad%d", i%20, i%50)
		body, _ := json.Marshal(map[string]string{"site": "demo", "url": landing, "landing": landing, "lang": "en-GB", "screen": "1920x1080"})
		reqs[i] = scaleRequest{"/v1/visits", body, []string{"Origin", testOrigin, "Content-Type", "text/plain;charset=UTF-8",
			"User-Agent", uaChromeWindows, "X-Forwarded-For", loadIPs[i%len(loadIPs)]}}
	}
	answers, took := s.round(b, client, reqs, 200)
	for _, a := range answers {
		var v struct {
			Visit string `json:"visit"`
			Code  string `json:"code"`
		}
		if err := json.Unmarshal(a, &v); err != nil || v.Code == "" {
			b.Fatalf("%s: visit answer %s: %v", s.name, a, err)
		}
		s.codes = append(s.codes, v.Code)
		s.ids = append(s.ids, v.Visit)
	}
	s.visits.n += n
	s.visits.elapsed += took
}

// messageRound sends a first message, a signed WhatsApp webhook carrying
// its visit's code, for every visit of the last visit round.
func (s *scaleSetup) messageRound(b *testing.B, client *fasthttp.Client) {
	b.Helper()
	reqs := make([]scaleRequest, len(s.codes))
	for i, code := range s.codes {
		phone := fmt.Sprintf("%d%09d", s.phone, s.sent+i)
		hook := whatsappTextPayloadTB(phone, fmt.Sprintf("wamid.scale-%d-%d", s.phone, s.sent+i), s.clock.Now(), "Hello! My request code: "+code)
		reqs[i] = scaleRequest{"/hooks/whatsapp/demo", hook, []string{"X-Hub-Signature-256", hubSignature("test_app_secret", hook), "Content-Type", "application/json"}}
	}
	_, took := s.round(b, client, reqs, 200)
	s.sent += len(reqs)
	s.codes, s.ids = s.codes[:0], s.ids[:0]
	s.message.n += len(reqs)
	s.message.elapsed += took
}

// BenchmarkScale measures, in one run, visits/s (POST /v1/visits) and first
// messages/s (signed WhatsApp webhooks, each carrying a visit's code, so
// every one is a new chat matched by its code) through the collector's HTTP
// endpoints in four arrangements: one redis-server or a real 3-master
// cluster (a replica each), and one or two collectors with the load spread
// over them. The arrangements take turns in rounds, so that other work on
// a shared machine weighs on all alike, and each figure is reported with its
// ratio to one collector on one server. b.N is the number of visits (and of
// messages) per arrangement.
//
// Everything runs on the same machine: the load generator, every collector
// and every Redis process share its cores, so on a small machine the
// cluster and the second collector show what they cost, not what they add.
//
//	go test ./collector -run '^$' -bench Scale -benchtime 4000x
func BenchmarkScale(b *testing.B) {
	cfg, err := config.Parse("test.yaml", []byte("trusted_proxies: [127.0.0.1]\nrate_limit_per_minute: -1\n"+testConfigYAML), nil)
	if err != nil {
		b.Fatal(err)
	}
	single := redistest.New(b)
	serverClient := func() redis.UniversalClient { return redis.NewClient(single.Options()) }
	cluster := redistest.SharedCluster(b)
	cluster.Client(b) // flushed once for both cluster arrangements
	clusterClient := func() redis.UniversalClient {
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: cluster.Addrs()})
	}
	setups := []*scaleSetup{
		newScaleSetup(b, "server-1c", 2, cfg, 1, serverClient),
		newScaleSetup(b, "server-2c", 3, cfg, 2, serverClient),
		newScaleSetup(b, "cluster-1c", 4, cfg, 1, clusterClient),
		newScaleSetup(b, "cluster-2c", 5, cfg, 2, clusterClient),
	}
	client := &fasthttp.Client{MaxConnsPerHost: loadConns, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	// Warm every collector's connections, allocator and caches.
	for _, s := range setups {
		s.visitRound(b, client, loadConns*4)
		s.messageRound(b, client)
		s.visits, s.message = loadTally{}, loadTally{}
	}
	const rounds = 4
	b.ResetTimer()
	for r := range rounds {
		n := b.N / rounds
		if r == 0 {
			n += b.N % rounds
		}
		if n == 0 {
			continue
		}
		for _, s := range setups {
			s.visitRound(b, client, n)
			s.messageRound(b, client)
		}
	}
	b.StopTimer()
	if b.N < loadConns {
		return // the framework's first probe with b.N = 1: nothing to report
	}
	base := setups[0]
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-11s %10s %7s %10s %7s\n", "setup", "visits/s", "ratio", "msgs/s", "ratio")
	for _, s := range setups {
		vr, mr := s.visits.rate(), s.message.rate()
		b.ReportMetric(vr, s.name+"-visits/s")
		b.ReportMetric(mr, s.name+"-msgs/s")
		if s != base {
			b.ReportMetric(vr/base.visits.rate(), s.name+"-visits-ratio")
			b.ReportMetric(mr/base.message.rate(), s.name+"-msgs-ratio")
		}
		fmt.Fprintf(&table, "%-11s %10.0f %7.2f %10.0f %7.2f\n", s.name, vr, vr/base.visits.rate(), mr, mr/base.message.rate())
	}
	b.Log(table.String())
}
