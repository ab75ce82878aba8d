package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

// TestDeliveriesListAndReplayADeadLetter runs the deliveries commands on a
// webhook that failed for more than a day and then came back.
func TestDeliveriesListAndReplayADeadLetter(t *testing.T) {
	var up atomic.Bool
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(crm.Close)
	redisURL, rdb := redistest.NewURL(t)
	dir := t.TempDir()
	cfgText := `sites:
  demo:
    api_key: demo-key-123
    whatsapp: [{number: "15551234567"}]
    webhooks:
      - url: ` + crm.URL + `
        secret: a-crm-secret-0123456789
        events: [conversation.started]
`
	path := filepath.Join(dir, "messtrack.yaml")
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"REDIS_URL": redisURL}
	cfg, err := config.Load(path, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	clock := store.NewManualClock(time.Now().Add(-time.Hour))
	col, err := collector.New(context.Background(), collector.Options{Config: cfg, Redis: rdb, Clock: clock,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { col.Close() })
	msg := `{"channel":"whatsapp","from":"15550102030","to":"15551234567","text":"hello","time":"` + clock.Now().Format(time.RFC3339) + `"}`
	req := httptest.NewRequest("POST", "/v1/sites/demo/messages", strings.NewReader(msg))
	req.Header.Set("Authorization", "Bearer demo-key-123")
	req.Header.Set("Content-Type", "application/json")
	if resp, err := col.App().Test(req, 10_000); err != nil || resp.StatusCode != 200 {
		t.Fatalf("message: %v %v", resp, err)
	}
	for range 40 {
		if _, err := col.Deliveries().Step(context.Background()); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Hour)
	}
	cli := func(args ...string) string {
		var out, errOut bytes.Buffer
		args = append(args, "--config", path)
		if err := run(context.Background(), args, &out, &errOut, func(k string) string { return env[k] }); err != nil {
			t.Fatalf("messtrack %v: %v\n%s", args, err, errOut.String())
		}
		return out.String()
	}
	table := cli("deliveries", "list", "--site", "demo", "--state", "dead")
	if !strings.Contains(table, "conversation.started") || !strings.Contains(table, "503") || strings.Count(table, "\n") != 2 {
		t.Fatalf("dead letters:\n%s", table)
	}
	if out := cli("deliveries", "replay", "--site", "demo", "--dead"); out != "1 dead deliveries queued again\n" {
		t.Fatalf("replay: %q", out)
	}
	up.Store(true)
	if _, err := col.Deliveries().Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	var d struct {
		State    string `json:"state"`
		Attempts int    `json:"attempts"`
		Chat     string `json:"chat"`
	}
	line := cli("deliveries", "list", "--site", "demo", "--json")
	if err := json.Unmarshal([]byte(line), &d); err != nil || d.State != "delivered" || d.Attempts != 1 || d.Chat != "whatsapp:15550102030" {
		t.Fatalf("after replay: %s (%v)", line, err)
	}
	var errOut bytes.Buffer
	if err := run(context.Background(), []string{"deliveries", "replay", "--site", "demo", "--id", "nothing.webhook-1", "--config", path},
		io.Discard, &errOut, func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "no such delivery") {
		t.Errorf("replaying an unknown delivery: %v", err)
	}
	if err := run(context.Background(), []string{"deliveries", "list", "--site", "demo", "--state", "lost", "--config", path},
		io.Discard, &errOut, func(k string) string { return env[k] }); err == nil {
		t.Error("an unknown state was taken")
	}
}
