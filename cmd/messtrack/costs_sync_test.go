package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/messtrack/messtrack/store/redistest"
)

// TestCostsSyncPagesThroughAConfiguredBaseURL: behind a configured
// meta.base_url, whose answers' paging.next names Meta's own host as the
// Graph API always does, `costs sync` pages on with the after cursor against
// base_url and reads every page; no request leaves for another host.
func TestCostsSyncPagesThroughAConfiguredBaseURL(t *testing.T) {
	redisURL, _ := redistest.NewURL(t)
	var (
		mu   sync.Mutex
		reqs []string
	)
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reqs = append(reqs, r.URL.Path+"?"+r.URL.RawQuery)
		mu.Unlock()
		q := r.URL.Query()
		if r.URL.Path != "/meta/v25.0/act_1/insights" || q.Get("access_token") != "tok" || q.Get("level") != "ad" {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":{"message":"Unsupported get request.","type":"GraphMethodException","code":100,"fbtrace_id":"G1"}}`)
			return
		}
		var tr struct{ Since, Until string }
		_ = json.Unmarshal([]byte(q.Get("time_range")), &tr)
		row := func(ad, day string) string {
			return fmt.Sprintf(`{"ad_id":%q,"ad_name":"Ad %s","spend":"2.5","reach":"10","impressions":"20","clicks":"1","account_currency":"USD","date_start":%q,"date_stop":%q}`, ad, ad, day, day)
		}
		next := func(after string) string {
			return fmt.Sprintf(`"paging":{"cursors":{"before":"A0","after":%q},"next":"https://graph.facebook.com/v25.0/act_1/insights?access_token=tok&level=ad&after=%s"}`, after, after)
		}
		from := tr.Since
		switch q.Get("after") {
		case "":
			fmt.Fprintf(w, `{"data":[%s],%s}`, row("71", from), next("P2"))
		case "P2":
			fmt.Fprintf(w, `{"data":[%s],%s}`, row("72", from), next("P3"))
		case "P3":
			fmt.Fprintf(w, `{"data":[%s],"paging":{"cursors":{"before":"P2","after":"P3"}}}`, row("73", from))
		default:
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":{"message":"bad cursor","type":"GraphMethodException","code":100,"fbtrace_id":"G2"}}`)
		}
	}))
	t.Cleanup(gateway.Close)
	dir := t.TempDir()
	cfg := "sites:\n  demo:\n    api_key: demo-key-123\n    meta: {ad_account_id: \"act_1\", access_token: tok, base_url: " + gateway.URL + "/meta/v25.0}\n"
	if err := os.WriteFile(filepath.Join(dir, "messtrack.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	w := &reportWorld{dir: dir, env: map[string]string{"REDIS_URL": redisURL}}
	out, err := w.run(t, "costs", "sync", "--site", "demo", "--from", "2026-10-01", "--to", "2026-10-01")
	if err != nil || !strings.Contains(out, "3 daily cost rows, reach over the range for 3 ads") {
		t.Fatalf("sync: %v %s", err, out)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reqs) != 6 {
		t.Fatalf("%d requests to the gateway, want 6 (three pages, twice):\n%s", len(reqs), strings.Join(reqs, "\n"))
	}
	out, err = w.run(t, "report", "--site", "demo", "ads", "--from", "2026-10-01", "--to", "2026-10-01", "--format", "json")
	if err != nil || !strings.Contains(out, `"cost": 7.5`) {
		t.Fatalf("report after sync: %v\n%s", err, out)
	}
}
