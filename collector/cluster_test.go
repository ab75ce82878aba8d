package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/collectortest"
	"github.com/messtrack/messtrack/collector/intake"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

// Three collectors on one real Redis Cluster, each with its own cluster
// client and HTTP port, traffic spread over them: visit IDs stay unique per
// site, one visitor's rate limit holds across all three, and the channels
// report equals a plain count of the stream, though every message and
// business event is delivered twice, to two different collectors.
func TestThreeCollectorsOnOneCluster(t *testing.T) {
	c := redistest.SharedCluster(t)
	_ = c.Client(t) // flushed
	cfg, err := config.Parse("test.yaml", []byte("trusted_proxies: [0.0.0.0/0]\nrate_limit_per_minute: 40\n"+testConfigYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := store.NewManualClock(testStart)
	var bases []string
	for i := 0; i < 3; i++ {
		cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
		t.Cleanup(func() { _ = cc.Close() })
		srv, err := New(context.Background(), Options{
			Config: cfg, Redis: cc, Clock: clock,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test",
		})
		if err != nil {
			t.Fatalf("collector %d: %v", i, err)
		}
		t.Cleanup(func() { srv.Close() })
		bases = append(bases, collectortest.Listen(t, srv))
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	post := func(base, path string, body []byte, headers ...string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(string(body)))
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("POST %s%s: %v", base, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	visit := func(base, site, origin, ip string) (int, intake.VisitResponse) {
		body, _ := json.Marshal(map[string]string{"site": site, "url": origin + "/", "lang": "en-GB"})
		status, b := post(base, "/v1/visits", body, "Origin", origin, "Content-Type", "text/plain",
			"User-Agent", uaChromeWindows, "X-Forwarded-For", ip)
		var v intake.VisitResponse
		if status == 200 {
			if err := json.Unmarshal(b, &v); err != nil || v.Visit == "" {
				t.Fatalf("visit answer %s: %v", b, err)
			}
		}
		return status, v
	}

	var demoVisits []intake.VisitResponse
	for _, s := range []struct{ site, origin string }{{"demo", testOrigin}, {"shop", "http://other.test"}} {
		seen := map[string]int{}
		for i := 0; i < 150; i++ {
			status, v := visit(bases[i%3], s.site, s.origin, fmt.Sprintf("198.51.100.%d", i%30))
			if status != 200 {
				t.Fatalf("%s visit %d: %d", s.site, i, status)
			}
			if prev, dup := seen[v.Visit]; dup {
				t.Fatalf("%s: visit %d got ID %s, as visit %d did", s.site, i, v.Visit, prev)
			}
			seen[v.Visit] = i
			if s.site == "demo" {
				demoVisits = append(demoVisits, v)
			}
		}
	}
	// One visitor going round the collectors gets 40 a minute, not 40 from
	// each.
	accepted := 0
	for i := 0; i < 90; i++ {
		if status, _ := visit(bases[i%3], "demo", testOrigin, "203.0.113.77"); status == 200 {
			accepted++
		}
	}
	if accepted != 40 {
		t.Errorf("one visitor over three collectors: %d visits accepted in a minute, want the limit of 40", accepted)
	}

	// The stream: 60 chats, two in three opened with a visit's code; every
	// message goes to one collector and again to the next. A purchase for
	// every other chat with a code, sent twice as well.
	clock.Advance(time.Minute)
	const chats = 60
	var received, duplicates, withCode, purchases int
	var revenue float64
	for k := 0; k < chats; k++ {
		waID := fmt.Sprintf("15557%06d", k)
		text := "Hello, is the blue one in stock?"
		if k%3 != 2 {
			text, withCode = demoVisits[k].Text, withCode+1
		}
		body := waNotification("15551234567", waContactJSON("Visitor", waID),
			waTextJSON(waID, fmt.Sprintf("wamid.three.%d", k), testStart.Add(30*time.Second), text))
		for _, base := range []string{bases[k%3], bases[(k+1)%3]} {
			status, b := post(base, "/hooks/whatsapp/demo", body, "Content-Type", "application/json",
				"X-Hub-Signature-256", hubSignature("test_app_secret", body))
			var ans hookAnswer
			if err := json.Unmarshal(b, &ans); status != 200 || err != nil {
				t.Fatalf("chat %d: %d %s", k, status, b)
			}
			received, duplicates = received+ans.Received, duplicates+ans.Duplicates
		}
	}
	if received != chats || duplicates != chats {
		t.Errorf("webhook answers: %d received, %d duplicates; want %d of each", received, duplicates, chats)
	}
	clock.Advance(5 * time.Minute)
	for k := 0; k < chats; k += 2 {
		if k%3 == 2 {
			continue
		}
		value := float64(10 + k)
		purchases, revenue = purchases+1, revenue+value
		body, _ := json.Marshal(map[string]any{"chat": fmt.Sprintf("whatsapp:15557%06d", k), "category": "purchase",
			"time": testStart.Add(3 * time.Minute).Format(time.RFC3339), "value": value, "id": fmt.Sprintf("crm-%d", k)})
		for _, base := range []string{bases[k%3], bases[(k+2)%3]} {
			if status, b := post(base, "/v1/sites/demo/events", body, "Content-Type", "application/json",
				"Authorization", "Bearer demo-key-123"); status != 200 {
				t.Fatalf("event for chat %d: %d %s", k, status, b)
			}
		}
	}

	for i, base := range bases {
		req, _ := http.NewRequest("GET", base+"/v1/sites/demo/reports/channels?from=2026-11-01&to=2026-11-03", nil)
		req.Header.Set("Authorization", "Bearer demo-key-123")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var rep struct {
			Totals struct {
				Conversations int      `json:"conversations"`
				Sessions      int      `json:"sessions"`
				Conversions   *int     `json:"conversions"`
				Revenue       *float64 `json:"revenue"`
			} `json:"totals"`
		}
		if err := json.Unmarshal(b, &rep); resp.StatusCode != 200 || err != nil {
			t.Fatalf("channels report from collector %d: %d %s", i, resp.StatusCode, b)
		}
		got := rep.Totals
		if got.Conversations != chats || got.Sessions != withCode || got.Conversions == nil || *got.Conversions != purchases ||
			got.Revenue == nil || *got.Revenue != revenue {
			t.Errorf("collector %d's channels report: %d conversations, %d sessions, %v conversions, %v revenue; "+
				"the stream had %d chats, %d with a code, %d purchases worth %g\n%s",
				i, got.Conversations, got.Sessions, got.Conversions, got.Revenue, chats, withCode, purchases, revenue, b)
		}
	}
}
