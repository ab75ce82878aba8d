package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/messtrack/messtrack/collector/enrich/geotest"
	"github.com/messtrack/messtrack/collector/intake"
)

// loadConns is how many keep-alive connections the load generator holds
// open, like a reverse proxy in front of the collector would.
const loadConns = 32

// loadResult is one load run's figures.
type loadResult struct {
	rate     float64 // requests per second
	p50, p99 time.Duration
}

// loadIPs are visitor addresses the generator cycles through, so geo looks
// up different networks as real traffic does.
var loadIPs = []string{"81.2.69.160", "89.160.20.112", "2a02:6b8::feed:ff", "8.8.8.8", "1.1.1.1", "185.15.59.224", "203.0.113.9", "77.88.55.88"}

// loadRun accumulates the latencies and busy time of one target over
// several rounds.
type loadRun struct {
	client  *fasthttp.Client
	url     string
	lat     []time.Duration
	elapsed time.Duration
}

func newLoadRun(url string) *loadRun {
	return &loadRun{url: url, client: &fasthttp.Client{MaxConnsPerHost: loadConns, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}}
}

// result turns the rounds into rate and percentiles.
func (r *loadRun) result() loadResult {
	lat := slices.Clone(r.lat)
	slices.Sort(lat)
	pick := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	return loadResult{rate: float64(len(lat)) / r.elapsed.Seconds(), p50: pick(0.50), p99: pick(0.99)}
}

// round sends n POSTs of body over loadConns connections and measures each
// request's latency.
func (r *loadRun) round(b *testing.B, n int, body []byte) {
	b.Helper()
	client, url := r.client, r.url
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	per := n / loadConns
	rest := n % loadConns
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < loadConns; w++ {
		n := per
		if w < rest {
			n++
		}
		wg.Add(1)
		go func(worker, n int) {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			mine := make([]time.Duration, 0, n)
			for i := 0; i < n; i++ {
				took, err := timedVisit(client, req, resp, url, testOrigin, loadIPs[(worker+i)%len(loadIPs)], body)
				mine = append(mine, took)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}(w, n)
	}
	wg.Wait()
	r.elapsed += time.Since(start)
	if firstErr != nil {
		b.Fatalf("load on %s: %v", url, firstErr)
	}
	r.lat = append(r.lat, lat...)
}

// report puts a run's figures on the benchmark line, named by prefix.
func (r loadResult) report(b *testing.B, prefix string) {
	b.ReportMetric(r.rate, prefix+"-req/s")
	b.ReportMetric(float64(r.p50.Microseconds()), prefix+"-p50-µs")
	b.ReportMetric(float64(r.p99.Microseconds()), prefix+"-p99-µs")
}

// serveBench serves app on a loopback port until the benchmark ends.
func serveBench(b *testing.B, app *fiber.App) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go app.Listener(ln)
	b.Cleanup(func() { app.ShutdownWithTimeout(5 * time.Second) })
	return "http://" + ln.Addr().String()
}

// benchGeoDB is the real City database when `make geoip` has fetched it (or
// MESSTRACK_GEOIP names one), else the small test database.
func benchGeoDB(b *testing.B) string {
	for _, p := range []string{os.Getenv("MESSTRACK_GEOIP"), filepath.Join("..", "var", "GeoLite2-City.mmdb")} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			b.Logf("geo: %s", p)
			return p
		}
	}
	b.Logf("geo: the small test database (run `make geoip` for the real one)")
	return geotest.WriteDB(b)
}

// BenchmarkIntakeLoad drives POST /v1/visits over loopback with the full
// pipeline (real Redis, geo, user agent, channel) and, in the same run, a
// bare fiber handler that answers the same request without doing anything;
// visits/bare is the figure that travels between machines. The two take
// turns in rounds, so that other work on a shared machine weighs on both
// alike. b.N is the number of visits (and of bare requests). Rate limits
// are off, as a bench would otherwise measure the 429s.
//
//	go test ./collector -run '^$' -bench IntakeLoad -benchtime 20000x
func BenchmarkIntakeLoad(b *testing.B) {
	body, err := json.Marshal(map[string]string{
		"site": "demo", "url": typicalLanding, "landing": typicalLanding, "referrer": "https://www.google.com/",
		"screen": "1920x1080", "lang": "en-GB", "tz": "Europe/London", "visitor": "k3J9aQ2mX8pLz0rT5vW1yB",
	})
	if err != nil {
		b.Fatal(err)
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Post("/v1/visits", func(c *fiber.Ctx) error {
		return c.JSON(intake.VisitResponse{Visit: "A1B2C3D", Code: "#A1B2C3D", Start: "vA1B2C3D", Expires: "2027-02-07T09:00:00Z"})
	})
	bare := newLoadRun(serveBench(b, app) + "/v1/visits")
	w := newTestWorld(b, "geoip: "+benchGeoDB(b)+"\ntrusted_proxies: [127.0.0.1]\nrate_limit_per_minute: -1\n"+testConfigYAML)
	visits := newLoadRun(serveBench(b, w.srv.App()) + "/v1/visits")
	// Warm both servers' connections and the geo database's pages.
	bare.round(b, loadConns*4, body)
	visits.round(b, loadConns*4, body)
	bare.lat, bare.elapsed, visits.lat, visits.elapsed = nil, 0, nil, 0

	const rounds = 5
	b.ResetTimer()
	for i := range rounds {
		n := b.N / rounds
		if i == 0 {
			n += b.N % rounds
		}
		if n == 0 {
			continue
		}
		bare.round(b, n, body)
		visits.round(b, n, body)
	}
	b.StopTimer()
	if len(visits.lat) == 0 {
		return
	}
	br, vr := bare.result(), visits.result()
	br.report(b, "bare")
	vr.report(b, "visits")
	b.ReportMetric(vr.rate/br.rate, "ratio")
	b.ReportMetric(w.bytesPerVisit(b), "redis-B/visit")
}

// bytesPerVisit is the mean MEMORY USAGE of up to 200 stored visits.
func (w *testWorld) bytesPerVisit(b *testing.B) float64 {
	ctx := context.Background()
	keys := w.keys(b, "mt:{demo}:v:*")
	if len(keys) == 0 {
		b.Fatal("no stored visits to measure")
	}
	keys = keys[:min(len(keys), 200)]
	var total int64
	for _, k := range keys {
		total += w.rdb.MemoryUsage(ctx, k, 0).Val()
	}
	return float64(total) / float64(len(keys))
}

// timedVisit posts one visit body to url as the snippet does, from origin
// and the client address ip, and returns how long the answer took; an
// answer other than 200 is an error.
func timedVisit(client *fasthttp.Client, req *fasthttp.Request, resp *fasthttp.Response, url, origin, ip string, body []byte) (time.Duration, error) {
	req.Reset()
	req.SetRequestURI(url)
	req.Header.SetMethod("POST")
	req.Header.SetContentType("text/plain;charset=UTF-8")
	req.Header.Set("Origin", origin)
	req.Header.Set("User-Agent", uaChromeWindows)
	req.Header.Set("X-Forwarded-For", ip)
	req.SetBody(body)
	t0 := time.Now()
	err := client.Do(req, resp)
	took := time.Since(t0)
	if err == nil && resp.StatusCode() != 200 {
		err = fmt.Errorf("status %d: %s", resp.StatusCode(), resp.Body())
	}
	return took, err
}
