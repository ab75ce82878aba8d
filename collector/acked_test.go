package collector

import (
	"strings"
	"testing"

	"github.com/messtrack/messtrack/store/redistest"
)

// With redis_wait_replicas: 1 and no replica to acknowledge, nothing is
// answered 2xx: a webhook and a visit get 503 with Retry-After, the
// message stored once all the same; a request refused before any write
// keeps its own status. It runs on one server without a replica in both
// test passes: the cluster's masters have replicas.
func TestNoReplicaNoAcknowledgement(t *testing.T) {
	w := newWorldOn(t, redistest.New(t), "redis_wait_replicas: 1\nredis_wait_timeout_ms: 50\n"+testConfigYAML, testStart)
	body := sample(t, "whatsapp_text.json")
	for i := 0; i < 2; i++ {
		resp, b := w.do(t, request("POST", "/hooks/whatsapp/demo", body,
			"X-Hub-Signature-256", hubSignature("test_app_secret", body), "Content-Type", "application/json"))
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" || !strings.Contains(string(b), "not yet on a Redis replica") {
			t.Fatalf("webhook delivery %d without a replica: %d %q %s, want 503 with Retry-After", i, resp.StatusCode, resp.Header.Get("Retry-After"), b)
		}
	}
	if rec := w.chatRecordOf(t, "whatsapp:16505551234"); rec.Messages != 1 {
		t.Errorf("after two deliveries answered 503 the chat has %d messages, want the one message once", rec.Messages)
	}
	resp, b := w.do(t, request("POST", "/hooks/whatsapp/demo", body, "X-Hub-Signature-256", "sha256=00", "Content-Type", "application/json"))
	if resp.StatusCode != 403 {
		t.Errorf("wrong signature: %d %s, want 403", resp.StatusCode, b)
	}
	vb := jsonBody(t, map[string]string{"site": "demo", "url": testOrigin + "/", "lang": "en-US"})
	resp, b = w.do(t, request("POST", "/v1/visits", vb, "Origin", testOrigin, "Content-Type", "text/plain", "User-Agent", uaChromeWindows))
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" || strings.Contains(string(b), `"visit"`) {
		t.Errorf("visit without a replica: %d %q %s, want 503 and no ID", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
}
