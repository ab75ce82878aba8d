package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/messtrack/messtrack/collector"
	"github.com/messtrack/messtrack/collector/person"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store/redistest"
)

// TestPersonExportEraseAudit runs the person commands on what a collector
// stored: a visit from an IP and a message carrying its code.
func TestPersonExportEraseAudit(t *testing.T) {
	redisURL, rdb := redistest.NewURL(t)
	dir := t.TempDir()
	cfgText := `trusted_proxies: [0.0.0.0]
sites:
  demo:
    api_key: demo-key-123
    origins: [http://shop.test]
    whatsapp: [{number: "15551234567"}]
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
	col, err := collector.New(context.Background(), collector.Options{Config: cfg, Redis: rdb, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { col.Close() })
	post := func(path, body string, headers ...string) []byte {
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
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
	_ = json.Unmarshal(post("/v1/visits", `{"site":"demo","url":"http://shop.test/a?utm_source=fb","landing":"http://shop.test/a?utm_source=fb"}`,
		"Origin", "http://shop.test", "X-Forwarded-For", "203.0.113.9"), &v)
	msg, _ := json.Marshal(map[string]string{"channel": "whatsapp", "from": "+1 555 010 2030", "to": "15551234567",
		"name": "Ada Lovelace", "text": v.Text + " call me", "id": "m1"})
	post("/v1/sites/demo/messages", string(msg), "Authorization", "Bearer demo-key-123")

	cli := func(args ...string) string {
		var out, errOut bytes.Buffer
		args = append(args, "--config", path)
		if err := run(context.Background(), args, &out, &errOut, func(k string) string { return env[k] }); err != nil {
			t.Fatalf("messtrack %v: %v\n%s", args, err, errOut.String())
		}
		return out.String()
	}
	var exp person.Export
	if err := json.Unmarshal([]byte(cli("person", "export", "--site", "demo", "--chat", "whatsapp:15550102030")), &exp); err != nil {
		t.Fatal(err)
	}
	if exp.Record == nil || exp.Record.Name != "Ada Lovelace" || len(exp.Visits) != 1 || exp.Visits[0].Visit.IP != "203.0.113.9" ||
		exp.Visits[0].ID == "" || len(exp.Keys) < 5 {
		t.Fatalf("export %+v", exp)
	}
	if out := cli("person", "erase", "--site", "demo", "--chat", "whatsapp:15550102030"); !strings.Contains(out, "1 visits") {
		t.Errorf("erase said %q", out)
	}
	keys := rdb.Keys(context.Background(), "*15550102030*").Val()
	if len(keys) != 0 {
		t.Errorf("keys still naming the person: %v", keys)
	}
	if out := cli("person", "erase", "--site", "demo", "--chat", "whatsapp:15550102030"); !strings.Contains(out, "nothing was kept") {
		t.Errorf("second erase said %q", out)
	}
	audit := strings.Split(strings.TrimSpace(cli("person", "audit", "--site", "demo")), "\n")
	if len(audit) != 2 || strings.Contains(strings.Join(audit, ""), "15550102030") {
		t.Errorf("audit %q", audit)
	}
	if out := cli("person", "sweep", "--site", "demo"); !strings.Contains(out, "looked at 0 chats") {
		t.Errorf("sweep said %q", out)
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"person", "erase", "--site", "demo", "--config", path}, &out, &errOut, func(k string) string { return env[k] }); err == nil {
		t.Error("erase without --chat succeeded")
	}
}
