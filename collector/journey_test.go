package collector

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/messtrack/messtrack/collector/intake"
)

// TestJourneyFromAdClickToReport follows visitor A from a paid-search
// landing page through a click on the WhatsApp button, the first message
// carrying the prefilled code, a purchase reported by the CRM and the day's
// ad cost, to the chat record, the ads report and the metrics.
func TestJourneyFromAdClickToReport(t *testing.T) {
	w := newTestWorld(t)
	landing := "https://shop.test/roses?utm_source=google&utm_medium=cpc&utm_campaign=spring&utm_content=roses-red&gclid=Cj0KCQ"
	body := jsonBody(t, map[string]string{"site": "demo", "url": landing, "landing": landing,
		"referrer": "https://www.google.com/", "lang": "en-US", "screen": "1440x900", "tz": "America/New_York"})
	resp, b := w.do(t, request("POST", "/v1/visits", body, "Origin", testOrigin, "Content-Type", "text/plain",
		"User-Agent", uaChromeWindows))
	if resp.StatusCode != 200 {
		t.Fatalf("visit: %d %s", resp.StatusCode, b)
	}
	var visit intake.VisitResponse
	if err := json.Unmarshal(b, &visit); err != nil {
		t.Fatal(err)
	}

	w.clock.Advance(40 * time.Second)
	click := jsonBody(t, map[string]string{"site": "demo", "visit": visit.Visit, "target": "whatsapp:15551234567",
		"page": "https://shop.test/roses/red"})
	if resp, b := w.do(t, request("POST", "/v1/clicks", click, "Origin", testOrigin)); resp.StatusCode != 204 {
		t.Fatalf("click: %d %s", resp.StatusCode, b)
	}

	// The person sends the prefilled text, as WhatsApp delivers it.
	w.clock.Advance(20 * time.Second)
	sent := w.clock.Now()
	text := strings.ReplaceAll("Hello! My request code: {id}", "{id}", visit.Code)
	hook := whatsappTextPayload(t, "15551234567", "15557654321", "Visitor A", "wamid.journey-1", sent, text)
	resp, b = w.do(t, request("POST", "/hooks/whatsapp/demo", hook,
		"X-Hub-Signature-256", hubSignature("test_app_secret", hook), "Content-Type", "application/json"))
	if resp.StatusCode != 200 {
		t.Fatalf("webhook: %d %s", resp.StatusCode, b)
	}

	w.clock.Advance(2 * time.Hour)
	event := fmt.Sprintf(`{"chat":"whatsapp:15557654321","category":"purchase","time":%q,"value":49.9,"id":"order-1"}`,
		w.clock.Now().Format(time.RFC3339))
	resp, b = w.do(t, request("POST", "/v1/sites/demo/events", []byte(event), "Authorization", demoAuth))
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"converted":true`) {
		t.Fatalf("event: %d %s", resp.StatusCode, b)
	}
	costs := "date,ad_id,cost,reach,impressions,clicks,currency\n2026-11-02,roses-red,20.00,900,1500,30,USD\n"
	resp, b = w.do(t, request("POST", "/v1/sites/demo/costs", []byte(costs), "Authorization", demoAuth, "Content-Type", "text/csv"))
	if resp.StatusCode/100 != 2 {
		t.Fatalf("costs: %d %s", resp.StatusCode, b)
	}

	resp, b = w.do(t, request("GET", "/v1/sites/demo/chats/whatsapp:15557654321", nil, "Authorization", demoAuth))
	if resp.StatusCode != 200 {
		t.Fatalf("chat: %d %s", resp.StatusCode, b)
	}
	var chat struct {
		Name           string  `json:"name"`
		FirstMessageAt string  `json:"first_message_at"`
		Dialog         string  `json:"dialog"`
		Method         string  `json:"method"`
		Confidence     float64 `json:"confidence"`
		Source         map[string]string
		Visitor        map[string]string
		Sessions       []map[string]any
	}
	if err := json.Unmarshal(b, &chat); err != nil {
		t.Fatalf("chat record %s: %v", b, err)
	}
	checks := []struct{ name, got, want string }{
		{name: "name", got: chat.Name, want: "Visitor A"},
		{name: "first message at the platform's time", got: chat.FirstMessageAt, want: sent.UTC().Format(time.RFC3339)},
		{name: "dialog", got: chat.Dialog, want: "new"},
		{name: "method", got: chat.Method, want: "id"},
		{name: "channel", got: chat.Source["channel"], want: "paid_search"},
		{name: "campaign", got: chat.Source["utm_campaign"], want: "spring"},
		{name: "ad", got: chat.Source["ad_id"], want: "roses-red"},
		{name: "ad type", got: chat.Source["ad_type"], want: "ad"},
		{name: "page of the click", got: chat.Source["page"], want: "https://shop.test/roses/red"},
		{name: "landing page", got: chat.Source["landing_page"], want: landing},
		{name: "click ID", got: chat.Source["click_id"], want: "Cj0KCQ"},
		{name: "browser", got: chat.Visitor["browser"], want: "Chrome 120"},
		{name: "screen", got: chat.Visitor["screen"], want: "1440x900"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("chat %s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if chat.Confidence != 1 || len(chat.Sessions) != 1 {
		t.Errorf("confidence %v, sessions %d; want 1 and 1: %s", chat.Confidence, len(chat.Sessions), b)
	}

	resp, b = w.do(t, request("GET", "/v1/sites/demo/reports/ads?from=2026-11-01&to=2026-11-03", nil, "Authorization", demoAuth))
	if resp.StatusCode != 200 {
		t.Fatalf("ads report: %d %s", resp.StatusCode, b)
	}
	var ads struct {
		Rows []map[string]any `json:"rows"`
	}
	if err := json.Unmarshal(b, &ads); err != nil {
		t.Fatal(err)
	}
	var row map[string]any
	for _, r := range ads.Rows {
		if r["ad_id"] == "roses-red" {
			row = r
		}
	}
	if row == nil {
		t.Fatalf("ads report has no row for roses-red: %s", b)
	}
	want := map[string]float64{"cost": 20, "conversations": 1, "conversions": 1, "cost_per_conversation": 20,
		"cost_per_conversion": 20, "conversion_rate": 1, "revenue": 49.9, "reach": 900}
	for k, v := range want {
		if got, _ := row[k].(float64); got != v {
			t.Errorf("ads report %s = %v, want %v", k, row[k], v)
		}
	}

	resp, b = w.do(t, request("GET", "/metrics", nil))
	if resp.StatusCode != 200 || !strings.Contains(string(b), `method="id"} 1`) {
		t.Errorf("metrics do not count the id match: %d", resp.StatusCode)
	}
}

// whatsappTextPayload is a Cloud API text-message webhook in the shape of
// Meta's reference, with non-ASCII written as \u escapes, as Meta sends it.
func whatsappTextPayload(t testing.TB, business, from, name, id string, at time.Time, text string) []byte {
	t.Helper()
	escaped := jsonASCII(text)
	return []byte(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{` +
		`"messaging_product":"whatsapp","metadata":{"display_phone_number":"` + business + `","phone_number_id":"106540352242922"},` +
		`"contacts":[{"profile":{"name":` + jsonASCII(name) + `},"wa_id":"` + from + `"}],` +
		`"messages":[{"from":"` + from + `","id":"` + id + `","timestamp":"` + strconv.FormatInt(at.Unix(), 10) + `",` +
		`"type":"text","text":{"body":` + escaped + `}}]},"field":"messages"}]}]}`)
}

// jsonASCII quotes s as a JSON string with every non-ASCII character
// written as a \u escape (astral ones as surrogate pairs), as Meta does.
func jsonASCII(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r > 0x7e:
			if r > 0xffff {
				hi, lo := utf16.EncodeRune(r)
				fmt.Fprintf(&b, "\\u%04x\\u%04x", hi, lo)
			} else {
				fmt.Fprintf(&b, "\\u%04x", r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
