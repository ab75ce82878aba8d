package collector

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

// messengersConfigYAML is the test world with every messenger beyond
// WhatsApp and Telegram configured on the demo site.
var messengersConfigYAML = strings.Replace(testConfigYAML, "    conversion_event: purchase\n", `    max: {bots: [demo_shop_bot, second_bot], secret: max-secret-1}
    conversion_event: purchase
`, 1)

// messengerSample is a platform sample with its placeholders filled.
func messengerSample(t testing.TB, name, code, text string) []byte {
	t.Helper()
	return []byte(strings.NewReplacer("__CODE__", code, "__TEXT__", text).Replace(string(sample(t, name))))
}

// postHook posts body to a messenger's webhook of the demo site and gives
// the status, the counts answered (if JSON) and the raw answer.
func (w *testWorld) postHook(t testing.TB, path string, body []byte, headers ...string) (int, hookAnswer, string) {
	t.Helper()
	resp, b := w.do(t, request("POST", path, body, append([]string{"Content-Type", "application/json"}, headers...)...))
	var ans hookAnswer
	_ = json.Unmarshal(b, &ans)
	return resp.StatusCode, ans, string(b)
}

// wantChat checks a chat's record: its messenger, method and visit.
func (w *testWorld) wantChat(t testing.TB, chat, messenger, method, visitID string) chatRecord {
	t.Helper()
	rec := w.chatRecordOf(t, chat)
	if rec.Messenger != messenger || rec.Method != method || rec.Visit != visitID {
		t.Fatalf("chat %s: messenger %q method %q visit %q, want %q %q %q", chat, rec.Messenger, rec.Method, rec.Visit,
			messenger, method, visitID)
	}
	return rec
}

func TestMAXStartLinkAttributesByItsHiddenCode(t *testing.T) {
	w := newTestWorld(t, messengersConfigYAML)
	v := w.registerVisit(t, "https://shop.test/?utm_source=flyer")
	secret := []string{"X-Max-Bot-Api-Secret", "max-secret-1"}
	w.clock.Advance(2 * time.Minute)

	// The person taps max.ru/demo_shop_bot?start=CODE and presses Start.
	started := messengerSample(t, "max_bot_started.json", v.Start, "")
	status, ans, raw := w.postHook(t, "/hooks/max/demo?bot=demo_shop_bot", started, secret...)
	if status != 200 || ans.Received != 1 {
		t.Fatalf("bot_started: %d %s", status, raw)
	}
	rec := w.wantChat(t, "max:5100001", "max", "id", v.Visit)
	if rec.Source.UTMSource != "flyer" || rec.Language != "ru" || rec.Dialog != "new" {
		t.Fatalf("record %+v", rec)
	}

	// MAX redelivers the update: nothing changes.
	if status, ans, raw = w.postHook(t, "/hooks/max/demo?bot=demo_shop_bot", started, secret...); status != 200 || ans.Duplicates != 1 {
		t.Fatalf("redelivery: %d %s", status, raw)
	}
	// The person writes: a continuation of the conversation.
	msg := messengerSample(t, "max_message_created.json", "", "Do you deliver?")
	if status, ans, raw = w.postHook(t, "/hooks/max/demo?bot=demo_shop_bot", msg, secret...); status != 200 || ans.Received != 1 {
		t.Fatalf("message_created: %d %s", status, raw)
	}
	rec = w.wantChat(t, "max:5100001", "max", "id", v.Visit)
	if len(rec.Sessions) != 1 || rec.Messages != 2 {
		t.Fatalf("sessions %d messages %d, want one session of two messages", len(rec.Sessions), rec.Messages)
	}

	// A second visit's link in the same chat starts a new conversation.
	w.clock.Advance(time.Hour)
	v2 := w.registerVisit(t, "https://shop.test/?utm_source=newsletter")
	again := []byte(strings.Replace(string(messengerSample(t, "max_bot_started.json", v2.Start, "")), "1793610060000", "1793613600000", 1))
	if status, ans, raw = w.postHook(t, "/hooks/max/demo?bot=demo_shop_bot", again, secret...); status != 200 || ans.Received != 1 {
		t.Fatalf("second start: %d %s", status, raw)
	}
	rec = w.wantChat(t, "max:5100001", "max", "id", v2.Visit)
	if rec.Source.UTMSource != "newsletter" || rec.Dialog != "repeat" {
		t.Fatalf("second conversation %+v", rec)
	}
}

func TestMAXWebhookRefusesAWrongSecret(t *testing.T) {
	w := newTestWorld(t, messengersConfigYAML)
	body := messengerSample(t, "max_bot_started.json", "AQIDBAUGBw", "")
	for _, tc := range []struct {
		name, path string
		headers    []string
		want       int
	}{
		{"no secret", "/hooks/max/demo", nil, 403},
		{"wrong secret", "/hooks/max/demo", []string{"X-Max-Bot-Api-Secret", "max-secret-2"}, 403},
		{"secret's prefix", "/hooks/max/demo", []string{"X-Max-Bot-Api-Secret", "max-secret-"}, 403},
		{"site without MAX", "/hooks/max/shop", []string{"X-Max-Bot-Api-Secret", "max-secret-1"}, 403},
		{"unknown site", "/hooks/max/nosuch", []string{"X-Max-Bot-Api-Secret", "max-secret-1"}, 404},
		{"unknown bot", "/hooks/max/demo?bot=" + url.QueryEscape("other<bot>"), []string{"X-Max-Bot-Api-Secret", "max-secret-1"}, 400},
		{"malformed body", "/hooks/max/demo", []string{"X-Max-Bot-Api-Secret", "max-secret-1"}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := body
			if tc.name == "malformed body" {
				b = []byte(`{"update_type":`)
			}
			status, _, raw := w.postHook(t, tc.path, b, tc.headers...)
			if status != tc.want || !strings.Contains(raw, `"error"`) {
				t.Fatalf("status %d %s, want %d with an error", status, raw, tc.want)
			}
		})
	}
	if n := w.siteCounts(t); n.Chats != 0 {
		t.Fatalf("%d chats stored from refused requests", n.Chats)
	}
}
