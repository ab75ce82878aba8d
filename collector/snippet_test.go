package collector

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestSnippetRoute: the script comes with its headers and revalidates; an
// unknown site is a clear JSON error, not an empty script.
func TestSnippetRoute(t *testing.T) {
	w := newTestWorld(t, testConfigYAML+`
  flower-shop:
    api_key: flower-key-789
    whatsapp:
      - number: "79991234567"
`)
	resp, body := w.do(t, request("GET", "/s/demo.js", nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /s/demo.js: %d %s", resp.StatusCode, body)
	}
	for name, want := range map[string]string{
		"Content-Type":                "text/javascript; charset=utf-8",
		"X-Content-Type-Options":      "nosniff",
		"Access-Control-Allow-Origin": "*",
	} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	etag := resp.Header.Get("ETag")
	if etag == "" || resp.Header.Get("Cache-Control") == "" {
		t.Errorf("no ETag (%q) or Cache-Control (%q)", etag, resp.Header.Get("Cache-Control"))
	}
	for _, want := range []string{`"demo"`, `"whatsapp:15551234567":"text"`, `"telegram:demo_bot":"start"`, `"telegram:demo_manager":"text"`, `"http://127.0.0.1:8080/"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("script lacks the setting %s", want)
		}
	}

	resp, body = w.do(t, request("GET", "/s/demo.js", nil, "If-None-Match", etag))
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("revalidation: %d with %d bytes, want 304 and none", resp.StatusCode, len(body))
	}

	resp, body = w.do(t, request("GET", "/s/flower-shop.js", nil))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"whatsapp:79991234567"`) {
		t.Errorf("GET /s/flower-shop.js: %d %.80s", resp.StatusCode, body)
	}

	tests := []struct {
		name string
		path string
	}{
		{name: "unknown site", path: "/s/nosuch.js"},
		{name: "html in the name", path: "/s/%3Cb%3E.js"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := w.do(t, request("GET", tt.path, nil))
			if resp.StatusCode != http.StatusNotFound {
				t.Fatalf("GET %s: %d, want 404", tt.path, resp.StatusCode)
			}
			var e struct{ Error string }
			if err := json.Unmarshal(body, &e); err != nil || !strings.Contains(e.Error, "unknown site") {
				t.Errorf("GET %s: body %s, want a JSON unknown-site error", tt.path, body)
			}
		})
	}
}
