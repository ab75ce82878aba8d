package collector

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// stallVisitors is how many visitors post visits one after another while
// the stall benchmark measures them.
const stallVisitors = 4

// bigCostUpload is a cost CSV just under the 4 MiB body limit: 57 days of
// about 2,000 ads, some 118,000 rows.
func bigCostUpload(tb testing.TB) []byte {
	tb.Helper()
	var sb strings.Builder
	sb.WriteString("date,ad_id,cost,reach,impressions,clicks,currency\n")
	d0 := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	for row := 0; ; row++ {
		line := fmt.Sprintf("%s,a%04d,%d.%d,%d,%d,%d,USD\n",
			d0.AddDate(0, 0, row/2090).Format("2006-01-02"), row%2090, row%97, row%10, row%500, row%900, row%7)
		if sb.Len()+len(line) > maxBody {
			break
		}
		sb.WriteString(line)
	}
	return []byte(sb.String())
}

// visitLoop posts visits of site shop from stallVisitors visitors until
// stop is closed, and returns every latency or the first failure.
func visitLoop(url string, body []byte, stop <-chan struct{}) ([]time.Duration, error) {
	client := &fasthttp.Client{ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	for v := 0; v < stallVisitors; v++ {
		wg.Add(1)
		go func(v int) {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			var mine []time.Duration
			for i := 0; ; i++ {
				select {
				case <-stop:
					mu.Lock()
					lat = append(lat, mine...)
					mu.Unlock()
					return
				default:
				}
				took, err := timedVisit(client, req, resp, url, "http://other.test", loadIPs[(v+i)%len(loadIPs)], body)
				mine = append(mine, took)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					<-stop
					return
				}
			}
		}(v)
	}
	<-stop
	wg.Wait()
	if firstErr != nil {
		return nil, fmt.Errorf("visits during the stall benchmark: %w", firstErr)
	}
	return lat, nil
}

// loopResult is what one visitLoop measured.
type loopResult struct {
	lat []time.Duration
	err error
}

func percentile(lat []time.Duration, q float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// BenchmarkVisitsDuringCostUpload measures how much a cost upload of the
// largest body (4 MiB, about 118,000 rows over 57 days) for one site delays
// another site's visits: each iteration posts the upload while visitors of
// the other site post visits one after another, then lets them post for as
// long again with no upload. It reports p50 and p99 of both phases, the
// ratio of the p99s (upload / idle) and the upload's duration. A cost upload
// goes in bounded batches, so the ratio stays near 1 where one long script
// would hold every visit for seconds.
//
//	go test ./collector -run '^$' -bench VisitsDuringCostUpload -benchtime 3x
func BenchmarkVisitsDuringCostUpload(b *testing.B) {
	w := newTestWorld(b, "trusted_proxies: [127.0.0.1]\nrate_limit_per_minute: -1\n"+testConfigYAML)
	base := serveBench(b, w.srv.App())
	visitBody, err := json.Marshal(map[string]string{"site": "shop", "url": "http://other.test/", "lang": "en-GB"})
	if err != nil {
		b.Fatal(err)
	}
	upload := bigCostUpload(b)
	b.Logf("upload: %d bytes, %d rows", len(upload), strings.Count(string(upload), "\n")-1)
	client := &fasthttp.Client{ReadTimeout: 5 * time.Minute, WriteTimeout: time.Minute, MaxResponseBodySize: 1 << 20}
	var during, idle []time.Duration
	var uploading time.Duration
	b.ResetTimer()
	for range b.N {
		stop := make(chan struct{})
		got := make(chan loopResult)
		loop := func(stop <-chan struct{}) {
			lat, err := visitLoop(base+"/v1/visits", visitBody, stop)
			got <- loopResult{lat, err}
		}
		go loop(stop)
		time.Sleep(50 * time.Millisecond) // visits flow before the upload starts
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI(base + "/v1/sites/demo/costs")
		req.Header.SetMethod("POST")
		req.Header.SetContentType("text/csv")
		req.Header.Set("Authorization", demoAuth)
		req.SetBody(upload)
		t0 := time.Now()
		err := client.Do(req, resp)
		took := time.Since(t0)
		status, respBody := resp.StatusCode(), string(resp.Body())
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
		close(stop)
		r := <-got
		if r.err != nil {
			b.Fatal(r.err)
		}
		during = append(during, r.lat...)
		if err != nil || status != 200 {
			b.Fatalf("upload: %v, status %d: %s", err, status, respBody)
		}
		uploading += took
		stop = make(chan struct{})
		go loop(stop)
		time.Sleep(took + 50*time.Millisecond)
		close(stop)
		if r = <-got; r.err != nil {
			b.Fatal(r.err)
		}
		idle = append(idle, r.lat...)
	}
	b.StopTimer()
	dp99, ip99 := percentile(during, 0.99), percentile(idle, 0.99)
	b.ReportMetric(float64(percentile(during, 0.5).Microseconds()), "upload-p50-µs")
	b.ReportMetric(float64(dp99.Microseconds()), "upload-p99-µs")
	b.ReportMetric(float64(percentile(idle, 0.5).Microseconds()), "idle-p50-µs")
	b.ReportMetric(float64(ip99.Microseconds()), "idle-p99-µs")
	b.ReportMetric(float64(dp99)/float64(ip99), "p99-ratio")
	b.ReportMetric(float64(percentile(during, 1).Microseconds()), "upload-max-µs")
	b.ReportMetric(uploading.Seconds()/float64(b.N), "upload-s")
}
