package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

// slowCommand is the longest a single Redis command may run while a cost
// upload is under way. A command that runs longer holds every other
// client of the server (Redis runs one command at a time) for as long.
// It is the 50 ms a visit may wait at most; a batch of the upload takes
// about 1 ms, and on a busy shared machine the scheduler alone has stretched
// one past 20 ms.
const slowCommand = 50 * time.Millisecond

// A cost upload of the largest body (4 MiB, about 118,000 rows over 57
// days) while another site's visits flow never holds Redis: Redis' own slow
// log, set to log any command over slowCommand on a private server, logs
// nothing. Redis measures a command's execution alone, without network or
// scheduling of the clients, so the check holds on a busy machine where
// wall-clock latencies would not. The upload is stored whole and every visit
// is answered.
func TestCostUploadNeverHoldsRedis(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	cfg, err := config.Parse("test.yaml", []byte("trusted_proxies: [127.0.0.1]\nrate_limit_per_minute: -1\n"+testConfigYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	col, err := New(context.Background(), Options{
		Config: cfg, Redis: rdb, Clock: store.NewManualClock(testStart),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { col.Close() })
	w := &testWorld{srv: col, rdb: rdb, cfg: cfg}
	base := w.listen(t)

	ctx := context.Background()
	for _, kv := range [][2]string{
		{"slowlog-log-slower-than", fmt.Sprint(slowCommand.Microseconds())},
		{"slowlog-max-len", "1024"},
	} {
		if err := rdb.ConfigSet(ctx, kv[0], kv[1]).Err(); err != nil {
			t.Fatalf("CONFIG SET %s: %v", kv[0], err)
		}
	}
	if err := rdb.Do(ctx, "SLOWLOG", "RESET").Err(); err != nil {
		t.Fatalf("SLOWLOG RESET: %v", err)
	}

	upload := bigCostUpload(t)
	rows := strings.Count(string(upload), "\n") - 1
	visitBody, err := json.Marshal(map[string]string{"site": "shop", "url": "http://other.test/", "lang": "en-GB"})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	got := make(chan loopResult, 1)
	go func() {
		lat, err := visitLoop(base+"/v1/visits", visitBody, stop)
		got <- loopResult{lat, err}
	}()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(base + "/v1/sites/demo/costs")
	req.Header.SetMethod("POST")
	req.Header.SetContentType("text/csv")
	req.Header.Set("Authorization", demoAuth)
	req.SetBody(upload)
	client := &fasthttp.Client{ReadTimeout: 5 * time.Minute, WriteTimeout: time.Minute}
	upErr := client.Do(req, resp)
	close(stop)
	r := <-got
	if upErr != nil || resp.StatusCode() != 200 {
		t.Fatalf("upload of %d rows: %v, status %d: %s", rows, upErr, resp.StatusCode(), resp.Body())
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	if len(r.lat) == 0 {
		t.Fatal("no visit was answered while the upload ran")
	}

	entries, err := rdb.SlowLogGet(ctx, 1024).Result()
	if err != nil {
		t.Fatalf("SLOWLOG GET: %v", err)
	}
	for _, e := range entries {
		args := e.Args
		if len(args) > 4 {
			args = append(args[:4:4], fmt.Sprintf("… %d more", len(e.Args)-4))
		}
		t.Errorf("Redis ran a command for %v (over %v) during the upload: %q", e.Duration, slowCommand, args)
	}

	// The upload is stored whole: every one of its days has a current
	// version.
	days := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(upload)), "\n")[1:] {
		days[line[:10]] = true
	}
	versions, err := rdb.HGetAll(ctx, store.ReportCostVersions("demo")).Result()
	if err != nil {
		t.Fatal(err)
	}
	for day := range days {
		if versions[day] == "" {
			t.Errorf("day %s of the upload has no current cost version", day)
		}
	}
	t.Logf("%d rows over %d days stored, %d visits answered meanwhile, no command over %v", rows, len(days), len(r.lat), slowCommand)
}
