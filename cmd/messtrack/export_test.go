package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

// TestExportMetricaWritesTheUploadCSV exports a web chat whose visit had a
// Metrica ClientID, and its purchase, as Metrica's CSV.
func TestExportMetricaWritesTheUploadCSV(t *testing.T) {
	redisURL, rdb := redistest.NewURL(t)
	dir := t.TempDir()
	cfgText := `sites:
  demo:
    api_key: demo-key-123
    origins: [http://shop.test]
    whatsapp: [{number: "15551234567"}]
    conversion_event: purchase
    currency: RUB
    timezone: Europe/Moscow
    metrica: {counter_id: "44147844", token: y0-token, goal_chat: chat, goal_conversion: purchase, base_url: "http://127.0.0.1:9"}
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
	start := time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC)
	clock := store.NewManualClock(start)
	col, err := collector.New(context.Background(), collector.Options{Config: cfg, Redis: rdb, Clock: clock,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { col.Close() })
	post := func(path, body string, headers ...string) []byte {
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := col.App().Test(req, 10_000)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		return b
	}
	var v struct{ Text string }
	_ = json.Unmarshal(post("/v1/visits", `["demo","http://shop.test/?yclid=5397283049721397","",1,1,180,null,null,"1700000000123456789"]`,
		"Origin", "http://shop.test", "User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"), &v)
	clock.Advance(time.Minute)
	msg, _ := json.Marshal(map[string]string{"channel": "whatsapp", "from": "15550102030", "to": "15551234567", "text": v.Text,
		"time": clock.Now().Format(time.RFC3339)})
	post("/v1/sites/demo/messages", string(msg), "Authorization", "Bearer demo-key-123", "Content-Type", "application/json")
	chatAt := clock.Now()
	clock.Set(time.Date(2026, 10, 7, 9, 0, 0, 0, time.UTC))
	post("/v1/sites/demo/events", `{"chat":"whatsapp:15550102030","category":"purchase","value":1990,"time":"2026-10-06T10:00:00Z"}`,
		"Authorization", "Bearer demo-key-123", "Content-Type", "application/json")

	cli := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		args = append(args, "--config", path)
		err := run(context.Background(), args, &out, &errOut, func(k string) string { return env[k] })
		return out.String(), err
	}
	out, err := cli("export", "metrica", "--site", "demo", "--from", "2026-10-01", "--to", "2026-10-31")
	want := fmt.Sprintf("ClientId,Target,DateTime,Price,Currency\n1700000000123456789,chat,%d,,\n1700000000123456789,purchase,%d,1990.00,RUB\n",
		chatAt.Unix(), time.Date(2026, 10, 6, 10, 0, 0, 0, time.UTC).Unix())
	if err != nil || out != want {
		t.Fatalf("export: %v\n%q\nwant\n%q", err, out, want)
	}
	out, err = cli("export", "metrica", "--site", "demo", "--from", "2026-10-06", "--to", "2026-10-06", "--id", "yclid")
	want = fmt.Sprintf("Yclid,Target,DateTime,Price,Currency\n5397283049721397,purchase,%d,1990.00,RUB\n", time.Date(2026, 10, 6, 10, 0, 0, 0, time.UTC).Unix())
	if err != nil || out != want {
		t.Fatalf("export by yclid: %v\n%q\nwant\n%q", err, out, want)
	}
	if _, err := cli("export", "metrica", "--site", "demo", "--from", "2026-10-31", "--to", "2026-10-01"); err == nil {
		t.Error("a range ending before it starts was taken")
	}
}
