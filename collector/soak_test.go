package collector

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/messtrack/messtrack/collector/intake"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

// The soak's settings, read from the environment so that `make soak` runs
// the long version and `go test` a short one.
const (
	soakDurationEnv = "SOAK_DURATION" // how long the load runs (default 20s)
	soakRateEnv     = "SOAK_RATE"     // visits per second (default 40)
	soakEveryEnv    = "SOAK_EVERY"    // time between samples (default a tenth of the duration)
	// soakGrowth is how much the last third of the run may sit above the
	// middle third, for the collector's RSS peak and for Redis memory per
	// stored visit, before the soak calls it growth.
	soakGrowth = 0.10
)

// soakSample is one row of the soak's table.
type soakSample struct {
	at            time.Duration
	rss, heap     uint64 // the test process's resident set and Go heap in use, bytes
	redis         int64  // Redis used_memory, bytes
	visits, chats int64
}

// soakLoad is the soak's traffic: per visit one POST /v1/visits; every
// second visit clicks the WhatsApp button; every fourth writes a first
// message with its code in a signed WhatsApp webhook; as often again an
// earlier chat writes a later message.
type soakLoad struct {
	base   string
	client *fasthttp.Client
	run    string // tells this run's phone numbers and message IDs apart

	visits, clicks, firsts, laters, failures atomic.Int64
	firstErr                                 atomic.Pointer[error]

	mu     sync.Mutex
	phones []string // chats opened so far, for later messages
}

func (l *soakLoad) fail(err error) {
	l.failures.Add(1)
	l.firstErr.CompareAndSwap(nil, &err)
}

func (l *soakLoad) post(path string, body []byte, want int, headers ...string) ([]byte, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(l.base + path)
	req.Header.SetMethod("POST")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	req.SetBody(body)
	if err := l.client.Do(req, resp); err != nil {
		return nil, fmt.Errorf("POST %s: %w", path, err)
	}
	if resp.StatusCode() != want {
		return nil, fmt.Errorf("POST %s: status %d, want %d: %s", path, resp.StatusCode(), want, resp.Body())
	}
	return append([]byte(nil), resp.Body()...), nil
}

// step sends the requests of visit number i.
func (l *soakLoad) step(i int64) {
	landing := fmt.Sprintf("https://shop.test/p%d?utm_source=facebook&utm_medium=cpc&utm_content=ad%d", i%20, i%50)
	body, _ := json.Marshal(map[string]string{"site": "demo", "url": landing, "landing": landing, "lang": "en-GB", "screen": "1920x1080"})
	b, err := l.post("/v1/visits", body, 200, "Origin", testOrigin, "Content-Type", "text/plain",
		"User-Agent", uaChromeWindows, "X-Forwarded-For", loadIPs[i%int64(len(loadIPs))])
	if err != nil {
		l.fail(err)
		return
	}
	var v intake.VisitResponse
	if err := json.Unmarshal(b, &v); err != nil {
		l.fail(fmt.Errorf("visit answer %s: %w", b, err))
		return
	}
	l.visits.Add(1)
	if i%2 == 0 {
		click, _ := json.Marshal(map[string]string{"site": "demo", "visit": v.Visit, "target": "whatsapp:15551234567", "page": landing})
		if _, err := l.post("/v1/clicks", click, 204, "Origin", testOrigin); err != nil {
			l.fail(err)
			return
		}
		l.clicks.Add(1)
	}
	switch i % 4 {
	case 0: // a first message with the visit's code
		phone := fmt.Sprintf("1557%s%06d", l.run, i/4)
		if l.whatsapp(phone, fmt.Sprintf("wamid.soak-%s-%d", l.run, i), "Hello! My request code: "+v.Code) {
			l.firsts.Add(1)
			l.mu.Lock()
			l.phones = append(l.phones, phone)
			l.mu.Unlock()
		}
	case 2: // a later message in an earlier chat
		l.mu.Lock()
		var phone string
		if n := len(l.phones); n > 0 {
			phone = l.phones[int(i/4)%n]
		}
		l.mu.Unlock()
		if phone != "" && l.whatsapp(phone, fmt.Sprintf("wamid.soak-%s-%d", l.run, i), "Is it still available in red?") {
			l.laters.Add(1)
		}
	}
}

func (l *soakLoad) whatsapp(phone, id, text string) bool {
	hook := whatsappTextPayloadTB(phone, id, time.Now(), text)
	if _, err := l.post("/hooks/whatsapp/demo", hook, 200, "X-Hub-Signature-256", hubSignature("test_app_secret", hook),
		"Content-Type", "application/json"); err != nil {
		l.fail(err)
		return false
	}
	return true
}

// whatsappTextPayloadTB is a text message from phone to the demo site's
// number, in the shape WhatsApp's webhook delivers.
func whatsappTextPayloadTB(phone, id string, at time.Time, text string) []byte {
	return []byte(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{` +
		`"messaging_product":"whatsapp","metadata":{"display_phone_number":"15551234567","phone_number_id":"106540352242922"},` +
		`"contacts":[{"profile":{"name":"Visitor ` + phone[len(phone)-4:] + `"},"wa_id":"` + phone + `"}],` +
		`"messages":[{"from":"` + phone + `","id":"` + id + `","timestamp":"` + strconv.FormatInt(at.Unix(), 10) + `",` +
		`"type":"text","text":{"body":` + jsonASCII(text) + `}}]},"field":"messages"}]}]}`)
}

// soakSettings reads the soak's settings from the environment.
func soakSettings(t *testing.T) (dur time.Duration, rate int, every time.Duration) {
	t.Helper()
	dur, rate = 20*time.Second, 40
	if s := os.Getenv(soakDurationEnv); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 3*time.Second {
			t.Fatalf("%s=%q: want a duration of at least 3s, such as 10m", soakDurationEnv, s)
		}
		dur = d
	}
	if s := os.Getenv(soakRateEnv); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 5000 {
			t.Fatalf("%s=%q: want visits per second, 1 to 5000", soakRateEnv, s)
		}
		rate = n
	}
	every = dur / 10
	if s := os.Getenv(soakEveryEnv); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 100*time.Millisecond || d > dur/3 {
			t.Fatalf("%s=%q: want a duration of at least 100ms and at most a third of %s", soakEveryEnv, s, dur)
		}
		every = d
	}
	return dur, rate, every
}

// selfRSS is the resident set of this process, from /proc/self/status.
func selfRSS() (uint64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("read RSS: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("read RSS %q: %w", rest, err)
			}
			return kb * 1024, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read RSS: %w", err)
	}
	return 0, fmt.Errorf("read RSS: no VmRSS line in /proc/self/status")
}

// TestSoak runs a collector on a private redis-server under a steady load of
// visits, clicks, first and later WhatsApp messages for SOAK_DURATION (20 s
// here; `make soak` runs ten minutes) at SOAK_RATE visits a second, samples
// memory every SOAK_EVERY and prints a table: time, the process's RSS (the
// in-process collector plus the load generator, which keeps nothing but the
// list of opened chats), Go heap in use, Redis used_memory, visits stored.
//
// "Flat after warm-up": the first third of the run is warm-up; the last
// third's peak RSS must be within 10 % of the middle third's peak, and so
// must its mean Redis memory per stored visit (Redis memory above what it
// held before the load, divided by the visits so far): Redis grows with
// stored visits and chats by design, and at a steady rate per visit it must
// not grow faster.
func TestSoak(t *testing.T) {
	dur, rate, every := soakSettings(t)
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	cfg, err := config.Parse("test.yaml", []byte("trusted_proxies: [127.0.0.1]\nrate_limit_per_minute: -1\n"+testConfigYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	col, err := New(context.Background(), Options{
		Config: cfg, Redis: rdb, Clock: store.SystemClock{},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { col.Close() })
	w := &testWorld{srv: col, rdb: rdb, cfg: cfg}
	load := &soakLoad{
		base:   w.listen(t),
		client: &fasthttp.Client{MaxConnsPerHost: 16, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second},
		run:    strconv.FormatInt(time.Now().UnixNano()%90+10, 10),
	}
	ctx := context.Background()
	redisMem := func() (int64, error) {
		info, err := rdb.Info(ctx, "memory").Result()
		if err != nil {
			return 0, fmt.Errorf("INFO memory: %w", err)
		}
		for _, line := range strings.Split(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
				return strconv.ParseInt(v, 10, 64)
			}
		}
		return 0, fmt.Errorf("INFO memory has no used_memory")
	}
	redis0, err := redisMem()
	if err != nil {
		t.Fatal(err)
	}

	// The pacer hands out visit numbers at the rate; workers send them.
	ticks := make(chan int64, 5*rate) // five seconds of backlog absorb a stall of the machine
	var missed atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ticks {
				load.step(i)
			}
		}()
	}
	start := time.Now()
	var samples []soakSample
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		rss, err := selfRSS()
		if err != nil {
			t.Fatal(err)
		}
		mem, err := redisMem()
		if err != nil {
			t.Fatal(err)
		}
		s := soakSample{at: time.Since(start).Round(time.Second), rss: rss, heap: ms.HeapInuse, redis: mem,
			visits: load.visits.Load(), chats: load.firsts.Load()}
		samples = append(samples, s)
		t.Logf("%8s  %7.1f MiB  %7.1f MiB  %8.1f MiB  %9d  %7d", s.at, mib(s.rss), mib(s.heap), mib(uint64(s.redis)), s.visits, s.chats)
	}
	t.Logf("soak: %s at %d visits/s, a sample every %s", dur, rate, every)
	t.Logf("%8s  %11s  %11s  %12s  %9s  %7s", "time", "RSS", "Go heap", "Redis mem", "visits", "chats")
	pace := time.NewTicker(time.Second / time.Duration(rate))
	probe := time.NewTicker(every)
	end := time.After(dur)
	var n int64
loop:
	for {
		select {
		case <-pace.C:
			select {
			case ticks <- n:
				n++
			default:
				missed.Add(1)
			}
		case <-probe.C:
			sample()
		case <-end:
			break loop
		}
	}
	pace.Stop()
	probe.Stop()
	close(ticks)
	wg.Wait()
	if len(samples) == 0 || time.Since(start)-samples[len(samples)-1].at > time.Second {
		sample() // the end, unless the last tick just sampled it
	}
	if load.failures.Load() > 0 {
		t.Fatalf("%d requests failed; the first: %v", load.failures.Load(), *load.firstErr.Load())
	}
	t.Logf("sent: %d visits, %d clicks, %d first messages, %d later messages; %d ticks missed (the collector fell behind the rate)",
		load.visits.Load(), load.clicks.Load(), load.firsts.Load(), load.laters.Load(), missed.Load())
	if missed.Load() > n/100 {
		t.Errorf("%d of %d ticks missed: the machine could not keep %d visits/s; lower %s", missed.Load(), n, rate, soakRateEnv)
	}

	third := len(samples) / 3
	if third < 1 {
		t.Fatalf("%d samples: too few to judge; sample more often (%s)", len(samples), soakEveryEnv)
	}
	middle, last := samples[third:len(samples)-third], samples[len(samples)-third:]
	peak := func(ss []soakSample) uint64 {
		var m uint64
		for _, s := range ss {
			m = max(m, s.rss)
		}
		return m
	}
	perVisit := func(ss []soakSample) float64 {
		var sum float64
		for _, s := range ss {
			sum += float64(s.redis-redis0) / float64(max(s.visits, 1))
		}
		return sum / float64(len(ss))
	}
	pm, pl := peak(middle), peak(last)
	vm, vl := perVisit(middle), perVisit(last)
	t.Logf("flat after warm-up? peak RSS middle third %.1f MiB, last third %.1f MiB (%+.1f %%); Redis per stored visit middle %.0f B, last %.0f B (%+.1f %%); limit +%.0f %%",
		mib(pm), mib(pl), 100*(float64(pl)/float64(pm)-1), vm, vl, 100*(vl/vm-1), 100*soakGrowth)
	if float64(pl) > float64(pm)*(1+soakGrowth) {
		t.Errorf("RSS grew after warm-up: peak %.1f MiB in the last third against %.1f MiB in the middle third", mib(pl), mib(pm))
	}
	if vl > vm*(1+soakGrowth) {
		t.Errorf("Redis memory per stored visit grew after warm-up: %.0f B in the last third against %.0f B in the middle third", vl, vm)
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
