package collector

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/visit"
)

// sendBackAPI is a local WhatsApp Cloud API for the send-back: it checks
// each template message against the documented request (messaging_product,
// recipient_type, to, type template, the template's name, language code and
// a body parameter of type text) and keeps what it got. A number in
// notOnWhatsApp is refused as the API refuses a number without WhatsApp
// (code 131026); waIDs maps a number to the WhatsApp ID the API names.
type sendBackAPI struct {
	*httptest.Server
	mu            sync.Mutex
	sent          []sentTemplate
	notOnWhatsApp map[string]bool
	waIDs         map[string]string
}

type sentTemplate struct {
	To, Template, Language, Param string
}

func newSendBackAPI(t *testing.T) *sendBackAPI {
	t.Helper()
	a := &sendBackAPI{notOnWhatsApp: map[string]bool{}, waIDs: map[string]string{}}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body struct {
			Product       string `json:"messaging_product"`
			RecipientType string `json:"recipient_type"`
			To            string `json:"to"`
			Type          string `json:"type"`
			Template      struct {
				Name     string `json:"name"`
				Language struct {
					Code string `json:"code"`
				} `json:"language"`
				Components []struct {
					Type       string `json:"type"`
					Parameters []struct {
						Type string `json:"type"`
						Text string `json:"text"`
					} `json:"parameters"`
				} `json:"components"`
			} `json:"template"`
		}
		tpl := &body.Template
		if r.Method != "POST" || r.URL.Path != "/v25.0/106540352242922/messages" || r.Header.Get("Authorization") != "Bearer cloud-token" ||
			r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &body) != nil ||
			body.Product != "whatsapp" || body.RecipientType != "individual" || body.Type != "template" || body.To == "" ||
			tpl.Name == "" || tpl.Language.Code == "" || len(tpl.Components) != 1 || tpl.Components[0].Type != "body" ||
			len(tpl.Components[0].Parameters) != 1 || tpl.Components[0].Parameters[0].Type != "text" {
			t.Errorf("cloud API got %s %s %s", r.Method, r.URL.Path, b)
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":{"message":"(#100) Invalid parameter","type":"OAuthException","code":100}}`)
			return
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.notOnWhatsApp[body.To] {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":{"message":"(#131026) Message Undeliverable.","type":"OAuthException","code":131026,"error_data":{"messaging_product":"whatsapp","details":"Message Undeliverable."},"fbtrace_id":"AbCdEf"}}`)
			return
		}
		a.sent = append(a.sent, sentTemplate{body.To, tpl.Name, tpl.Language.Code, tpl.Components[0].Parameters[0].Text})
		waID := body.To
		if id := a.waIDs[body.To]; id != "" {
			waID = id
		}
		fmt.Fprintf(w, `{"messaging_product":"whatsapp","contacts":[{"input":%q,"wa_id":%q}],"messages":[{"id":"wamid.sb%d","message_status":"accepted"}]}`,
			body.To, waID, len(a.sent))
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *sendBackAPI) got() []sentTemplate {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]sentTemplate(nil), a.sent...)
}

// newSendBackWorld is the test world with the Cloud API, the send-back
// template and limits, and trusted proxies so a test picks the client's
// address.
func newSendBackWorld(t *testing.T, apiURL, limits string, siteLines ...string) *testWorld {
	t.Helper()
	extra := "    whatsapp_api: {base_url: \"" + apiURL + "/v25.0\", token: cloud-token, phone_number_id: \"106540352242922\"}\n" +
		"    whatsapp_rates: [{category: marketing, country: DE, price: 0.1365}]\n" +
		"    sendback: {template: callback_code, language: en_US, consent: \"We write to you once on WhatsApp.\", limits: {" + limits + "}}\n"
	for _, l := range siteLines {
		extra += "    " + l + "\n"
	}
	raw := "trusted_proxies: [0.0.0.0]\n" + strings.Replace(testConfigYAML, "    conversion_event: purchase\n", "    conversion_event: purchase\n"+extra, 1)
	return newTestWorld(t, raw)
}

// sendBack posts the widget's body from the demo site's page, from client
// address ip.
func (w *testWorld) sendBack(t *testing.T, ip, body string, headers ...string) (int, string, http.Header) {
	t.Helper()
	h := append([]string{"Origin", testOrigin, "Content-Type", "text/plain;charset=UTF-8", "X-Forwarded-For", ip}, headers...)
	resp, b := w.do(t, request("POST", "/v1/sendback", []byte(body), h...))
	return resp.StatusCode, string(b), resp.Header
}

func sendBackBody(v *visit.Visit, w *testWorld, phone string) string {
	return fmt.Sprintf(`{"site":"demo","visit":%q,"phone":%q}`, w.visitID(v), phone)
}

// Visitor A, from a spring campaign in Germany, leaves a national number;
// the template goes out with the visit's code; the chat is the visit's
// before the person answers; statuses and the reply count for the template;
// the person's answers continue the conversation, and a later click by
// another visit does not take the chat over.
func TestSendBackSendsAndAttributes(t *testing.T) {
	api := newSendBackAPI(t)
	w := newSendBackWorld(t, api.URL, "")
	visitA := w.addVisit(t, func(v *visit.Visit) {
		v.Country, v.Channel, v.UTMSource, v.UTMMedium, v.UTMCampaign = "DE", "paid_social", "facebook", "paid_social", "spring_sale"
		v.Page = "https://shop.test/sofas"
	})
	status, b, _ := w.sendBack(t, "81.2.69.160", sendBackBody(visitA, w, "01512 3456789"))
	if status != 200 || !strings.Contains(b, `"sent":true`) {
		t.Fatalf("send-back: %d %s", status, b)
	}
	token := w.demoSite().codec.Token(visitA.N)
	if got := api.got(); len(got) != 1 || got[0] != (sentTemplate{"4915123456789", "callback_code", "en_US", token}) {
		t.Fatalf("the Cloud API got %+v, want the template to 4915123456789 with %s", got, token)
	}
	chat := "whatsapp:4915123456789"
	rec := w.chatRecordOf(t, chat)
	if rec.Method != "send_back" || rec.Confidence != 1 || rec.Visit != w.visitID(visitA) || rec.Source.UTMCampaign != "spring_sale" ||
		rec.Source.Channel != "paid_social" || rec.Source.Page != "https://shop.test/sofas" || rec.Visitor.Country != "DE" || rec.Dialog != "new" {
		t.Fatalf("record before the answer: %+v", rec)
	}
	if len(rec.History) != 1 || rec.History[0].Kind != "conversation" || rec.History[0].Method != "send_back" || len(rec.Sessions) != 1 {
		t.Fatalf("history %+v sessions %+v", rec.History, rec.Sessions)
	}

	at := testStart.Add(time.Minute)
	pmp := `{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"}`
	if status, _, b := w.postWhatsApp(t, waStatuses(waStatusJSON("wamid.sb1", "delivered", at, "4915123456789", pmp))); status != 200 {
		t.Fatalf("status: %d %s", status, b)
	}
	w.clock.Set(testStart.Add(3 * time.Minute))
	reply := waTextJSON("4915123456789", "wamid.answer1", testStart.Add(3*time.Minute), "Yes please, the green sofa")
	status, ans, hb := w.postWhatsApp(t, waNotification("15551234567", waContactJSON("Visitor A", "4915123456789"), reply))
	if status != 200 || ans.Received != 1 {
		t.Fatalf("answer: %d %s", status, hb)
	}

	// Visit B clicks the chat link; the same person writes again without a
	// code: a continuation, never a guess.
	w.clock.Set(testStart.Add(10 * time.Minute))
	visitB := w.addVisit(t, func(v *visit.Visit) { v.Country, v.Channel = "DE", "organic_search" })
	w.clickOn(t, visitB, "whatsapp:15551234567", "https://shop.test/")
	again := waTextJSON("4915123456789", "wamid.answer2", testStart.Add(11*time.Minute), "Is it in stock?")
	if status, _, b := w.postWhatsApp(t, waNotification("15551234567", waContactJSON("Visitor A", "4915123456789"), again)); status != 200 {
		t.Fatalf("again: %d %s", status, b)
	}
	rec = w.chatRecordOf(t, chat)
	if rec.Method != "send_back" || rec.Visit != w.visitID(visitA) || rec.Messages != 2 || len(rec.Sessions) != 1 {
		t.Fatalf("after the answers: method %s visit %s messages %d sessions %d", rec.Method, rec.Visit, rec.Messages, len(rec.Sessions))
	}
	kinds := []string{}
	for _, h := range rec.History {
		kinds = append(kinds, h.Kind+"/"+h.Method)
	}
	if strings.Join(kinds, " ") != "conversation/send_back message/ message/" {
		t.Fatalf("history %v", kinds)
	}

	auth := []string{"Authorization", "Bearer demo-key-123"}
	resp, rb := w.do(t, request("GET", "/v1/sites/demo/reports/templates?from=2026-11-02&to=2026-11-02&format=csv", nil, auth...))
	want := "template,sent,delivered,read,failed,replied,clicked,delivery_rate,read_rate,reply_rate,cost\ncallback_code,1,1,0,0,1,0,1,0,1,0.1365\n"
	if resp.StatusCode != 200 || string(rb) != want {
		t.Fatalf("templates report: %d %q", resp.StatusCode, rb)
	}
	resp, rb = w.do(t, request("GET", "/v1/sites/demo/reports/channels?from=2026-11-02&to=2026-11-02", nil, auth...))
	var rep struct {
		Rows []struct {
			Channel       string `json:"channel"`
			Source        string `json:"source"`
			Conversations int    `json:"conversations"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(rb, &rep); err != nil || resp.StatusCode != 200 || len(rep.Rows) != 1 ||
		rep.Rows[0].Channel != "paid_social" || rep.Rows[0].Conversations != 1 {
		t.Fatalf("channels report: %d %s", resp.StatusCode, rb)
	}
	resp, rb = w.do(t, request("GET", "/v1/sites/demo/chats?method=send_back", nil, auth...))
	if resp.StatusCode != 200 || !strings.Contains(string(rb), `"method":"send_back"`) {
		t.Fatalf("chat list: %d %s", resp.StatusCode, rb)
	}
}

// The API names the person's WhatsApp ID, which can differ from the number
// typed; their answer comes from it and continues the send-back.
func TestSendBackChatIsTheWhatsAppID(t *testing.T) {
	api := newSendBackAPI(t)
	api.waIDs["5511912345678"] = "551112345678"
	w := newSendBackWorld(t, api.URL, "")
	v := w.addVisit(t, func(v *visit.Visit) { v.Country = "BR" })
	if status, b, _ := w.sendBack(t, "81.2.69.160", sendBackBody(v, w, "+55 11 91234-5678")); status != 200 {
		t.Fatalf("send-back: %d %s", status, b)
	}
	reply := waTextJSON("551112345678", "wamid.br1", testStart.Add(time.Minute), "Olá")
	if status, _, b := w.postWhatsApp(t, waNotification("15551234567", waContactJSON("Visitor B", "551112345678"), reply)); status != 200 {
		t.Fatalf("answer: %d %s", status, b)
	}
	if rec := w.chatRecordOf(t, "whatsapp:551112345678"); rec.Method != "send_back" || rec.Visit != w.visitID(v) || rec.Messages != 1 {
		t.Fatalf("record %+v", rec)
	}
}

// Everything a page cannot be trusted with is refused before the Cloud API
// is called.
func TestSendBackRefusals(t *testing.T) {
	api := newSendBackAPI(t)
	w := newSendBackWorld(t, api.URL, "")
	v := w.addVisit(t, func(v *visit.Visit) { v.Country = "DE" })
	id := w.visitID(v)
	for _, tc := range []struct {
		name, body string
		headers    []string
		want       int
		says       string
	}{
		{"not JSON", `{"site":"demo",`, nil, 400, "not {"},
		{"an unknown field", `{"site":"demo","visit":"` + id + `","phone":"+4915123456789","to":"x"}`, nil, 400, "unknown field"},
		{"an array", `["demo","` + id + `","+4915123456789"]`, nil, 400, "not {"},
		{"too large", `{"site":"demo","visit":"` + id + `","phone":"` + strings.Repeat("1", 2000) + `"}`, nil, 413, "over"},
		{"unknown site", `{"site":"nosuch","visit":"` + id + `","phone":"+4915123456789"}`, nil, 404, "unknown site"},
		{"hostile site", `{"site":"<script>alert(1)</script>","visit":"x","phone":"1"}`, nil, 404, "unknown site"},
		{"another site's page", `{"site":"demo","visit":"` + id + `","phone":"+4915123456789"}`, []string{"Origin", "http://other.test"}, 403, "not one of the site's origins"},
		{"no origin", `{"site":"demo","visit":"` + id + `","phone":"+4915123456789"}`, []string{"Origin", ""}, 403, "no Origin"},
		{"a site without send-back", `{"site":"shop","visit":"` + id + `","phone":"+4915123456789"}`, []string{"Origin", "http://other.test"}, 403, "send-back is off"},
		{"no visit", `{"site":"demo","visit":"","phone":"+4915123456789"}`, nil, 400, "visit is missing"},
		{"an unknown visit", `{"site":"demo","visit":"ZZZZZZ","phone":"+4915123456789"}`, nil, 404, "unknown or expired"},
		{"no phone", `{"site":"demo","visit":"` + id + `"}`, nil, 422, "invalid_phone"},
		{"letters", `{"site":"demo","visit":"` + id + `","phone":"+49 151 <img src=x>"}`, nil, 422, "only digits"},
		{"too short", `{"site":"demo","visit":"` + id + `","phone":"+49 15"}`, nil, 422, "too short"},
		{"not a number there", `{"site":"demo","visit":"` + id + `","phone":"+1 555 000 0000"}`, nil, 422, "not a valid number"},
		{"toll-free", `{"site":"demo","visit":"` + id + `","phone":"+1 800 253 0000"}`, nil, 422, "cannot have WhatsApp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, b, _ := w.sendBack(t, "81.2.69.160", tc.body, tc.headers...)
			if status != tc.want || !strings.Contains(b, tc.says) || !strings.HasPrefix(b, `{"error":`) && !strings.HasPrefix(b, `{"code":`) {
				t.Fatalf("%d %s, want %d saying %q", status, b, tc.want, tc.says)
			}
		})
	}
	if got := api.got(); len(got) != 0 {
		t.Fatalf("the Cloud API got %+v", got)
	}
}

// A number WhatsApp does not know is shown as such, and no chat is
// recorded for it.
func TestSendBackNotOnWhatsApp(t *testing.T) {
	api := newSendBackAPI(t)
	api.notOnWhatsApp["4915123456780"] = true
	w := newSendBackWorld(t, api.URL, "")
	v := w.addVisit(t, func(v *visit.Visit) { v.Country = "DE" })
	status, b, _ := w.sendBack(t, "81.2.69.160", sendBackBody(v, w, "+49 1512 3456780"))
	if status != 422 || !strings.Contains(b, `"code":"not_on_whatsapp"`) || !strings.Contains(b, "not on WhatsApp") {
		t.Fatalf("not on WhatsApp: %d %s", status, b)
	}
	resp, rb := w.do(t, request("GET", "/v1/sites/demo/chats/whatsapp:4915123456780", nil, "Authorization", "Bearer demo-key-123"))
	if resp.StatusCode != 404 {
		t.Fatalf("a chat was recorded: %d %s", resp.StatusCode, rb)
	}
}

// With the site's consent mode, nothing is sent without the visitor's
// consent.
func TestSendBackConsent(t *testing.T) {
	api := newSendBackAPI(t)
	w := newSendBackWorld(t, api.URL, "", "consent_required: true")
	v := w.addVisit(t, func(v *visit.Visit) { v.Country = "DE" })
	status, b, _ := w.sendBack(t, "81.2.69.160", sendBackBody(v, w, "+4915123456789"))
	if status != 403 || !strings.Contains(b, `"code":"no_consent"`) || len(api.got()) != 0 {
		t.Fatalf("without consent: %d %s, %d sent", status, b, len(api.got()))
	}
	status, b, _ = w.sendBack(t, "81.2.69.160", fmt.Sprintf(`{"site":"demo","visit":%q,"phone":"+4915123456789","consent":false}`, w.visitID(v)))
	if status != 403 || len(api.got()) != 0 {
		t.Fatalf("consent false: %d %s", status, b)
	}
	status, b, _ = w.sendBack(t, "81.2.69.160", fmt.Sprintf(`{"site":"demo","visit":%q,"phone":"+4915123456789","consent":true}`, w.visitID(v)))
	if status != 200 || len(api.got()) != 1 {
		t.Fatalf("with consent: %d %s", status, b)
	}
}

// Each limit answers with its own clear message and Retry-After; a
// refused request costs no window; windows end on time.
func TestSendBackLimits(t *testing.T) {
	api := newSendBackAPI(t)
	w := newSendBackWorld(t, api.URL, "per_visit: 2, per_ip_hour: 3, per_number_day: 1, per_site_hour: 4")
	v1 := w.addVisit(t, nil)
	v2 := w.addVisit(t, nil)
	v3 := w.addVisit(t, nil)
	type step struct {
		v      *visit.Visit
		ip     string
		phone  string
		want   int
		code   string
		retry  string
		advice string
	}
	run := func(steps []step) {
		t.Helper()
		for i, s := range steps {
			status, b, h := w.sendBack(t, s.ip, sendBackBody(s.v, w, s.phone))
			if status != s.want || !strings.Contains(b, s.code) || !strings.Contains(b, s.advice) || h.Get("Retry-After") != s.retry {
				t.Fatalf("step %d (%s from %s): %d %s Retry-After %q; want %d %s %q", i, s.phone, s.ip, status, b, h.Get("Retry-After"), s.want, s.code, s.retry)
			}
		}
	}
	ok := `"sent":true`
	run([]step{
		{v1, "81.2.69.160", "+4915123456781", 200, ok, "", ""},
		{v1, "81.2.69.160", "+4915123456781", 409, `"code":"already_sent"`, "54000", "already written to this number"},
		{v1, "81.2.69.160", "+4915123456782", 200, ok, "", ""},
		{v1, "81.2.69.160", "+4915123456783", 429, `"code":"limited"`, "8380800", "already asked us"},
		{v2, "81.2.69.160", "+4915123456783", 200, ok, "", ""},
		{v2, "81.2.69.160", "+4915123456784", 429, `"code":"limited"`, "3600", "try again later"},
		{v3, "203.0.113.9", "+4915123456784", 200, ok, "", ""},
		{v3, "203.0.113.9", "+4915123456785", 429, `"code":"limited"`, "3600", "try again later"},
	})
	if n := len(api.got()); n != 4 {
		t.Fatalf("%d templates sent, want 4", n)
	}
	// A new hour: the address and site windows are new; the number's day
	// is not.
	w.clock.Set(testStart.Add(time.Hour))
	run([]step{
		{v3, "203.0.113.9", "+4915123456785", 200, ok, "", ""},
		{v2, "198.51.100.7", "+4915123456781", 409, `"code":"already_sent"`, "50400", "already written"},
	})
	if n := len(api.got()); n != 5 {
		t.Fatalf("%d templates sent, want 5", n)
	}
	// The limits' keys never hold a number.
	keys := w.keys(t, "*:sb:*")
	if len(keys) == 0 {
		t.Fatal("no limit keys")
	}
	for _, k := range keys {
		if strings.Contains(k, "15123456") {
			t.Errorf("limit key %q holds a number", k)
		}
	}
}

// The widget's check reads the number as typed with the same rules, and
// gives the visit's country and the site's consent line.
func TestSendBackCheck(t *testing.T) {
	api := newSendBackAPI(t)
	w := newSendBackWorld(t, api.URL, "")
	v := w.addVisit(t, func(v *visit.Visit) { v.Country = "DE" })
	check := func(phone string) (int, map[string]any) {
		t.Helper()
		resp, b := w.do(t, request("POST", "/v1/sendback/check", []byte(sendBackBody(v, w, phone)), "Origin", testOrigin, "Content-Type", "text/plain"))
		var out map[string]any
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != testOrigin {
			t.Fatalf("no CORS answer for the page: %v", resp.Header)
		}
		return resp.StatusCode, out
	}
	if status, out := check(""); status != 200 || out["country"] != "DE" || out["calling_code"] != 49.0 ||
		out["consent"] != "We write to you once on WhatsApp." || out["valid"] != nil {
		t.Fatalf("empty: %d %v", status, out)
	}
	if status, out := check("0151 23"); status != 200 || out["valid"] != false || out["error"] != "This is not a valid number; check the digits and the country code." {
		t.Fatalf("short: %d %v", status, out)
	}
	if status, out := check("0151 2345 6789"); status != 200 || out["valid"] != true || out["e164"] != "+4915123456789" {
		t.Fatalf("valid: %d %v", status, out)
	}
	if len(api.got()) != 0 {
		t.Fatal("a check sent a template")
	}
}
