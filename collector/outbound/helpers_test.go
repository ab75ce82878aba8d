package outbound

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

const testSecret = "a-receivers-secret-0123456789"

// received is one request a receiver took.
type received struct {
	ID     string
	Header http.Header
	Body   []byte
	Env    envelope
}

// receiver is a CRM's webhook endpoint: it checks every request as a
// careful receiver would (method, content type, a fresh signature over the
// exact body) and answers by its plan.
type receiver struct {
	t     *testing.T
	srv   *httptest.Server
	clock store.Clock
	mu    sync.Mutex
	// all are every request, ok the ones answered 2xx.
	all, ok []received
	// answer decides the status of the n-th request (from 1) for an event
	// ID; nil answers 200.
	answer func(n int, r received) int
	seen   map[string]int
}

func newReceiver(t *testing.T, clock store.Clock) *receiver {
	rc := &receiver{t: t, clock: clock, seen: map[string]int{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read", 400)
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		rc.t.Errorf("receiver: %s with content type %q", r.Method, r.Header.Get("Content-Type"))
	}
	if err := verify(testSecret, r.Header.Get(HeaderSignature), body, rc.clock.Now(), 5*time.Minute); err != nil {
		rc.t.Errorf("receiver: signature: %v", err)
		http.Error(w, "bad signature", 401)
		return
	}
	got := received{ID: r.Header.Get(HeaderID), Header: r.Header.Clone(), Body: body}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got.Env); err != nil {
		rc.t.Errorf("receiver: envelope: %v in %s", err, body)
	}
	if got.ID == "" || got.ID != got.Env.ID {
		rc.t.Errorf("receiver: idempotency key %q, envelope id %q", got.ID, got.Env.ID)
	}
	rc.mu.Lock()
	rc.seen[got.ID]++
	n := rc.seen[got.ID]
	rc.all = append(rc.all, got)
	answer := rc.answer
	rc.mu.Unlock()
	status := 200
	if answer != nil {
		status = answer(n, got)
	}
	if status/100 == 2 {
		rc.mu.Lock()
		rc.ok = append(rc.ok, got)
		rc.mu.Unlock()
	}
	w.WriteHeader(status)
}

func (rc *receiver) accepted() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.ok...)
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.all...)
}

// verify is the check the README shows receivers, in Go.
func verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return fmt.Errorf("malformed header %q", header)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("timestamp %d is %v away", sec, d)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want, _ := hex.DecodeString(sig)
	if !hmac.Equal(mac.Sum(nil), want) {
		return fmt.Errorf("signature mismatch")
	}
	return nil
}

// world is one site sending to receivers, on a real Redis.
type world struct {
	t       *testing.T
	rdb     redis.UniversalClient
	cfg     *config.Config
	clock   *store.ManualClock
	reports *reports.Store
	facts   *Facts
	admin   *Admin
}

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// newWorld builds the demo site with webhooks at urls (each taking every
// event type unless events lists some).
func newWorld(t *testing.T, rdb redis.UniversalClient, hooks string) *world {
	t.Helper()
	yaml := fmt.Sprintf(`
sites:
  demo:
    api_key: demo-key
    whatsapp: [{number: "15551234567"}]
    conversion_event: purchase
    currency: EUR
    webhooks:
%s`, hooks)
	cfg, err := config.Parse("test.yaml", []byte(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := store.NewManualClock(t0)
	rs := reports.New(rdb, clock, cfg)
	if err := rs.ApplyConfiguredConversionEvents(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &world{t: t, rdb: rdb, cfg: cfg, clock: clock, reports: rs,
		facts: NewFacts(NewEnqueuer(rdb, cfg)), admin: NewAdmin(rdb, cfg, clock)}
}

func hook(url string, events ...string) string {
	s := fmt.Sprintf("      - url: %s\n        secret: %s\n", url, testSecret)
	if len(events) > 0 {
		s += "        events: [" + strings.Join(events, ", ") + "]\n"
	}
	return s
}

func (w *world) dispatcher(name string, opt Options) *Dispatcher {
	w.t.Helper()
	opt.Redis, opt.Config, opt.Clock, opt.Name, opt.Sessions = w.rdb, w.cfg, w.clock, name, w.reports.ChatSessions
	if opt.Backoff.Rand == nil {
		opt.Backoff.Rand = func() float64 { return 0.5 }
	}
	d, err := New(opt)
	if err != nil {
		w.t.Fatal(err)
	}
	return d
}

// conversation hands a conversation fact over as the ledger does.
func (w *world) conversation(chat string, at time.Time, method string) {
	w.t.Helper()
	c := reports.Conversation{Site: "demo", Chat: chat, Time: at, Messenger: "whatsapp", Method: method, Confidence: 1,
		Channel: "paid_social", AdID: "120200000000000001", AdTitle: "Spring sale", AdType: "ad", ClickID: "ctwa-clid-A"}
	if method == reports.MethodNone {
		c.Channel, c.AdID, c.AdTitle, c.AdType, c.ClickID, c.Confidence = "", "", "", "", "", 0
	}
	if err := w.facts.Sink(w.reports.RecordConversation)(context.Background(), c); err != nil {
		w.t.Fatal(err)
	}
}

// event records a business event and hands it over as the events API does.
func (w *world) event(chat, category string, at time.Time, value float64) reports.EventResult {
	w.t.Helper()
	e := reports.Event{Site: "demo", Chat: chat, Category: category, Time: at, Value: value}
	res, err := w.reports.RecordEvent(context.Background(), e)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.facts.OnEvent(context.Background(), e, res); err != nil {
		w.t.Fatal(err)
	}
	return res
}

// drain steps d until nothing is due at the clock's time.
func drain(t *testing.T, d *Dispatcher) int {
	t.Helper()
	total := 0
	for range 100 {
		n, err := d.Step(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
	t.Fatal("the queue did not drain in 100 steps")
	return 0
}

func types(rs []received) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Env.Type
	}
	return out
}

// redisXRead reads a stream as a collector would, without routing.
type redisXRead struct{ group, consumer, stream string }

func (r redisXRead) args() *redis.XReadGroupArgs {
	return &redis.XReadGroupArgs{Group: r.group, Consumer: r.consumer, Streams: []string{r.stream, ">"}, Count: 100, Block: -1}
}

// metricValue reads a counter's value, or a histogram's count, for the
// demo site and target from reg.
func metricValue(t *testing.T, reg *prometheus.Registry, name, target string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["site"] != "demo" || labels["target"] != target {
				continue
			}
			if h := m.GetHistogram(); h != nil {
				return float64(h.GetSampleCount())
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}
