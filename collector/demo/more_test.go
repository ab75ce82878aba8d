package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/messtrack/messtrack/collector"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

// TestPhoneSendsThroughMAXAndVK: the demo's MAX and VK buttons post a MAX
// update and a VK Callback API event, built and signed on the server, to
// the collector's webhooks; the chat is matched by the link's hidden code.
func TestPhoneSendsThroughMAXAndVK(t *testing.T) {
	ctx := context.Background()
	cfg := demoConfig(t, nil)
	srv, err := collector.New(ctx, collector.Options{Config: cfg, Redis: redistest.NewUniversal(t), Clock: store.NewManualClock(seedEnd),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	post := func(path string, body any, headers ...string) (int, []byte) {
		t.Helper()
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := srv.App().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, out
	}
	var visit struct{ Visit, Start string }
	status, b := post("/v1/visits", map[string]string{"site": "demo", "url": "http://127.0.0.1:8080/?utm_source=demo-flyer"},
		"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36")
	if status != 200 || json.Unmarshal(b, &visit) != nil || visit.Start == "" {
		t.Fatalf("visit: %d %s", status, b)
	}
	var info struct{ MAX, VK []string }
	req := httptest.NewRequest(http.MethodGet, "/demo/demo/phone", nil)
	resp, err := srv.App().Test(req, -1)
	if err != nil || json.NewDecoder(resp.Body).Decode(&info) != nil || len(info.MAX) != 1 || len(info.VK) != 1 {
		t.Fatalf("phone info: %v %+v", err, info)
	}
	for _, tc := range []struct{ messenger, to, from, text, chat string }{
		{"max", "demo_shop_bot", "5123456789", "/start", "max:5123456789"},
		{"vk", "demoshop", "712345678", "Hello! Roses, please", "vk:712345678"},
	} {
		status, b := post("/demo/demo/send", map[string]string{"messenger": tc.messenger, "to": tc.to, "from": tc.from,
			"text": tc.text, "start": visit.Start, "name": "Visitor D", "language": "en"})
		var ans struct{ Chat, Method, Visit, Webhook string }
		if status != 200 || json.Unmarshal(b, &ans) != nil {
			t.Fatalf("%s: %d %s", tc.messenger, status, b)
		}
		if ans.Chat != tc.chat || ans.Method != "id" || ans.Visit != visit.Visit {
			t.Errorf("%s: %+v, want %s matched by id to %s", tc.messenger, ans, tc.chat, visit.Visit)
		}
	}
	if status, b := post("/demo/demo/send", map[string]string{"messenger": "vk", "to": "othershop", "from": "1", "text": "hi"}); status != 400 {
		t.Errorf("a community the site does not have: %d %s", status, b)
	}
}
