package collector

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/visit"
)

// messengersConfigYAML is the test world with every messenger beyond
// WhatsApp and Telegram configured on the demo site.
var messengersConfigYAML = strings.Replace(testConfigYAML, "    conversion_event: purchase\n", `    max: {bots: [demo_shop_bot, second_bot], secret: max-secret-1}
    vk:
      communities:
        - {name: demoshop, id: 123456, confirmation: "a1b2c3d4", secret: vk-secret-1}
        - {name: OtherShop, id: 654321, confirmation: "e5f6a7b8"}
    messenger: {pages: [{name: demoshop, id: "1234567890"}]}
    instagram: {accounts: [{name: demo.shop, id: "17841400000000000"}]}
    meta_app_secret: meta-app-secret
    meta_verify_token: meta-verify
    viber: {bots: [{uri: demoshop, token: viber-token-1}, {uri: demoshop-2, token: viber-token-2}]}
    line: {accounts: [{id: "@demoshop", secret: line-secret-1}]}
    conversion_event: purchase
`, 1)

// messengerSample is a platform sample with its placeholders filled.
func messengerSample(t testing.TB, name, code, text string) []byte {
	t.Helper()
	inner := func(s string) string {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		return string(b[1 : len(b)-1])
	}
	return []byte(strings.NewReplacer("__CODE__", inner(code), "__TEXT__", inner(text)).Replace(string(sample(t, name))))
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

func TestVKAnswersTheConfirmationWithTheCommunitysString(t *testing.T) {
	w := newTestWorld(t, messengersConfigYAML)
	for _, tc := range []struct{ body, want string }{
		{string(sample(t, "vk_confirmation.json")), "a1b2c3d4"},
		{`{"type":"confirmation","group_id":654321}`, "e5f6a7b8"},
	} {
		resp, b := w.do(t, request("POST", "/hooks/vk/demo", []byte(tc.body), "Content-Type", "application/json"))
		if resp.StatusCode != 200 || string(b) != tc.want || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("confirmation %s: %d %q (%s), want %q as plain text", tc.body, resp.StatusCode, b, resp.Header.Get("Content-Type"), tc.want)
		}
	}
	status, _, raw := w.postHook(t, "/hooks/vk/demo", []byte(`{"type":"confirmation","group_id":1}`))
	if status != 400 || !strings.Contains(raw, "group_id 1 is not a community") {
		t.Fatalf("a foreign community: %d %s", status, raw)
	}
}

func TestVKRefAttributesByItsHiddenCode(t *testing.T) {
	w := newTestWorld(t, messengersConfigYAML)
	v := w.registerVisit(t, "https://shop.test/?utm_source=vk&utm_campaign=autumn")
	w.clock.Advance(2 * time.Minute)
	body := messengerSample(t, "vk_message_new_ref.json", v.Start, "Hello, is the sofa in stock?")
	resp, b := w.do(t, request("POST", "/hooks/vk/demo", body, "Content-Type", "application/json"))
	if resp.StatusCode != 200 || string(b) != "ok" {
		t.Fatalf("message_new: %d %q, want ok", resp.StatusCode, b)
	}
	rec := w.wantChat(t, "vk:700000001", "vk", "id", v.Visit)
	if rec.Source.UTMCampaign != "autumn" || rec.Dialog != "new" {
		t.Fatalf("record %+v", rec)
	}
	// A redelivery is answered ok and changes nothing.
	if resp, b = w.do(t, request("POST", "/hooks/vk/demo", body, "Content-Type", "application/json")); resp.StatusCode != 200 || string(b) != "ok" {
		t.Fatalf("redelivery: %d %q", resp.StatusCode, b)
	}
	if rec = w.chatRecordOf(t, "vk:700000001"); rec.Messages != 1 || len(rec.Sessions) != 1 {
		t.Fatalf("after a redelivery: %d messages, %d sessions", rec.Messages, len(rec.Sessions))
	}
	// A later message without a ref continues the conversation.
	later := strings.NewReplacer(`"id": 101`, `"id": 102`, `"ref": "`+v.Start+`",`, "").Replace(string(body))
	if resp, b = w.do(t, request("POST", "/hooks/vk/demo", []byte(later), "Content-Type", "application/json")); resp.StatusCode != 200 {
		t.Fatalf("later message: %d %s", resp.StatusCode, b)
	}
	if rec = w.wantChat(t, "vk:700000001", "vk", "id", v.Visit); rec.Messages != 2 || len(rec.Sessions) != 1 {
		t.Fatalf("after a later message: %d messages, %d sessions", rec.Messages, len(rec.Sessions))
	}
}

func TestVKRefusesAForgedSecret(t *testing.T) {
	w := newTestWorld(t, messengersConfigYAML)
	body := string(messengerSample(t, "vk_message_new_ref.json", "AQIDBAUGBw", "hi"))
	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"wrong secret", strings.Replace(body, "vk-secret-1", "vk-secret-2", 1), 403},
		{"no secret", strings.Replace(body, `"secret": "vk-secret-1"`, `"v2": 1`, 1), 403},
		{"community without a secret", strings.Replace(body, `"group_id": 123456`, `"group_id": 654321`, 1), 403},
		{"malformed", body[:40], 400},
	} {
		status, _, raw := w.postHook(t, "/hooks/vk/demo", []byte(tc.body))
		if status != tc.want || !strings.Contains(raw, `"error"`) {
			t.Errorf("%s: %d %s, want %d", tc.name, status, raw, tc.want)
		}
	}
	if n := w.siteCounts(t); n.Chats != 0 {
		t.Fatalf("%d chats stored from refused requests", n.Chats)
	}
}

// postMeta posts a signed notification to the demo site's Meta webhook.
func (w *testWorld) postMeta(t testing.TB, body []byte) (int, hookAnswer, string) {
	t.Helper()
	return w.postHook(t, "/hooks/meta/demo", body, "X-Hub-Signature-256", hubSignature("meta-app-secret", body))
}

func TestMetaVerificationHandshake(t *testing.T) {
	w := newTestWorld(t, messengersConfigYAML)
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"hub.mode=subscribe&hub.verify_token=meta-verify&hub.challenge=1158201444", 200},
		{"hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444", 403},
		{"hub.mode=unsubscribe&hub.verify_token=meta-verify&hub.challenge=1158201444", 403},
		{"hub.mode=subscribe&hub.verify_token=meta-verify", 400},
	} {
		resp, b := w.do(t, request("GET", "/hooks/meta/demo?"+tc.query, nil))
		if resp.StatusCode != tc.want || (tc.want == 200 && string(b) != "1158201444") {
			t.Errorf("%s: %d %q, want %d", tc.query, resp.StatusCode, b, tc.want)
		}
	}
}

func TestMessengerRefOnANewAndAnExistingThread(t *testing.T) {
	w := newTestWorld(t, messengersConfigYAML)
	v := w.registerVisit(t, "https://shop.test/?utm_source=google&utm_medium=cpc&utm_campaign=sofas")
	w.clock.Advance(2 * time.Minute)

	// A new thread: the person taps Get Started; the postback carries the ref.
	status, ans, raw := w.postMeta(t, messengerSample(t, "messenger_postback_referral.json", v.Start, ""))
	if status != 200 || ans.Received != 1 {
		t.Fatalf("postback: %d %s", status, raw)
	}
	w.wantChat(t, "messenger:6100000000000001", "messenger", "id", v.Visit)
	// The person writes; the page's echo is ignored.
	status, ans, raw = w.postMeta(t, messengerSample(t, "messenger_text.json", "", "Is the sofa in stock?"))
	if status != 200 || ans.Received != 1 || ans.Ignored != 1 {
		t.Fatalf("text: %d %s", status, raw)
	}
	// An hour later the same person follows another visit's m.me link into
	// the existing thread: a new conversation from that visit.
	w.clock.Advance(time.Hour)
	v2 := w.registerVisit(t, "https://shop.test/?utm_source=newsletter")
	ref := messengerSample(t, "messenger_referral.json", v2.Start, "")
	if status, ans, raw = w.postMeta(t, ref); status != 200 || ans.Received != 1 {
		t.Fatalf("referral: %d %s", status, raw)
	}
	rec := w.wantChat(t, "messenger:6100000000000001", "messenger", "id", v2.Visit)
	if rec.Source.UTMSource != "newsletter" || rec.Dialog != "repeat" || len(rec.Sessions) != 2 {
		t.Fatalf("record after the referral: %+v", rec)
	}
	// Meta redelivers it: nothing changes.
	if status, ans, raw = w.postMeta(t, ref); status != 200 || ans.Duplicates != 1 {
		t.Fatalf("redelivery: %d %s", status, raw)
	}
	if rec = w.chatRecordOf(t, "messenger:6100000000000001"); len(rec.Sessions) != 2 || rec.Messages != 3 {
		t.Fatalf("after a redelivery: %d sessions, %d messages", len(rec.Sessions), rec.Messages)
	}
}

func TestInstagramRefAttributesByItsHiddenCode(t *testing.T) {
	w := newTestWorld(t, messengersConfigYAML)
	v := w.registerVisit(t, "https://shop.test/?utm_source=instagram&utm_medium=bio")
	w.clock.Advance(2 * time.Minute)
	status, ans, raw := w.postMeta(t, messengerSample(t, "instagram_referral.json", v.Start, ""))
	if status != 200 || ans.Received != 1 {
		t.Fatalf("referral: %d %s", status, raw)
	}
	w.wantChat(t, "instagram:1790000000000001", "instagram", "id", v.Visit)
}

func TestMessengerAndInstagramAdsCountInTheAdsReport(t *testing.T) {
	w := newTestWorld(t, messengersConfigYAML)
	w.clock.Advance(5 * time.Minute)
	for _, f := range []string{"messenger_ad_referral.json", "instagram_ad_referral.json"} {
		if status, ans, raw := w.postMeta(t, sample(t, f)); status != 200 || ans.Received != 1 {
			t.Fatalf("%s: %d %s", f, status, raw)
		}
	}
	rec := w.wantChat(t, "messenger:6100000000000002", "messenger", "referral", "")
	if rec.Source.AdID != "120210000000000001" || rec.Source.Channel != "messenger_ad" {
		t.Fatalf("messenger ad chat %+v", rec.Source)
	}
	w.wantChat(t, "instagram:1790000000000002", "instagram", "referral", "")
	resp, b := w.do(t, request("GET", "/v1/sites/demo/reports/ads?from=2026-11-02&to=2026-11-02", nil, "Authorization", demoAuth))
	if resp.StatusCode != 200 {
		t.Fatalf("ads report: %d %s", resp.StatusCode, b)
	}
	var rep struct {
		Rows []struct {
			AdID          string `json:"ad_id"`
			Title         string `json:"title"`
			Conversations int    `json:"conversations"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rep.Rows {
		got[r.AdID] = fmt.Sprintf("%s/%d", r.Title, r.Conversations)
	}
	if got["120210000000000001"] != "Autumn sofas/1" || got["120210000000000009"] != "Reels: the green armchair/1" {
		t.Fatalf("ads report rows %v", got)
	}
}

func TestMetaWebhookRefusesForgedSignatures(t *testing.T) {
	w := newTestWorld(t, messengersConfigYAML)
	body := messengerSample(t, "messenger_postback_referral.json", "AQIDBAUGBw", "")
	for _, tc := range []struct {
		name string
		sig  string
		want int
	}{
		{"no signature", "", 403},
		{"WhatsApp's secret when Meta's is set", hubSignature("test_app_secret", body), 403},
		{"signature of another body", hubSignature("meta-app-secret", []byte("{}")), 403},
		{"without the sha256= prefix", strings.TrimPrefix(hubSignature("meta-app-secret", body), "sha256="), 403},
		{"not hex", "sha256=zz", 403},
	} {
		var headers []string
		if tc.sig != "" {
			headers = []string{"X-Hub-Signature-256", tc.sig}
		}
		if status, _, raw := w.postHook(t, "/hooks/meta/demo", body, headers...); status != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, status, raw, tc.want)
		}
	}
	foreign := []byte(strings.Replace(string(body), `"id": "1234567890",`, `"id": "999",`, 1))
	if status, _, raw := w.postMeta(t, foreign); status != 400 || !strings.Contains(raw, "not a messenger of this site") {
		t.Errorf("a foreign page: %d %s", status, raw)
	}
	if n := w.siteCounts(t); n.Chats != 0 {
		t.Fatalf("%d chats stored from refused requests", n.Chats)
	}
}

// viberSignature is the X-Viber-Content-Signature of body under token.
func viberSignature(token string, body []byte) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// lineSignature is the x-line-signature of body under secret.
func lineSignature(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestViberContextIsJoinedToTheFirstMessage(t *testing.T) {
	w := newTestWorld(t, messengersConfigYAML)
	v := w.registerVisit(t, "https://shop.test/?utm_source=viber_channel")
	w.clock.Advance(2 * time.Minute)
	post := func(body []byte, token string) hookAnswer {
		t.Helper()
		status, ans, raw := w.postHook(t, "/hooks/viber/demo", body, "X-Viber-Content-Signature", viberSignature(token, body))
		if status != 200 {
			t.Fatalf("viber: %d %s", status, raw)
		}
		return ans
	}
	// The person opens viber://pa?chatURI=demoshop-2&context=CODE: the
	// context arrives alone, before any message, and is held.
	post(messengerSample(t, "viber_conversation_started.json", v.Start, ""), "viber-token-2")
	if got := w.rdb.Get(t.Context(), "mt:{demo}:held:viber%3A01234567890A="); got.Val() != v.Start {
		t.Fatalf("held code %q (%v), want the context", got.Val(), got.Err())
	}
	if n := w.siteCounts(t); n.Chats != 0 {
		t.Fatalf("%d chats before the first message", n.Chats)
	}
	// The first message carries no context; the held one attributes it.
	msg := messengerSample(t, "viber_message.json", "", "Hi! Do you have the blue one?")
	if ans := post(msg, "viber-token-2"); ans.Received != 1 {
		t.Fatalf("message: %+v", ans)
	}
	rec := w.wantChat(t, "viber:01234567890A=", "viber", "id", v.Visit)
	if rec.Source.UTMSource != "viber_channel" || rec.Dialog != "new" {
		t.Fatalf("record %+v", rec)
	}
	if n, err := w.rdb.Exists(t.Context(), "mt:{demo}:held:viber%3A01234567890A=").Result(); err != nil || n != 0 {
		t.Fatalf("the held code is kept after its message: %d %v", n, err)
	}
	// A redelivery changes nothing.
	if ans := post(msg, "viber-token-2"); ans.Duplicates != 1 {
		t.Fatalf("redelivery: %+v", ans)
	}
	if rec = w.chatRecordOf(t, "viber:01234567890A="); rec.Messages != 1 || len(rec.Sessions) != 1 {
		t.Fatalf("after a redelivery: %d messages, %d sessions", rec.Messages, len(rec.Sessions))
	}
}

func TestViberAndLINERefuseForgedSignatures(t *testing.T) {
	w := newTestWorld(t, messengersConfigYAML)
	vb := messengerSample(t, "viber_message.json", "", "hi")
	lb := sample(t, "line_text.json")
	for _, tc := range []struct {
		name, path string
		body       []byte
		headers    []string
	}{
		{"viber unsigned", "/hooks/viber/demo", vb, nil},
		{"viber signed by a foreign token", "/hooks/viber/demo", vb, []string{"X-Viber-Content-Signature", viberSignature("other", vb)}},
		{"viber signed as base64", "/hooks/viber/demo", vb, []string{"X-Viber-Content-Signature", lineSignature("viber-token-1", vb)}},
		{"line unsigned", "/hooks/line/demo", lb, nil},
		{"line signed by a foreign secret", "/hooks/line/demo", lb, []string{"X-Line-Signature", lineSignature("other", lb)}},
		{"line signed as hex", "/hooks/line/demo", lb, []string{"X-Line-Signature", viberSignature("line-secret-1", lb)}},
	} {
		if status, _, raw := w.postHook(t, tc.path, tc.body, tc.headers...); status != 403 {
			t.Errorf("%s: %d %s, want 403", tc.name, status, raw)
		}
	}
	if n := w.siteCounts(t); n.Chats != 0 {
		t.Fatalf("%d chats stored from refused requests", n.Chats)
	}
}

func TestLINETextCodeAttributes(t *testing.T) {
	w := newTestWorld(t, messengersConfigYAML)
	v := w.registerVisit(t, "https://shop.test/?utm_source=line_ads")
	w.clock.Advance(2 * time.Minute)
	verify := sample(t, "line_verify.json")
	if status, _, raw := w.postHook(t, "/hooks/line/demo", verify, "X-Line-Signature", lineSignature("line-secret-1", verify)); status != 200 {
		t.Fatalf("verify request: %d %s", status, raw)
	}
	body := messengerSample(t, "line_text.json", "", v.Text)
	status, ans, raw := w.postHook(t, "/hooks/line/demo", body, "X-Line-Signature", lineSignature("line-secret-1", body))
	if status != 200 || ans.Received != 1 {
		t.Fatalf("message: %d %s", status, raw)
	}
	w.wantChat(t, "line:U4af4980629a0b1c2d3e4f5a6b7c8d9e0", "line", "id", v.Visit)
	if status, ans, raw = w.postHook(t, "/hooks/line/demo", body, "X-Line-Signature", lineSignature("line-secret-1", body)); status != 200 || ans.Duplicates != 1 {
		t.Fatalf("redelivery: %d %s", status, raw)
	}
}

func TestMessengerHeuristicUsesClicksOnItsOwnLinkAndSignals(t *testing.T) {
	w := newTestWorld(t, messengersConfigYAML)
	// A visitor from Britain clicks the Viber bot's link; another clicks
	// the WhatsApp number's. A Viber message without a code, from a
	// British English user, goes to the Viber click.
	w.clock.Advance(100 * time.Second)
	british := func(v *visit.Visit) { v.Country, v.Language = "GB", "en-GB" }
	vViber := w.addVisit(t, british)
	w.clickOn(t, vViber, "viber:demoshop", "https://shop.test/viber")
	vWA := w.addVisit(t, british)
	w.clickOn(t, vWA, "whatsapp:15551234567", "https://shop.test/wa")
	w.clock.Advance(20 * time.Second)
	body := messengerSample(t, "viber_message.json", "", "Hello, I saw your sofas")
	status, _, raw := w.postHook(t, "/hooks/viber/demo", body, "X-Viber-Content-Signature", viberSignature("viber-token-1", body))
	if status != 200 {
		t.Fatalf("message: %d %s", status, raw)
	}
	rec := w.wantChat(t, "viber:01234567890A=", "viber", "heuristic", w.visitID(vViber))
	if rec.Source.Page != "https://shop.test/viber" || rec.Language != "en" {
		t.Fatalf("page %q language %q, want the Viber click's page and the user's language", rec.Source.Page, rec.Language)
	}
}

func TestErasingAChatDropsItsHeldCode(t *testing.T) {
	w := newTestWorld(t, messengersConfigYAML)
	v := w.registerVisit(t, "https://shop.test/")
	body := messengerSample(t, "viber_conversation_started.json", v.Start, "")
	if status, _, raw := w.postHook(t, "/hooks/viber/demo", body, "X-Viber-Content-Signature", viberSignature("viber-token-1", body)); status != 200 {
		t.Fatalf("conversation_started: %d %s", status, raw)
	}
	chat := url.PathEscape("viber:01234567890A=")
	resp, b := w.do(t, request("GET", "/v1/sites/demo/people/"+chat, nil, "Authorization", demoAuth))
	if resp.StatusCode != 200 || !strings.Contains(string(b), `held:viber%3A01234567890A=`) {
		t.Fatalf("export: %d %s, want the held code's key listed", resp.StatusCode, b)
	}
	if resp, b = w.do(t, request("DELETE", "/v1/sites/demo/people/"+chat, nil, "Authorization", demoAuth)); resp.StatusCode != 204 {
		t.Fatalf("erase: %d %s", resp.StatusCode, b)
	}
	if n, err := w.rdb.Exists(t.Context(), "mt:{demo}:held:viber%3A01234567890A=").Result(); err != nil || n != 0 {
		t.Fatalf("held code after erasure: %d %v", n, err)
	}
}

func TestDesktopQRRefusesOtherMessengersTargets(t *testing.T) {
	w := newTestWorld(t, messengersConfigYAML)
	v := w.registerVisit(t, "https://shop.test/")
	resp, b := w.do(t, request("GET", "/qr/demo/"+v.Visit+".svg?target="+url.QueryEscape("max:demo_shop_bot"), nil))
	if resp.StatusCode != 400 || !strings.Contains(string(b), "WhatsApp and Telegram chats only") {
		t.Fatalf("QR of a MAX bot: %d %s", resp.StatusCode, b)
	}
}

func TestChatListFiltersByEachMessenger(t *testing.T) {
	w := newTestWorld(t, messengersConfigYAML)
	v := w.registerVisit(t, "https://shop.test/")
	w.clock.Advance(2 * time.Minute)
	if status, _, raw := w.postHook(t, "/hooks/max/demo", messengerSample(t, "max_bot_started.json", v.Start, ""), "X-Max-Bot-Api-Secret", "max-secret-1"); status != 200 {
		t.Fatalf("max: %d %s", status, raw)
	}
	if status, _, raw := w.postHook(t, "/hooks/vk/demo", messengerSample(t, "vk_message_new_ref.json", v.Start, "hi")); status != 200 {
		t.Fatalf("vk: %d %s", status, raw)
	}
	if status, _, raw := w.postMeta(t, messengerSample(t, "instagram_referral.json", v.Start, "")); status != 200 {
		t.Fatalf("instagram: %d %s", status, raw)
	}
	for messenger, want := range map[string]string{"max": "max:5100001", "vk": "vk:700000001", "instagram": "instagram:1790000000000001"} {
		resp, b := w.do(t, request("GET", "/v1/sites/demo/chats?messenger="+messenger, nil, "Authorization", demoAuth))
		var page chatPage
		if resp.StatusCode != 200 || json.Unmarshal(b, &page) != nil || len(page.Chats) != 1 || page.Chats[0].Chat != want {
			t.Errorf("chats of %s: %d %s, want %s alone", messenger, resp.StatusCode, b, want)
		}
	}
	// One page view's code matched all three chats.
	for _, chat := range []string{"max:5100001", "vk:700000001", "instagram:1790000000000001"} {
		w.wantChat(t, chat, strings.SplitN(chat, ":", 2)[0], "id", v.Visit)
	}
}
