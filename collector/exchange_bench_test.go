package collector

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// messageRound posts n first messages (each from a new number, counted
// from *next) to the generic messages API over loadConns connections and
// answers how long it took.
func messageRound(b *testing.B, client *fasthttp.Client, url string, n int, next *atomic.Int64) time.Duration {
	b.Helper()
	var wg sync.WaitGroup
	var failed atomic.Value
	per := (n + loadConns - 1) / loadConns
	start := time.Now()
	for w := 0; w < loadConns && w*per < n; w++ {
		count := min(per, n-w*per)
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			for range count {
				req.Reset()
				req.SetRequestURI(url)
				req.Header.SetMethod("POST")
				req.Header.SetContentType("application/json")
				req.Header.Set("Authorization", "Bearer demo-key-123")
				req.SetBodyString(fmt.Sprintf(`{"channel":"whatsapp","from":"1666%07d","to":"15551234567","text":"Hello, is the sofa still for sale?"}`, next.Add(1)))
				if err := client.Do(req, resp); err != nil || resp.StatusCode() != 200 {
					failed.Store(fmt.Sprintf("%v %d %s", err, resp.StatusCode(), resp.Body()))
					return
				}
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f != nil {
		b.Fatalf("message: %v", f)
	}
	return time.Since(start)
}

// BenchmarkExchange posts first messages to two collectors on the same
// Redis server, one sending every conversation to a local webhook receiver
// and one sending nothing, in alternating rounds; the receiver counts what
// arrives. It reports both inbound rates, their ratio (the cost of the
// exchange to inbound), and the outbound deliveries per second over the
// whole run until the last one arrived. b.N is the number of messages to
// each collector.
//
//	go test ./collector -run '^$' -bench Exchange -benchtime 4000x
func BenchmarkExchange(b *testing.B) {
	var got atomic.Int64
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(crm.Close)
	base := "trusted_proxies: [127.0.0.1]\nrate_limit_per_minute: -1\n" + testConfigYAML
	off := newTestWorld(b, base)
	on := newTestWorld(b, strings.Replace(base, "    conversion_event: purchase\n",
		"    conversion_event: purchase\n    webhooks:\n      - url: "+crm.URL+"\n        secret: "+crmSecret+"\n", 1))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { on.srv.Deliveries().Run(ctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	client := &fasthttp.Client{MaxConnsPerHost: loadConns, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	offURL := serveBench(b, off.srv.App()) + "/v1/sites/demo/messages"
	onURL := serveBench(b, on.srv.App()) + "/v1/sites/demo/messages"
	var nextOff, nextOn atomic.Int64
	var tOff, tOn time.Duration
	const rounds = 5
	b.ResetTimer()
	start := time.Now()
	for i := range rounds {
		n := b.N / rounds
		if i == 0 {
			n += b.N % rounds
		}
		if n == 0 {
			continue
		}
		tOff += messageRound(b, client, offURL, n, &nextOff)
		tOn += messageRound(b, client, onURL, n, &nextOn)
	}
	b.StopTimer()
	for deadline := time.Now().Add(2 * time.Minute); got.Load() < int64(b.N) && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	outbound := time.Since(start)
	if got.Load() < int64(b.N) {
		b.Fatalf("%d of %d deliveries arrived", got.Load(), b.N)
	}
	offRate, onRate := float64(b.N)/tOff.Seconds(), float64(b.N)/tOn.Seconds()
	b.ReportMetric(offRate, "inbound-off-msg/s")
	b.ReportMetric(onRate, "inbound-on-msg/s")
	b.ReportMetric(onRate/offRate, "on/off")
	b.ReportMetric(float64(got.Load())/outbound.Seconds(), "outbound-deliveries/s")
}
