package collector

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/reports"
)

func TestGenericMessageAnswersTheMatch(t *testing.T) {
	w := newTestWorld(t)
	v := w.addVisit(t, func(v *visit.Visit) { v.UTMSource, v.Country = "newsletter", "US" })
	body := jsonBody(t, map[string]string{"channel": "whatsapp", "from": "+1 (650) 555-1234", "to": "15551234567",
		"text": "Hello! My request code: " + w.code(v), "time": "2026-11-02T09:01:00Z", "name": "Visitor A"})
	resp, raw := w.do(t, request("POST", "/v1/sites/demo/messages", body, "Authorization", "Bearer demo-key-123"))
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, raw)
	}
	var shape map[string]json.RawMessage
	if err := json.Unmarshal(raw, &shape); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"chat", "method", "confidence", "visit", "new_chat"} {
		if _, ok := shape[key]; !ok {
			t.Errorf("answer lacks %q: %s", key, raw)
		}
	}
	var got messageResponse
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got.Chat != "whatsapp:16505551234" || got.Method != reports.MethodID || got.Confidence != 1 || !got.NewChat ||
		got.Visit == nil || got.Visit.ID != w.visitID(v) || got.Visit.UTMSource != "newsletter" || got.Visit.Country != "US" {
		t.Errorf("answer = %s", raw)
	}
	if rec := w.chatRecordOf(t, "whatsapp:16505551234"); rec.FirstMessageAt != "2026-11-02T09:01:00Z" {
		t.Errorf("first_message_at = %s, want the message's own time", rec.FirstMessageAt)
	}

	t.Run("no match answers visit null", func(t *testing.T) {
		resp, raw := w.do(t, request("POST", "/v1/sites/demo/messages",
			[]byte(`{"channel":"viber","from":"u-77","text":"hi"}`), "Authorization", "Bearer demo-key-123"))
		if resp.StatusCode != 200 || !strings.Contains(string(raw), `"visit":null`) || !strings.Contains(string(raw), `"chat":"viber:u-77"`) ||
			!strings.Contains(string(raw), `"method":"none"`) {
			t.Errorf("%d %s", resp.StatusCode, raw)
		}
	})

	t.Run("dedicated number", func(t *testing.T) {
		w.clock.Advance(time.Minute)
		got := w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "447700123456", "to": "+1 555 765 4321", "text": "saw your billboard"})
		rec := w.chatRecordOf(t, "whatsapp:447700123456")
		if got.Method != reports.MethodDedicatedNumber || got.Confidence != 1 || got.Visit != nil ||
			rec.Source.OfflineSource != "billboard" || rec.Source.Channel != "offline" || rec.Source.AdTitle != "billboard" {
			t.Errorf("answer %+v, record source %+v", got, rec.Source)
		}
	})

	t.Run("telegram start through the generic API", func(t *testing.T) {
		got := w.postMessage(t, map[string]string{"channel": "telegram", "from": "4242", "to": "@demo_bot",
			"text": "/start " + w.demoSite().codec.Start(v.N)})
		// v is already another chat's match: this chat sent its code too.
		if got.Chat != "telegram:4242" || got.Method != reports.MethodID {
			t.Errorf("answer = %+v", got)
		}
		fresh := w.addVisit(t, nil)
		got = w.postMessage(t, map[string]string{"channel": "telegram", "from": "4343", "to": "demo_bot",
			"text": "/start " + w.demoSite().codec.Start(fresh.N)})
		if got.Method != reports.MethodID || got.Visit == nil || got.Visit.ID != w.visitID(fresh) {
			t.Errorf("answer = %+v", got)
		}
	})
}

func TestGenericMessageRejectsBadInput(t *testing.T) {
	w := newTestWorld(t)
	tests := []struct {
		name, site, key, body string
		want                  int
		mention               string
	}{
		{name: "no key", site: "demo", body: `{"channel":"whatsapp","from":"16505551234"}`, want: 401},
		{name: "other site's key", site: "demo", key: "shop-key-456", body: `{"channel":"whatsapp","from":"16505551234"}`, want: 401},
		{name: "unknown site", site: "nosuch", key: "demo-key-123", body: `{"channel":"whatsapp","from":"16505551234"}`, want: 404},
		{name: "malformed JSON", site: "demo", key: "demo-key-123", body: `{"channel":`, want: 400, mention: "malformed JSON"},
		{name: "wrong type", site: "demo", key: "demo-key-123", body: `{"channel":"whatsapp","from":16505551234}`, want: 400, mention: "from"},
		{name: "no channel", site: "demo", key: "demo-key-123", body: `{"from":"16505551234"}`, want: 400, mention: "channel"},
		{name: "hostile channel", site: "demo", key: "demo-key-123", body: `{"channel":"<b>x</b>","from":"1"}`, want: 400, mention: "channel"},
		{name: "no sender", site: "demo", key: "demo-key-123", body: `{"channel":"whatsapp"}`, want: 400, mention: "from"},
		{name: "control characters in sender", site: "demo", key: "demo-key-123", body: `{"channel":"viber","from":"a\u0000b"}`, want: 400, mention: "from"},
		{name: "bad time", site: "demo", key: "demo-key-123", body: `{"channel":"whatsapp","from":"16505551234","time":"yesterday"}`, want: 400, mention: "RFC 3339"},
		{name: "bad WhatsApp number", site: "demo", key: "demo-key-123", body: `{"channel":"whatsapp","from":"16505551234","to":"call me"}`, want: 400, mention: "to"},
		{name: "empty body", site: "demo", key: "demo-key-123", body: ``, want: 400},
		{name: "an array, not an object", site: "demo", key: "demo-key-123", body: `[]`, want: 400, mention: "a JSON object"},
		{name: "a string, not an object", site: "demo", key: "demo-key-123", body: `"hi"`, want: 400, mention: "a JSON object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.key != "" {
				headers = []string{"Authorization", "Bearer " + tc.key}
			}
			resp, b := w.do(t, request("POST", "/v1/sites/"+tc.site+"/messages", []byte(tc.body), headers...))
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, b, tc.want)
			}
			if !strings.Contains(string(b), tc.mention) || !strings.Contains(string(b), `"error"`) {
				t.Errorf("error %s does not mention %q", b, tc.mention)
			}
		})
	}
}

// TestGenericMessageRefusesAFutureTime: a message's time is when it was
// sent, so one far ahead of the collector's clock is a sender's bug; it is
// refused before anything is stored, as events are, while a sender's clock
// running a little fast is taken.
