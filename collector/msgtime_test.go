package collector

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"
)

// TestMessageTimesAheadAreFiledWhenReceived: on every inbound path a
// message time more than the clock-skew allowance ahead is not believed:
// the chat is filed at the moment the message arrived, and its history
// keeps the platform's time. A time slightly ahead is believed.
func TestMessageTimesAheadAreFiledWhenReceived(t *testing.T) {
	year2100 := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	slightlyAhead := testStart.Add(time.Minute)
	paths := []struct {
		name string
		send func(w *testWorld, n int, at time.Time) (chat string)
	}{
		{name: "WhatsApp", send: func(w *testWorld, n int, at time.Time) string {
			from := "1650555100" + string(rune('0'+n))
			body := waNotification("15551234567", waContactJSON("Ann", from), waTextJSON(from, "wamid."+from, at, "hello"))
			if code, _, b := w.postWhatsApp(t, body); code != 200 {
				t.Fatalf("webhook: %d %s", code, b)
			}
			return "whatsapp:" + from
		}},
		{name: "Telegram", send: func(w *testWorld, n int, at time.Time) string {
			id := int64(777000 + n)
			if code, _, b := w.postTelegram(t, "?bot=demo_bot", tgUpdateJSON("message", id, id, id, at, "hello", "en")); code != 200 {
				t.Fatalf("webhook: %d %s", code, b)
			}
			return "telegram:" + strconv.FormatInt(id, 10)
		}},
		{name: "messages API", send: func(w *testWorld, n int, at time.Time) string {
			from := "1650555200" + string(rune('0'+n))
			body := jsonBody(t, map[string]string{"channel": "whatsapp", "from": from, "text": "hello", "time": at.Format(time.RFC3339)})
			if resp, b := w.do(t, request("POST", "/v1/sites/demo/messages", body, "Authorization", demoAuth)); resp.StatusCode != 200 {
				t.Fatalf("messages: %d %s", resp.StatusCode, b)
			}
			return "whatsapp:" + from
		}},
	}
	cases := []struct {
		name         string
		at           time.Time
		wantAt       time.Time
		wantPlatform string
	}{
		{name: "year 2100", at: year2100, wantAt: testStart, wantPlatform: "2100-01-01T00:00:00Z"},
		{name: "an hour ahead", at: testStart.Add(time.Hour), wantAt: testStart, wantPlatform: "2026-11-02T10:00:00Z"},
		{name: "a minute ahead", at: slightlyAhead, wantAt: slightlyAhead},
		{name: "an hour ago", at: testStart.Add(-time.Hour), wantAt: testStart.Add(-time.Hour)},
	}
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			w := newTestWorld(t)
			for i, tc := range cases {
				chat := p.send(w, i, tc.at)
				resp, b := w.do(t, request("GET", "/v1/sites/demo/chats/"+chat, nil, "Authorization", demoAuth))
				if resp.StatusCode != 200 {
					t.Fatalf("%s: chat %s: %d %s", tc.name, chat, resp.StatusCode, b)
				}
				var rec chatRecord
				if err := json.Unmarshal(b, &rec); err != nil {
					t.Fatal(err)
				}
				want := tc.wantAt.Format(time.RFC3339)
				if rec.FirstMessageAt != want || len(rec.History) != 1 || rec.History[0].Time != want ||
					rec.History[0].PlatformTime != tc.wantPlatform {
					t.Errorf("%s: first_message_at %q, history %+v; want %s with platform_time %q",
						tc.name, rec.FirstMessageAt, rec.History, want, tc.wantPlatform)
				}
			}
		})
	}
}
