package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/score"
	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store"
)

// tgUpdateJSON builds an update in the Bot API's shape (the samples'
// shape) for a private chat with user id.
func tgUpdateJSON(kind string, updateID, userID, fromID int64, date time.Time, text, lang string) []byte {
	return []byte(fmt.Sprintf(`{"update_id":%d,%q:{"message_id":7,"from":{"id":%d,"is_bot":false,"first_name":"Visitor","last_name":"T","username":"visitor_t","language_code":%q},"chat":{"id":%d,"first_name":"Visitor","type":"private"},"date":%d,"text":%q}}`,
		updateID, kind, fromID, lang, userID, date.Unix(), text))
}

// postTelegram posts an update to the demo site's webhook with its secret.
func (w *testWorld) postTelegram(t testing.TB, query string, body []byte) (int, hookAnswer, string) {
	t.Helper()
	resp, b := w.do(t, request("POST", "/hooks/telegram/demo"+query, body,
		"X-Telegram-Bot-Api-Secret-Token", "tg-secret-1", "Content-Type", "application/json"))
	var ans hookAnswer
	_ = json.Unmarshal(b, &ans)
	return resp.StatusCode, ans, string(b)
}

func TestTelegramSecretToken(t *testing.T) {
	body := sample(t, "telegram_text.json")
	tests := []struct {
		name, site, token string
		want              int
	}{
		{name: "right token", site: "demo", token: "tg-secret-1", want: 200},
		{name: "wrong token", site: "demo", token: "tg-secret-2", want: 403},
		{name: "token prefix", site: "demo", token: "tg-secret-", want: 403},
		{name: "missing token", site: "demo", want: 403},
		{name: "site without a token", site: "shop", token: "", want: 403},
		{name: "unknown site", site: "nosuch", token: "tg-secret-1", want: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newTestWorld(t)
			var headers []string
			if tc.token != "" {
				headers = []string{"X-Telegram-Bot-Api-Secret-Token", tc.token}
			}
			resp, b := w.do(t, request("POST", "/hooks/telegram/"+tc.site, body, headers...))
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, b, tc.want)
			}
			wantChats := int64(0)
			if tc.want == 200 {
				wantChats = 1
			}
			if n := w.rdb.ZCard(context.Background(), store.Chats("demo")).Val(); n != wantChats {
				t.Errorf("%d chats stored, want %d", n, wantChats)
			}
		})
	}
}

func TestTelegramSamples(t *testing.T) {
	tests := []struct {
		file, text string
	}{
		// The sample's payload is not a code of this site: no match.
		{file: "telegram_start.json", text: "/start v1_Ab3dE-9xYz"},
		{file: "telegram_start_no_payload.json", text: "/start"},
		{file: "telegram_text.json", text: "Здравствуйте! 🍀🐙🎈"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			w := newTestWorld(t)
			status, ans, b := w.postTelegram(t, "", sample(t, tc.file))
			if status != 200 || ans.Received != 1 {
				t.Fatalf("%d %s", status, b)
			}
			rec := w.chatRecordOf(t, "telegram:1111111")
			if rec.Method != reports.MethodNone || rec.Name != "Test Test Lastname" || rec.Username != "Test" ||
				rec.Language != "ru" || rec.Messenger != "telegram" || rec.History[0].Text != tc.text {
				t.Errorf("record = %+v", rec)
			}
		})
	}
}

func TestTelegramStartPayloadMatchesByID(t *testing.T) {
	w := newTestWorld(t)
	v := w.addVisit(t, nil)
	other := w.addVisit(t, nil)
	w.clickOn(t, other, "telegram:demo_bot", "")
	start := w.demoSite().codec.Start(v.N)
	w.clock.Advance(20 * time.Second)
	body := tgUpdateJSON("message", 500, 42, 42, w.clock.Now(), "/start "+start, "en")
	if status, ans, b := w.postTelegram(t, "?bot=demo_bot", body); status != 200 || ans.Received != 1 {
		t.Fatalf("%d %s", status, b)
	}
	rec := w.chatRecordOf(t, "telegram:42")
	if rec.Method != reports.MethodID || rec.Visit != w.visitID(v) {
		t.Errorf("record = %+v, want visit %s by id", rec, w.visitID(v))
	}
	// The same update again (Telegram retries): once.
	if status, ans, b := w.postTelegram(t, "?bot=demo_bot", body); status != 200 || ans.Duplicates != 1 {
		t.Fatalf("%d %s", status, b)
	}
	if rec := w.chatRecordOf(t, "telegram:42"); rec.Messages != 1 {
		t.Errorf("duplicate counted: %+v", rec)
	}
}

func TestTelegramBareStartFallsBackToHeuristic(t *testing.T) {
	w := newTestWorld(t)
	v := w.addVisit(t, func(v *visit.Visit) { v.Language = "ru-RU" })
	w.clickOn(t, v, "telegram:demo_bot", "https://shop.test/contacts")
	w.clock.Advance(15 * time.Second)
	body := tgUpdateJSON("message", 501, 43, 43, w.clock.Now(), "/start", "ru")
	if status, _, b := w.postTelegram(t, "", body); status != 200 {
		t.Fatalf("%d %s", status, b)
	}
	rec := w.chatRecordOf(t, "telegram:43")
	if rec.Method != reports.MethodHeuristic || rec.Visit != w.visitID(v) || rec.Confidence < score.MinConfidence || rec.Source.Page != "https://shop.test/contacts" {
		t.Errorf("record = %+v", rec)
	}
}

func TestTelegramAccountsAndBusinessMessages(t *testing.T) {
	w := newTestWorld(t)
	v := w.addVisit(t, func(v *visit.Visit) { v.Language = "en-US" })
	w.clickOn(t, v, "telegram:demo_manager", "")
	w.clock.Advance(10 * time.Second)
	now := w.clock.Now()
	tests := []struct {
		name, query string
		body        []byte
		want        int
		ans         hookAnswer
	}{
		{name: "unknown bot", query: "?bot=other_bot", body: tgUpdateJSON("message", 1, 50, 50, now, "hi", ""), want: 400},
		{name: "unknown user", query: "?user=somebody", body: tgUpdateJSON("business_message", 2, 51, 51, now, "hi", ""), want: 400},
		{name: "business message from the business itself", body: tgUpdateJSON("business_message", 3, 52, 999, now, "our reply", ""), want: 200, ans: hookAnswer{Ignored: 1}},
		{name: "group message", body: []byte(`{"update_id":4,"message":{"message_id":1,"from":{"id":5,"is_bot":false,"first_name":"A"},"chat":{"id":-100,"type":"group"},"date":1,"text":"hi"}}`), want: 200, ans: hookAnswer{Ignored: 1}},
		{name: "other update kind", body: []byte(`{"update_id":5,"callback_query":{"id":"1"}}`), want: 200, ans: hookAnswer{Ignored: 1}},
		{name: "malformed JSON", body: []byte(`{"update_id":6,"message":`), want: 400},
		{name: "no update_id", body: []byte(`{"message":{"message_id":1}}`), want: 400},
		{name: "business message from the visitor", query: "?user=demo_manager", body: tgUpdateJSON("business_message", 7, 53, 53, now, "Hello, a question", "en"), want: 200, ans: hookAnswer{Received: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, ans, b := w.postTelegram(t, tc.query, tc.body)
			if status != tc.want || (tc.want == 200 && ans != tc.ans) {
				t.Fatalf("%d %s, want %d %+v", status, b, tc.want, tc.ans)
			}
		})
	}
	// The visitor's business message went to the manager's account, where
	// the visit clicked.
	rec := w.chatRecordOf(t, "telegram:53")
	if rec.Method != reports.MethodHeuristic || rec.Visit != w.visitID(v) {
		t.Errorf("record = %+v", rec)
	}
	if n := w.rdb.ZCard(context.Background(), store.Chats("demo")).Val(); n != 1 {
		t.Errorf("%d chats stored, want only the visitor's", n)
	}
}
