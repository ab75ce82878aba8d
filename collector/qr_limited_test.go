package collector

import (
	"strings"
	"testing"
	"time"
)

// TestScanOverTheLimitStillLeadsToTheChat: a scan over the rate limit gets
// a small HTML page (429, Retry-After) that leads to the source's chat
// without a code, never a JSON error.
func TestScanOverTheLimitStillLeadsToTheChat(t *testing.T) {
	yaml := strings.Replace(testConfigYAML, "      billboard:", "      window: {channel: offline, bot: demo_bot}\n      billboard:", 1)
	w := newTestWorld(t, "trusted_proxies: [0.0.0.0]\nrate_limit_per_minute: 1\n"+yaml)
	w.clock.Set(testStart.Add(20 * time.Second))
	tests := []struct {
		path, from, wantLink string
	}{
		{path: "/q/demo/flyer", from: "198.51.100.1", wantLink: "https://wa.me/15551234567"},
		{path: "/q/demo/window?utm_campaign=spring", from: "198.51.100.2", wantLink: "https://t.me/demo_bot"},
	}
	for i, tt := range tests {
		if resp, _ := w.do(t, request("GET", tt.path, nil, "User-Agent", phoneUA, "X-Forwarded-For", tt.from)); resp.StatusCode != 302 {
			t.Fatalf("scan %d within the limit: %d, want 302", i, resp.StatusCode)
		}
		resp, b := w.do(t, request("GET", tt.path, nil, "User-Agent", phoneUA, "X-Forwarded-For", tt.from))
		page := string(b)
		if resp.StatusCode != 429 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || resp.Header.Get("Retry-After") != "40" {
			t.Fatalf("scan over the limit: %d %q Retry-After %q, want a 429 HTML page with Retry-After 40\n%s",
				resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Retry-After"), page)
		}
		if !strings.Contains(page, `href="`+tt.wantLink+`"`) || !strings.Contains(page, `content="0;url=`+tt.wantLink+`"`) {
			t.Errorf("the page does not lead to %s:\n%s", tt.wantLink, page)
		}
		if strings.Contains(page, "?text=") || strings.Contains(page, "start=") {
			t.Errorf("the page carries a code though no visit was registered:\n%s", page)
		}
	}
	if resp, b := w.do(t, request("GET", "/q/demo/nosuch", nil, "User-Agent", phoneUA, "X-Forwarded-For", "198.51.100.1")); resp.StatusCode != 404 || !strings.Contains(string(b), "leads nowhere") {
		t.Fatalf("an unknown source over the limit: %d\n%s", resp.StatusCode, b)
	}
	// The programs' endpoints keep their JSON answer.
	w.do(t, request("GET", "/s/demo.js", nil))
	if resp, b := w.do(t, request("GET", "/s/demo.js", nil)); resp.StatusCode != 429 || !strings.Contains(string(b), `"error"`) {
		t.Fatalf("snippet over the limit: %d %s, want a JSON 429", resp.StatusCode, b)
	}
}
