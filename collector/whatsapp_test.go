package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/ledger"
	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store"
)

// waNotification builds a Cloud API notification in the documented shape:
// one entry per business number, messages given as raw JSON objects.
func waNotification(number string, contacts string, messages ...string) []byte {
	return []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":%q,"phone_number_id":"106540352242922"},"contacts":[%s],"messages":[%s]},"field":"messages"}]}]}`,
		number, contacts, strings.Join(messages, ",")))
}

func waContactJSON(name, waID string) string {
	return fmt.Sprintf(`{"profile":{"name":%q},"wa_id":%q}`, name, waID)
}

func waTextJSON(from, id string, ts time.Time, body string) string {
	return fmt.Sprintf(`{"from":%q,"id":%q,"timestamp":"%d","type":"text","text":{"body":%q}}`, from, id, ts.Unix(), body)
}

// postWhatsApp signs body with the demo site's app secret and posts it.
func (w *testWorld) postWhatsApp(t testing.TB, body []byte) (int, hookAnswer, string) {
	t.Helper()
	resp, b := w.do(t, request("POST", "/hooks/whatsapp/demo", body,
		"X-Hub-Signature-256", hubSignature("test_app_secret", body), "Content-Type", "application/json"))
	var ans hookAnswer
	_ = json.Unmarshal(b, &ans)
	return resp.StatusCode, ans, string(b)
}

func TestWhatsAppVerifyHandshake(t *testing.T) {
	w := newTestWorld(t)
	tests := []struct {
		name, path string
		want       int
		body       string
	}{
		{name: "right token", path: "/hooks/whatsapp/demo?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=verify-me", want: 200, body: "1158201444"},
		{name: "wrong token", path: "/hooks/whatsapp/demo?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock", want: 403},
		{name: "wrong mode", path: "/hooks/whatsapp/demo?hub.mode=unsubscribe&hub.challenge=1158201444&hub.verify_token=verify-me", want: 403},
		{name: "no parameters", path: "/hooks/whatsapp/demo", want: 403},
		{name: "hostile challenge", path: "/hooks/whatsapp/demo?hub.mode=subscribe&hub.challenge=%3Cscript%3E&hub.verify_token=verify-me", want: 400},
		{name: "site without a verify token", path: "/hooks/whatsapp/shop?hub.mode=subscribe&hub.challenge=1&hub.verify_token=", want: 403},
		{name: "unknown site", path: "/hooks/whatsapp/nosuch?hub.mode=subscribe&hub.challenge=1&hub.verify_token=verify-me", want: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := w.do(t, request("GET", tc.path, nil))
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, b, tc.want)
			}
			if tc.body != "" && string(b) != tc.body {
				t.Errorf("body %q, want the challenge %q", b, tc.body)
			}
		})
	}
}

func TestWhatsAppSignature(t *testing.T) {
	// The samples' signatures under the test app secret, computed once over their exact bytes.
	documented := map[string]string{
		"whatsapp_text.json":                 "sha256=250b7c5590257e091ed620f506982f78fe3b7e1a5dd81923c02d9efcdfe288ad",
		"whatsapp_text_unicode_escaped.json": "sha256=0928b4bbc9001d7433194629f65aeef7c31ccbf982c0fb086ea59e52abc3be9d",
		"whatsapp_referral.json":             "sha256=a179c87accf8c9a7d0d7f0f367b0c1636310fc1070844b809abf1e56c326aadf",
	}
	for file, sig := range documented {
		t.Run(file, func(t *testing.T) {
			w := newTestWorld(t)
			body := sample(t, file)
			if got := hubSignature("test_app_secret", body); got != sig {
				t.Fatalf("sample bytes changed: signature %s, documented %s", got, sig)
			}
			resp, b := w.do(t, request("POST", "/hooks/whatsapp/demo", body, "X-Hub-Signature-256", sig))
			if resp.StatusCode != 200 || !strings.Contains(string(b), `"received":1`) {
				t.Fatalf("documented signature refused: %d %s", resp.StatusCode, b)
			}
		})
	}

	body := sample(t, "whatsapp_text_unicode_escaped.json")
	// Re-encoding turns \u escapes into UTF-8: the same content, other bytes.
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	reencoded, _ := json.Marshal(v)
	tests := []struct {
		name   string
		site   string
		body   []byte
		header string
		want   int
	}{
		{name: "missing", site: "demo", body: body, want: 403},
		{name: "wrong secret", site: "demo", body: body, header: hubSignature("another_secret", body), want: 403},
		{name: "without prefix", site: "demo", body: body, header: strings.TrimPrefix(hubSignature("test_app_secret", body), "sha256="), want: 403},
		{name: "sha1 style", site: "demo", body: body, header: "sha1=" + strings.TrimPrefix(hubSignature("test_app_secret", body), "sha256="), want: 403},
		{name: "not hex", site: "demo", body: body, header: "sha256=zz", want: 403},
		{name: "signature of the decoded text", site: "demo", body: body, header: hubSignature("test_app_secret", reencoded), want: 403},
		{name: "body changed after signing", site: "demo", body: append([]byte(" "), body...), header: hubSignature("test_app_secret", body), want: 403},
		{name: "site without an app secret", site: "shop", body: body, header: hubSignature("", body), want: 403},
		{name: "unknown site", site: "nosuch", body: body, header: hubSignature("test_app_secret", body), want: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newTestWorld(t)
			var headers []string
			if tc.header != "" {
				headers = []string{"X-Hub-Signature-256", tc.header}
			}
			resp, b := w.do(t, request("POST", "/hooks/whatsapp/"+tc.site, tc.body, headers...))
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, b, tc.want)
			}
			if n := w.rdb.ZCard(context.Background(), store.Chats("demo")).Val(); n != 0 {
				t.Errorf("a refused notification stored %d chats", n)
			}
		})
	}
}

func TestWhatsAppSamplesAreStored(t *testing.T) {
	tests := []struct {
		file, name, text string
	}{
		{file: "whatsapp_text.json", name: "Sheena Nelson", text: "Hello! I'd like to know more 🍀🐙🎈"},
		{file: "whatsapp_text_unicode_escaped.json", name: "Анна", text: "Здравствуйте! 🍀🐙🎈"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			w := newTestWorld(t)
			status, ans, b := w.postWhatsApp(t, sample(t, tc.file))
			if status != 200 || ans.Received != 1 {
				t.Fatalf("%d %s", status, b)
			}
			rec := w.chatRecordOf(t, "whatsapp:16505551234")
			if rec.Name != tc.name || rec.Method != reports.MethodNone || rec.Phone != "16505551234" || rec.Messenger != "whatsapp" {
				t.Errorf("record = %+v", rec)
			}
			// The message's own timestamp, not the delivery time.
			if rec.FirstMessageAt != "2025-02-12T00:43:44Z" {
				t.Errorf("first_message_at = %s", rec.FirstMessageAt)
			}
			if len(rec.History) != 1 || rec.History[0].Text != tc.text ||
				rec.History[0].MessageID != "wa:wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=" {
				t.Errorf("history = %+v", rec.History)
			}
		})
	}
}

func TestWhatsAppReferral(t *testing.T) {
	w := newTestWorld(t)
	facts := w.collectFacts()
	status, _, b := w.postWhatsApp(t, sample(t, "whatsapp_referral.json"))
	if status != 200 {
		t.Fatalf("%d %s", status, b)
	}
	rec := w.chatRecordOf(t, "whatsapp:16505551234")
	want := ledger.Source{Channel: "messenger_ad", Referrer: "https://fb.me/3cr4Wqqkv", AdID: "120226305854810726",
		AdTitle: "Chat with us", AdType: "ad",
		ClickID: "Aff-n8ZTODiE79d22KtAwQKj9e_mIEOOj27vDVwFjN80dp4_0NiNhEgpGo0AHemvuSoifXaytfTzcchptiErTKCqTrJ5nW1h7IHYeYymGb5K5J5iTROpBhWAGaIAeUzHL50"}
	if rec.Method != reports.MethodReferral || rec.Confidence != 1 || rec.Source != want {
		t.Errorf("record = %+v\nsource want %+v", rec, want)
	}
	got := facts.all()
	if len(got) != 1 || got[0].AdID != "120226305854810726" || got[0].AdType != "ad" || got[0].Channel != "messenger_ad" {
		t.Errorf("facts = %+v", got)
	}

	t.Run("body stands in for a missing headline", func(t *testing.T) {
		w := newTestWorld(t)
		msg := `{"from":"16505550001","id":"wamid.R2","timestamp":"1739321024","type":"image","image":{"caption":"hi"},` +
			`"referral":{"source_url":"https://fb.me/x","source_id":"555","source_type":"post","body":"Summer succulents are here!","media_type":"image"}}`
		if status, _, b := w.postWhatsApp(t, waNotification("15551234567", waContactJSON("Visitor B", "16505550001"), msg)); status != 200 {
			t.Fatalf("%d %s", status, b)
		}
		rec := w.chatRecordOf(t, "whatsapp:16505550001")
		if rec.Source.AdTitle != "Summer succulents are here!" || rec.Source.AdType != "post" || rec.Source.ClickID != "" {
			t.Errorf("source = %+v", rec.Source)
		}
	})
}

func TestWhatsAppStatusesMakeNoChats(t *testing.T) {
	w := newTestWorld(t)
	status, ans, b := w.postWhatsApp(t, sample(t, "whatsapp_status.json"))
	if status != 200 || ans.Statuses != 1 || ans.Ignored != 0 || ans.Received != 0 {
		t.Fatalf("%d %s", status, b)
	}
	if n := w.rdb.ZCard(context.Background(), store.Chats("demo")).Val(); n != 0 {
		t.Errorf("a status created %d chats", n)
	}
}

func TestWhatsAppBatchOfMessageTypes(t *testing.T) {
	w := newTestWorld(t)
	visits := make([]*visit.Visit, 4)
	for i := range visits {
		visits[i] = w.addVisit(t, nil)
	}
	ts := w.clock.Now().Add(time.Minute).Unix()
	msg := func(from, id, typ, content string) string {
		return fmt.Sprintf(`{"from":%q,"id":%q,"timestamp":"%d","type":%q,%s}`, from, id, ts, typ, content)
	}
	code := func(i int) string { return w.code(visits[i]) }
	// Two entries (two business numbers), the first with two changes.
	body := []byte(`{"object":"whatsapp_business_account","entry":[` +
		`{"id":"1","changes":[` +
		`{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15551234567","phone_number_id":"1"},` +
		`"contacts":[` + waContactJSON("Visitor A", "16505550001") + `,` + waContactJSON("Visitor B", "16505550002") + `],` +
		`"messages":[` + msg("16505550001", "wamid.A", "image", `"image":{"caption":"photo `+code(0)+`","mime_type":"image/jpeg","id":"1"}`) + `,` +
		msg("16505550002", "wamid.B", "video", `"video":{"caption":"`+code(1)+` video","id":"2"}`) + `]}},` +
		`{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15551234567","phone_number_id":"1"},` +
		`"contacts":[` + waContactJSON("Visitor C", "16505550003") + `],` +
		`"messages":[` + msg("16505550003", "wamid.C", "interactive", `"interactive":{"type":"list_reply","list_reply":{"id":"r1","title":"`+code(2)+`","description":"d"}}`) + `]}}]},` +
		`{"id":"2","changes":[` +
		`{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15557654321","phone_number_id":"2"},` +
		`"contacts":[` + waContactJSON("Visitor D", "16505550004") + `,` + waContactJSON("Visitor E", "16505550005") + `,` + waContactJSON("Visitor F", "16505550006") + `],` +
		`"messages":[` + msg("16505550004", "wamid.D", "button", `"button":{"text":"`+code(3)+`","payload":"p"}`) + `,` +
		msg("16505550005", "wamid.E", "interactive", `"interactive":{"type":"button_reply","button_reply":{"id":"b1","title":"Yes please"}}`) + `,` +
		msg("16505550006", "wamid.F", "sticker", `"sticker":{"id":"9"}`) + `]}}]}]}`)
	status, ans, b := w.postWhatsApp(t, body)
	if status != 200 || ans.Received != 6 {
		t.Fatalf("%d %s", status, b)
	}
	tests := []struct {
		chat, name, method, visit, text string
	}{
		{chat: "whatsapp:16505550001", name: "Visitor A", method: reports.MethodID, visit: w.visitID(visits[0])},
		{chat: "whatsapp:16505550002", name: "Visitor B", method: reports.MethodID, visit: w.visitID(visits[1])},
		{chat: "whatsapp:16505550003", name: "Visitor C", method: reports.MethodID, visit: w.visitID(visits[2])},
		{chat: "whatsapp:16505550004", name: "Visitor D", method: reports.MethodID, visit: w.visitID(visits[3])},
		// No code on the billboard's dedicated number.
		{chat: "whatsapp:16505550005", name: "Visitor E", method: reports.MethodDedicatedNumber, text: "Yes please"},
		{chat: "whatsapp:16505550006", name: "Visitor F", method: reports.MethodDedicatedNumber},
	}
	for _, tc := range tests {
		t.Run(tc.chat, func(t *testing.T) {
			rec := w.chatRecordOf(t, tc.chat)
			if rec.Name != tc.name || rec.Method != tc.method || rec.Visit != tc.visit {
				t.Errorf("record = %+v", rec)
			}
			if tc.method == reports.MethodDedicatedNumber && (rec.Source.OfflineSource != "billboard" || rec.Source.Channel != "offline") {
				t.Errorf("source = %+v", rec.Source)
			}
			if tc.text != "" && rec.History[0].Text != tc.text {
				t.Errorf("text = %q", rec.History[0].Text)
			}
		})
	}
}

func TestWhatsAppRedeliveryIsProcessedOnce(t *testing.T) {
	w := newTestWorld(t)
	facts := w.collectFacts()
	v := w.addVisit(t, nil)
	body := waNotification("15551234567", waContactJSON("Visitor A", "16505551234"),
		waTextJSON("16505551234", "wamid.ONE", w.clock.Now().Add(time.Minute), "code "+w.code(v)))
	for i, want := range []hookAnswer{{Received: 1}, {Duplicates: 1}, {Duplicates: 1}} {
		status, ans, b := w.postWhatsApp(t, body)
		if status != 200 || ans != want {
			t.Fatalf("delivery %d: %d %s, want %+v", i+1, status, b, want)
		}
	}
	rec := w.chatRecordOf(t, "whatsapp:16505551234")
	if len(rec.History) != 1 || rec.Messages != 1 || len(facts.all()) != 1 {
		t.Errorf("redelivery changed the chat: history %+v, messages %d, facts %d", rec.History, rec.Messages, len(facts.all()))
	}
	// A batch that repeats one message and brings a new one.
	body = waNotification("15551234567", waContactJSON("Visitor A", "16505551234"),
		waTextJSON("16505551234", "wamid.ONE", w.clock.Now().Add(time.Minute), "code "+w.code(v)),
		waTextJSON("16505551234", "wamid.TWO", w.clock.Now().Add(2*time.Minute), "and a question"))
	if status, ans, b := w.postWhatsApp(t, body); status != 200 || ans != (hookAnswer{Received: 1, Duplicates: 1}) {
		t.Fatalf("%d %s", status, b)
	}
	rec = w.chatRecordOf(t, "whatsapp:16505551234")
	if len(rec.History) != 2 || rec.History[1].Kind != "message" || rec.Method != reports.MethodID || rec.Messages != 2 {
		t.Errorf("record = %+v", rec)
	}
}

func TestWhatsAppUserWithoutPhoneNumber(t *testing.T) {
	w := newTestWorld(t)
	v := w.addVisit(t, nil)
	ts := w.clock.Now().Add(time.Minute).Unix()
	// The business-scoped user ID shape: contacts carry user_id and a
	// username but no wa_id, and the message has no "from".
	body := []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15551234567","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Visitor A","username":"@visitor_a"},"user_id":"US.13491208655302741918"}],"messages":[{"id":"wamid.BSUID1","timestamp":"%d","type":"text","text":{"body":"Hello %s"}}]},"field":"messages"}]}]}`,
		ts, w.code(v)))
	status, ans, b := w.postWhatsApp(t, body)
	if status != 200 || ans.Received != 1 {
		t.Fatalf("%d %s", status, b)
	}
	rec := w.chatRecordOf(t, "whatsapp:US.13491208655302741918")
	if rec.Method != reports.MethodID || rec.Visit != w.visitID(v) || rec.Phone != "" || rec.Username != "@visitor_a" || rec.Name != "Visitor A" {
		t.Errorf("record = %+v", rec)
	}
}

func TestWhatsAppBadBodies(t *testing.T) {
	tests := []struct {
		name string
		body string
		want int
	}{
		{name: "malformed JSON", body: `{"object":"whatsapp_business_account","entry":[`, want: 400},
		{name: "wrong types", body: `{"object":"whatsapp_business_account","entry":"x"}`, want: 400},
		{name: "bad timestamp", body: string(waNotification("15551234567", waContactJSON("A", "16505551234"), `{"from":"16505551234","id":"x","timestamp":"soon","type":"text","text":{"body":"hi"}}`)), want: 400},
		{name: "empty object", body: `{}`, want: 200},
		{name: "message without sender", body: string(waNotification("15551234567", "", `{"id":"x","timestamp":"1","type":"text","text":{"body":"hi"}}`)), want: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newTestWorld(t)
			status, _, b := w.postWhatsApp(t, []byte(tc.body))
			if status != tc.want {
				t.Fatalf("status %d (%s), want %d", status, b, tc.want)
			}
			if n := w.rdb.ZCard(context.Background(), store.Chats("demo")).Val(); n != 0 {
				t.Errorf("stored %d chats", n)
			}
		})
	}
}

func TestWhatsAppAnswersOnlyAfterStoring(t *testing.T) {
	w := newTestWorld(t)
	body := sample(t, "whatsapp_text.json")
	good := w.srv.rdb
	// A Redis that does not answer: the platform must get an error, so it
	// redelivers.
	broken := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { broken.Close() })
	w.srv.rdb = broken
	status, _, b := w.postWhatsApp(t, body)
	w.srv.rdb = good
	if status < 500 {
		t.Fatalf("with Redis down: %d %s, want a 5xx", status, b)
	}
	if strings.Contains(b, "127.0.0.1") {
		t.Errorf("internal detail leaked: %s", b)
	}
	status, ans, b := w.postWhatsApp(t, body)
	if status != 200 || ans.Received != 1 {
		t.Fatalf("redelivery: %d %s", status, b)
	}
	if rec := w.chatRecordOf(t, "whatsapp:16505551234"); rec.Name != "Sheena Nelson" {
		t.Errorf("record = %+v", rec)
	}
}
