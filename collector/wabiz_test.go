package collector

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// cloudAPIServer is a local WhatsApp Cloud API: it takes a template
// message in the documented shape and answers with a message ID.
func cloudAPIServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		var body struct {
			Product  string `json:"messaging_product"`
			To       string `json:"to"`
			Type     string `json:"type"`
			Template struct {
				Name     string `json:"name"`
				Language struct {
					Code string `json:"code"`
				} `json:"language"`
				Components []map[string]any `json:"components"`
			} `json:"template"`
		}
		if r.URL.Path != "/v25.0/106540352242922/messages" || r.Header.Get("Authorization") != "Bearer cloud-token" ||
			json.Unmarshal(b, &body) != nil || body.Product != "whatsapp" || body.Type != "template" ||
			body.Template.Name == "" || body.Template.Language.Code == "" || body.To == "" {
			t.Errorf("cloud API got %s %s %s", r.URL.Path, r.Header.Get("Authorization"), b)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, `{"messaging_product":"whatsapp","contacts":[{"input":"%s","wa_id":"%s"}],"messages":[{"id":"wamid.cloud%d"}]}`, body.To, body.To, n)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func newWABizWorld(t *testing.T, apiURL string) *testWorld {
	t.Helper()
	raw := strings.Replace(testConfigYAML, "    conversion_event: purchase\n", "    conversion_event: purchase\n"+
		"    whatsapp_api: {base_url: \""+apiURL+"/v25.0\", token: cloud-token, phone_number_id: \"106540352242922\"}\n"+
		"    whatsapp_rates:\n      - {category: marketing, country: US, price: 0.025}\n", 1)
	return newTestWorld(t, raw)
}

func waStatusJSON(id, status string, at time.Time, to, pricing string) string {
	s := fmt.Sprintf(`{"id":%q,"status":%q,"timestamp":"%d","recipient_id":%q`, id, status, at.Unix(), to)
	if pricing != "" {
		s += `,"pricing":` + pricing
	}
	return s + "}"
}

func waStatuses(statuses ...string) []byte {
	return []byte(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp",` +
		`"metadata":{"display_phone_number":"15551234567","phone_number_id":"106540352242922"},"statuses":[` +
		strings.Join(statuses, ",") + `]},"field":"messages"}]}]}`)
}

// A click-to-WhatsApp ad whose link carries UTM tags brings visitor A;
// the operator sends a template through the send endpoint; the status
// webhooks and visitor A's button reply come back through the signed
// WhatsApp endpoint; the reports show the message's cost under the ad and
// the template's counts.
func TestWhatsAppBusinessThroughTheEndpoints(t *testing.T) {
	api, calls := cloudAPIServer(t)
	w := newWABizWorld(t, api.URL)
	auth := []string{"Authorization", "Bearer demo-key-123", "Content-Type", "application/json"}

	msg := `{"from":"16505551234","id":"wamid.in1","timestamp":"` + fmt.Sprint(testStart.Unix()) + `","type":"text","text":{"body":"Hi"},` +
		`"referral":{"source_url":"https://shop.test/spring?utm_source=facebook&utm_medium=paid_social&utm_campaign=spring_sale","source_id":"120226305854810726","source_type":"ad","headline":"Chat with us","ctwa_clid":"Aff-n8ZT"}}`
	if status, _, b := w.postWhatsApp(t, waNotification("15551234567", waContactJSON("Visitor A", "16505551234"), msg)); status != 200 {
		t.Fatalf("referral: %d %s", status, b)
	}
	rec := w.chatRecordOf(t, "whatsapp:16505551234")
	if rec.Source.UTMSource != "facebook" || rec.Source.UTMMedium != "paid_social" || rec.Source.UTMCampaign != "spring_sale" || rec.Source.AdID != "120226305854810726" {
		t.Fatalf("the ad link's UTM tags are not the chat's: %+v", rec.Source)
	}

	w.clock.Set(testStart.Add(time.Minute))
	resp, b := w.do(t, request("POST", "/v1/sites/demo/whatsapp/send", []byte(
		`{"to":"16505551234","template":"spring_sale","language":"en_US","category":"marketing","components":[{"type":"body","parameters":[{"type":"text","text":"A"}]}]}`), auth...))
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"message_id":"wamid.cloud1"`) {
		t.Fatalf("send: %d %s", resp.StatusCode, b)
	}
	pmp := `{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"}`
	at := testStart.Add(2 * time.Minute)
	// read before delivered, each twice, in two deliveries.
	for _, body := range [][]byte{
		waStatuses(waStatusJSON("wamid.cloud1", "read", at.Add(time.Minute), "16505551234", ""), waStatusJSON("wamid.cloud1", "sent", at, "16505551234", pmp)),
		waStatuses(waStatusJSON("wamid.cloud1", "delivered", at, "16505551234", pmp), waStatusJSON("wamid.cloud1", "read", at.Add(time.Minute), "16505551234", "")),
	} {
		status, ans, b := w.postWhatsApp(t, body)
		if status != 200 || ans.Statuses != 2 {
			t.Fatalf("statuses: %d %s", status, b)
		}
	}
	reply := `{"from":"16505551234","id":"wamid.in2","timestamp":"` + fmt.Sprint(at.Add(5*time.Minute).Unix()) + `","type":"button",` +
		`"context":{"from":"15551234567","id":"wamid.cloud1"},"button":{"text":"Yes","payload":"yes"}}`
	for range 2 { // a redelivered reply counts once
		if status, _, b := w.postWhatsApp(t, waNotification("15551234567", waContactJSON("Visitor A", "16505551234"), reply)); status != 200 {
			t.Fatalf("reply: %d %s", status, b)
		}
	}

	resp, b = w.do(t, request("GET", "/v1/sites/demo/reports/whatsapp?from=2026-11-02&to=2026-11-02&by=source", nil, auth...))
	var wa struct {
		Rows []struct {
			Channel  string
			Campaign string
			AdID     string `json:"ad_id"`
			Paid     int64
			Spend    float64
		}
		Totals struct {
			Paid  int64
			Spend float64
		}
		Currency string
	}
	if err := json.Unmarshal(b, &wa); err != nil || resp.StatusCode != 200 {
		t.Fatalf("whatsapp report: %d %s", resp.StatusCode, b)
	}
	if len(wa.Rows) != 1 || wa.Rows[0].Channel != "messenger_ad" || wa.Rows[0].Campaign != "spring_sale" ||
		wa.Rows[0].AdID != "120226305854810726" || wa.Rows[0].Paid != 1 || wa.Rows[0].Spend != 0.025 || wa.Totals.Spend != 0.025 || wa.Currency != "USD" {
		t.Fatalf("whatsapp report by source: %s", b)
	}
	resp, b = w.do(t, request("GET", "/v1/sites/demo/reports/templates?from=2026-11-02&to=2026-11-02&format=csv", nil, auth...))
	want := "template,sent,delivered,read,failed,replied,clicked,delivery_rate,read_rate,reply_rate,cost\nspring_sale,1,1,1,0,1,1,1,1,1,0.025\n"
	if resp.StatusCode != 200 || string(b) != want || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("templates CSV: %d %q", resp.StatusCode, b)
	}
	if calls.Load() != 1 {
		t.Fatalf("%d calls to the Cloud API", calls.Load())
	}
}

func TestWhatsAppBusinessRefusals(t *testing.T) {
	api, calls := cloudAPIServer(t)
	w := newWABizWorld(t, api.URL)
	send := `{"to":"16505551234","template":"spring_sale","language":"en_US"}`
	for _, tc := range []struct {
		name, method, path, key, body string
		want                          int
	}{
		{"no key", "POST", "/v1/sites/demo/whatsapp/send", "", send, 401},
		{"another site's key", "POST", "/v1/sites/demo/whatsapp/send", "shop-key-456", send, 401},
		{"report without key", "GET", "/v1/sites/demo/reports/whatsapp", "", "", 401},
		{"templates with another site's key", "GET", "/v1/sites/demo/reports/templates", "shop-key-456", "", 401},
		{"malformed JSON", "POST", "/v1/sites/demo/whatsapp/send", "demo-key-123", `{"to":`, 400},
		{"unknown field", "POST", "/v1/sites/demo/whatsapp/send", "demo-key-123", `{"to":"1","tmpl":"x"}`, 400},
		{"oversized", "POST", "/v1/sites/demo/whatsapp/outbound", "demo-key-123", `{"template":"` + strings.Repeat("x", 70<<10) + `"}`, 413},
		{"hostile template", "POST", "/v1/sites/demo/whatsapp/send", "demo-key-123", `{"to":"16505551234","template":"a\u0000b","language":"en_US"}`, 400},
		{"no whatsapp_api", "POST", "/v1/sites/shop/whatsapp/send", "shop-key-456", send, 403},
		{"bad record", "POST", "/v1/sites/demo/whatsapp/outbound", "demo-key-123", `{"message_id":"wamid.{1}","template":"t","to":"16505551234"}`, 400},
		{"bad by", "GET", "/v1/sites/demo/reports/whatsapp?by=week", "demo-key-123", "", 400},
		{"bad format", "GET", "/v1/sites/demo/reports/templates?format=xml", "demo-key-123", "", 400},
		{"bad range", "GET", "/v1/sites/demo/reports/whatsapp?from=2026-13-01", "demo-key-123", "", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := []string{"Content-Type", "application/json"}
			if tc.key != "" {
				h = append(h, "Authorization", "Bearer "+tc.key)
			}
			resp, b := w.do(t, request(tc.method, tc.path, []byte(tc.body), h...))
			if resp.StatusCode != tc.want || !strings.Contains(string(b), `"error"`) {
				t.Fatalf("%d %s, want %d", resp.StatusCode, b, tc.want)
			}
		})
	}
	if calls.Load() != 0 {
		t.Fatalf("a refused request reached the Cloud API %d times", calls.Load())
	}
	// A record-only message, then its status with a bad signature: refused, not counted.
	resp, b := w.do(t, request("POST", "/v1/sites/demo/whatsapp/outbound", []byte(
		`{"message_id":"wamid.elsewhere1","template":"order_update","language":"en","category":"utility","to":"+1 650 555 1234","time":"2026-11-02T08:00:00Z"}`),
		"Authorization", "Bearer demo-key-123"))
	if resp.StatusCode != 200 {
		t.Fatalf("record: %d %s", resp.StatusCode, b)
	}
	body := waStatuses(waStatusJSON("wamid.elsewhere1", "delivered", testStart, "16505551234", ""))
	resp, _ = w.do(t, request("POST", "/hooks/whatsapp/demo", body, "X-Hub-Signature-256", hubSignature("wrong", body)))
	if resp.StatusCode != 403 {
		t.Fatalf("bad signature: %d", resp.StatusCode)
	}
	resp, b = w.do(t, request("GET", "/v1/sites/demo/reports/templates?from=2026-11-02&to=2026-11-02&template=order_update", nil, "Authorization", "Bearer demo-key-123"))
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"sent":1,"delivered":0`) || !strings.Contains(string(b), `"date":"2026-11-02"`) {
		t.Fatalf("one template: %d %s", resp.StatusCode, b)
	}
}

// Operators tag a chat; the tags are in its record, kept across its later
// messages, and in the person's export; hostile tags stay text.
func TestChatTags(t *testing.T) {
	w := newTestWorld(t)
	auth := []string{"Authorization", "Bearer demo-key-123", "Content-Type", "application/json"}
	put := func(chat, body string, h ...string) (int, string) {
		resp, b := w.do(t, request("PUT", "/v1/sites/demo/chats/"+chat+"/tags", []byte(body), h...))
		return resp.StatusCode, string(b)
	}
	if status, b := put("whatsapp:16505551234", `{"tags":["sofa"]}`, auth...); status != 404 {
		t.Fatalf("tags on no chat: %d %s", status, b)
	}
	msg := waTextJSON("16505551234", "wamid.t1", testStart, "hello")
	if status, _, b := w.postWhatsApp(t, waNotification("15551234567", waContactJSON("Visitor A", "16505551234"), msg)); status != 200 {
		t.Fatalf("%d %s", status, b)
	}
	status, b := put("whatsapp%3A16505551234", `{"tags":["Sofa","<img src=x onerror=alert(1)>","sofa"," lead: hot "]}`, auth...)
	if status != 200 || b != `{"chat":"whatsapp:16505551234","tags":["Sofa","\u003cimg src=x onerror=alert(1)\u003e","lead: hot"]}` {
		t.Fatalf("put: %d %s", status, b)
	}
	msg = waTextJSON("16505551234", "wamid.t2", testStart.Add(time.Minute), "still there?")
	if status, _, b := w.postWhatsApp(t, waNotification("15551234567", waContactJSON("Visitor A", "16505551234"), msg)); status != 200 {
		t.Fatalf("%d %s", status, b)
	}
	resp, ex := w.do(t, request("GET", "/v1/sites/demo/people/whatsapp:16505551234", nil, auth...))
	var export struct {
		Record struct{ Tags []string }
		Tags   []string
	}
	if err := json.Unmarshal(ex, &export); err != nil || resp.StatusCode != 200 ||
		strings.Join(export.Record.Tags, "|") != "Sofa|<img src=x onerror=alert(1)>|lead: hot" || len(export.Tags) != 3 {
		t.Fatalf("export after a later message: %d %s", resp.StatusCode, ex)
	}
	resp, rb := w.do(t, request("GET", "/v1/sites/demo/chats/whatsapp:16505551234", nil, auth...))
	var rec struct{ Tags []string }
	if err := json.Unmarshal(rb, &rec); err != nil || resp.StatusCode != 200 ||
		strings.Join(rec.Tags, "|") != "Sofa|<img src=x onerror=alert(1)>|lead: hot" {
		t.Fatalf("chat record's tags: %d %s", resp.StatusCode, rb)
	}
	for tag, want := range map[string]int{"sofa": 1, "LEAD:%20HOT": 1, "armchair": 0} {
		resp, lb := w.do(t, request("GET", "/v1/sites/demo/chats?tag="+tag, nil, auth...))
		var list struct{ Chats []struct{ Chat string } }
		if err := json.Unmarshal(lb, &list); err != nil || resp.StatusCode != 200 || len(list.Chats) != want {
			t.Errorf("chats with tag %s: %d %s, want %d", tag, resp.StatusCode, lb, want)
		}
	}
	for _, tc := range []struct {
		body string
		h    []string
		want int
	}{
		{`{"tags":["x"]}`, nil, 401},
		{`{"tags":["x"]}`, []string{"Authorization", "Bearer shop-key-456"}, 401},
		{`{"tag":["x"]}`, auth, 400},
		{`{"tags":"x"}`, auth, 400},
		{`{"tags":[` + strings.Repeat(`"t",`, 5000) + `"t"]}`, auth, 413},
		{`{"tags":["` + strings.Repeat("x", 41) + `"]}`, auth, 400},
	} {
		if status, b := put("whatsapp:16505551234", tc.body, tc.h...); status != tc.want {
			t.Errorf("%.40s: %d %s, want %d", tc.body, status, b, tc.want)
		}
	}
}

// A person's message within 24 hours after a template message counts as
// its reply, also without quoting it and also when the template is
// recorded after the reply came; one a day and more later does not.
func TestTemplateRepliesWithinADay(t *testing.T) {
	w := newWABizWorld(t, "http://127.0.0.1:9")
	auth := []string{"Authorization", "Bearer demo-key-123", "Content-Type", "application/json"}
	record := func(id, to string, at time.Time) {
		t.Helper()
		body := fmt.Sprintf(`{"message_id":%q,"template":"reminder","language":"en","category":"utility","to":%q,"time":%q}`, id, to, at.Format(time.RFC3339))
		if resp, b := w.do(t, request("POST", "/v1/sites/demo/whatsapp/outbound", []byte(body), auth...)); resp.StatusCode != 200 {
			t.Fatalf("record: %d %s", resp.StatusCode, b)
		}
	}
	write := func(from, id string, at time.Time) {
		t.Helper()
		if status, _, b := w.postWhatsApp(t, waNotification("15551234567", waContactJSON("Visitor", from), waTextJSON(from, id, at, "ok"))); status != 200 {
			t.Fatalf("%d %s", status, b)
		}
	}
	sent := testStart.Add(-30 * time.Hour)
	record("wamid.r1", "16505550001", sent) // answered 23 hours later: replied
	write("16505550001", "wamid.a1", sent.Add(23*time.Hour))
	record("wamid.r2", "16505550002", sent) // answered 25 hours later: not
	write("16505550002", "wamid.a2", sent.Add(25*time.Hour))
	write("16505550003", "wamid.a3", sent.Add(2*time.Hour)) // the reply came first
	record("wamid.r3", "16505550003", sent)
	resp, b := w.do(t, request("GET", "/v1/sites/demo/reports/templates?from=2026-10-31&to=2026-11-02", nil, auth...))
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"template":"reminder","sent":3,"delivered":0,"read":0,"failed":0,"replied":2,"clicked":0`) {
		t.Fatalf("replies: %d %s", resp.StatusCode, b)
	}
}
