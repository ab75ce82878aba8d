package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

// formatWorld is a config file naming an empty Redis.
type formatWorld struct {
	cfg string
	rdb redis.UniversalClient
	url string
}

// newFormatWorld names a private server, or the cluster on the cluster pass.
func newFormatWorld(t *testing.T) *formatWorld {
	t.Helper()
	redisURL, rdb := redistest.NewURL(t)
	return formatWorldOn(t, redisURL, rdb)
}

// newServerFormatWorld names a private server on both passes, for tests
// that change its eviction settings: on a shared cluster they would outlive
// the test.
func newServerFormatWorld(t *testing.T) *formatWorld {
	t.Helper()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	return formatWorldOn(t, srv.URL(rdb.Options().DB), rdb)
}

func formatWorldOn(t *testing.T, redisURL string, rdb redis.UniversalClient) *formatWorld {
	t.Helper()
	path := filepath.Join(t.TempDir(), "messtrack.yaml")
	cfg := "sites:\n  demo:\n    api_key: demo-key-123\n    conversion_event: purchase\n    timezone: UTC\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return &formatWorld{cfg: path, rdb: rdb, url: redisURL}
}

// serve starts `messtrack serve` and waits for /healthz; stop ends it and
// returns its output. A start that fails returns at once with its error.
func (w *formatWorld) serve(t *testing.T) (out *syncBuffer, stop func(), err error) {
	t.Helper()
	return w.serveEnv(t, map[string]string{"MESSTRACK_ADDR": freeAddr(t), "REDIS_URL": w.url})
}

// freeAddr is a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveEnv is serve with these environment variables; without
// MESSTRACK_ADDR it listens where the config says.
func (w *formatWorld) serveEnv(t *testing.T, env map[string]string) (out *syncBuffer, stop func(), err error) {
	t.Helper()
	addr := env["MESSTRACK_ADDR"]
	if addr == "" {
		cfg, err := os.ReadFile(w.cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, rest, _ := strings.Cut(string(cfg), "listen: ")
		addr, _, _ = strings.Cut(rest, "\n")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	out = &syncBuffer{}
	go func() {
		done <- run(ctx, []string{"serve", "--config", w.cfg}, out, out, func(k string) string { return env[k] })
	}()
	for i := 0; ; i++ {
		select {
		case err := <-done:
			cancel()
			return out, func() {}, err
		default:
		}
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if i == 400 {
			cancel()
			t.Fatalf("serve never answered: %v; output: %s", err, out.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
	return out, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}, nil
}

// writeLegacy writes what the previous data format left: n chats whose
// report state is a JSON array of sessions, each converted, and the
// aggregates they added.
func (w *formatWorld) writeLegacy(t *testing.T, n int) {
	t.Helper()
	ctx := context.Background()
	day := time.Now().UTC().AddDate(0, 0, -3).Truncate(24 * time.Hour).Add(10 * time.Hour)
	d := day.Format("2006-01-02")
	b := 3
	if day.Day() <= 10 {
		b = 1
	} else if day.Day() <= 20 {
		b = 2
	}
	periods := []string{d, fmt.Sprintf("%s-b%d", d[:7], b), d[:7]}
	g := map[string]string{"ch": "messenger_ad\x1ffacebook", "pg": "(no page)", "ld": "(no page)", "dl": "new", "ad": "ad-1"}
	pipe := w.rdb.Pipeline()
	for i := range n {
		at := day.Add(time.Duration(i) * time.Second)
		sess := []map[string]any{{"i": i + 1, "s": at.UnixMilli(), "d": d, "m": "referral", "g": g,
			"x": at.Add(time.Hour).UnixMilli(), "k": "purchase", "v": 1000, "e": fmt.Sprintf("crm-%d", i)}}
		raw, _ := json.Marshal(sess)
		pipe.Set(ctx, store.ReportChat("demo", fmt.Sprintf("whatsapp:%d", 15550000000+i)), raw, 100*24*time.Hour)
		for _, p := range periods {
			for dim, m := range g {
				key := store.ReportAgg("demo", dim, p)
				pipe.HIncrBy(ctx, key, "cv:"+m, 1)
				pipe.HIncrBy(ctx, key, "k:purchase:"+m, 1)
				pipe.HIncrBy(ctx, key, "rv:"+m, 1000)
			}
		}
	}
	pipe.Set(ctx, store.ReportSessionSeq("demo"), n, 0)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
}

func (w *formatWorld) report(t *testing.T) string {
	t.Helper()
	out, errOut := &syncBuffer{}, &syncBuffer{}
	err := run(context.Background(), []string{"report", "--config", w.cfg, "--site", "demo", "ads", "--format", "json"},
		out, errOut, func(k string) string { return map[string]string{"REDIS_URL": w.url}[k] })
	if err != nil {
		t.Fatalf("report: %v %s", err, errOut.String())
	}
	return out.String()
}

// TestServeUpgradesThePreviousFormat starts today's collector on a Redis
// written by the previous data format: it upgrades every chat's report
// state in batches with a progress line, writes today's format, and the
// reports say exactly what they said before.
func TestServeUpgradesThePreviousFormat(t *testing.T) {
	w := newFormatWorld(t)
	w.writeLegacy(t, 450)
	before := w.report(t)
	if !strings.Contains(before, `"conversations": 450`) {
		t.Fatalf("the previous format's report: %s", before)
	}
	out, stop, err := w.serve(t)
	if err != nil {
		t.Fatalf("serve: %v\n%s", err, out.String())
	}
	stop()
	for _, want := range []string{"format 1 -> 2: chats' report state: ", "format 1 -> 2: chats' report state: 450\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("serve's output lacks %q:\n%s", want, out.String())
		}
	}
	if lines := strings.Count(out.String(), "format 1 -> 2"); lines < 2 {
		t.Errorf("%d progress lines for 450 chats in batches of 200, want several", lines)
	}
	ctx := context.Background()
	if v, _ := w.rdb.Get(ctx, store.Format()).Int(); v != store.FormatVersion {
		t.Errorf("format after the start: %d", v)
	}
	keys, _ := w.rdb.Keys(ctx, store.ReportChatPattern("demo")).Result()
	for _, k := range keys {
		raw, _ := w.rdb.Get(ctx, k).Result()
		ttl, _ := w.rdb.TTL(ctx, k).Result()
		if !strings.HasPrefix(raw, `{`) || !strings.Contains(raw, `"v":2`) || ttl < 90*24*time.Hour {
			t.Fatalf("%s after the upgrade: %s (TTL %v)", k, raw, ttl)
		}
	}
	if len(keys) != 450 {
		t.Errorf("%d chat states, want 450", len(keys))
	}
	if after := w.report(t); after != before {
		t.Errorf("the report moved with the upgrade:\nbefore %s\nafter  %s", before, after)
	}
	// A second start finds today's format and has nothing to do.
	out, stop, err = w.serve(t)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if strings.Contains(out.String(), "format 1") {
		t.Errorf("a second start upgraded again:\n%s", out.String())
	}
}

// TestServeRefusesNewerFormatAndEvictingRedis: an older binary never reads
// a newer format, and no collector starts on a Redis that deletes keys when
// full; both say what to do.
func TestServeRefusesNewerFormatAndEvictingRedis(t *testing.T) {
	w := newServerFormatWorld(t)
	ctx := context.Background()
	w.rdb.Set(ctx, store.Format(), store.FormatVersion+1, 0)
	out, _, err := w.serve(t)
	if !errors.Is(err, store.ErrNewerFormat) || !strings.Contains(err.Error(), "run the newer messtrack") {
		t.Fatalf("serve on a newer format: %v\n%s", err, out.String())
	}
	errOut := &syncBuffer{}
	err = run(ctx, []string{"report", "--config", w.cfg, "--site", "demo", "ads"}, errOut, errOut,
		func(k string) string { return map[string]string{"REDIS_URL": w.url}[k] })
	if !errors.Is(err, store.ErrNewerFormat) {
		t.Fatalf("report on a newer format: %v", err)
	}

	w.rdb.Set(ctx, store.Format(), store.FormatVersion, 0)
	w.rdb.ConfigSet(ctx, "maxmemory", "200mb")
	w.rdb.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru")
	out, _, err = w.serve(t)
	if !errors.Is(err, store.ErrEvicting) || !strings.Contains(err.Error(), "maxmemory-policy noeviction") {
		t.Fatalf("serve on allkeys-lru: %v\n%s", err, out.String())
	}
	w.rdb.ConfigSet(ctx, "maxmemory-policy", "noeviction")
	out, stop, err := w.serve(t)
	if err != nil {
		t.Fatalf("serve on noeviction: %v\n%s", err, out.String())
	}
	stop()
}
