package collector

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/reports"
)

const demoAuth = "Bearer demo-key-123"

// attribute records an attributed conversation for chat, as the matcher
// hands it over.
func (w *testWorld) attribute(t *testing.T, chat, ad, title string, at time.Time) {
	t.Helper()
	err := w.srv.reports.RecordConversation(t.Context(), reports.Conversation{
		Site: "demo", Chat: chat, Time: at, Messenger: "whatsapp", Method: "referral", Confidence: 1,
		Channel: "messenger_ad", UTMSource: "facebook", AdID: ad, AdTitle: title, AdType: "ad",
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestEventsEndpoint(t *testing.T) {
	w := newTestWorld(t)
	w.clock.Advance(2 * time.Hour)
	w.attribute(t, "whatsapp:15557654321", "ad-1", "Ad one", testStart.Add(time.Minute))
	post := func(body string, auth string) (*http.Response, map[string]any) {
		resp, b := w.do(t, request("POST", "/v1/sites/demo/events", []byte(body), "Authorization", auth, "Content-Type", "application/json"))
		var out map[string]any
		_ = json.Unmarshal(b, &out)
		return resp, out
	}
	tests := []struct {
		name       string
		body       string
		auth       string
		wantStatus int
		want       map[string]any
		wantError  string
	}{
		{
			name:       "a purchase converts the open session",
			body:       `{"chat":"whatsapp:15557654321","category":"purchase","time":"2026-11-02T09:30:00Z","value":12.5,"id":"crm-1"}`,
			auth:       demoAuth,
			wantStatus: 200, want: map[string]any{"converted": true, "status": "converted", "conversion_event": "purchase"},
		},
		{
			name:       "the same ID again counts once",
			body:       `{"chat":"whatsapp:15557654321","category":"purchase","time":"2026-11-02T09:40:00Z","value":12.5,"id":"crm-1"}`,
			auth:       demoAuth,
			wantStatus: 200, want: map[string]any{"converted": false, "status": "duplicate"},
		},
		{
			name:       "a help-desk tag that is not the conversion event",
			body:       `{"chat":"whatsapp:15557654321","category":"won","time":"2026-11-02T09:45:00Z"}`,
			auth:       demoAuth,
			wantStatus: 200, want: map[string]any{"converted": false, "status": "other_category"},
		},
		{
			name:       "a chat without session, time defaulting to now",
			body:       `{"chat":"telegram:42","category":"purchase"}`,
			auth:       demoAuth,
			wantStatus: 200, want: map[string]any{"converted": false, "status": "no_session"},
		},
		{name: "no key", body: `{}`, auth: "", wantStatus: 401},
		{name: "the other site's key", body: `{"chat":"x","category":"purchase"}`, auth: "Bearer shop-key-456", wantStatus: 401},
		{name: "malformed JSON", body: `{"chat":`, auth: demoAuth, wantStatus: 400, wantError: "malformed JSON"},
		{name: "no chat", body: `{"category":"purchase"}`, auth: demoAuth, wantStatus: 400, wantError: "chat must be"},
		{name: "control characters in the chat", body: `{"chat":"whatsapp:1\u001b[2J","category":"purchase"}`, auth: demoAuth, wantStatus: 400, wantError: "chat must be"},
		{name: "HTML as category", body: `{"chat":"whatsapp:1","category":"<script>alert(1)</script>"}`, auth: demoAuth, wantStatus: 400, wantError: "category"},
		{name: "a bad time", body: `{"chat":"whatsapp:1","category":"purchase","time":"yesterday"}`, auth: demoAuth, wantStatus: 400, wantError: "RFC 3339"},
		{name: "a time in the future", body: `{"chat":"whatsapp:1","category":"purchase","time":"2027-01-01T00:00:00Z"}`, auth: demoAuth, wantStatus: 400, wantError: "future"},
		{name: "a value as text", body: `{"chat":"whatsapp:1","category":"purchase","value":"12"}`, auth: demoAuth, wantStatus: 400, wantError: "value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, out := post(tt.body, tt.auth)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %v", resp.StatusCode, tt.wantStatus, out)
			}
			for k, v := range tt.want {
				if out[k] != v {
					t.Errorf("%s = %v, want %v (%v)", k, out[k], v, out)
				}
			}
			if tt.wantStatus == 200 && out["converted"] == false && out["reason"] == "" {
				t.Errorf("no reason: %v", out)
			}
			if tt.wantError != "" && !strings.Contains(out["error"].(string), tt.wantError) {
				t.Errorf("error %q lacks %q", out["error"], tt.wantError)
			}
		})
	}
}

func TestConversionEventEndpoint(t *testing.T) {
	w := newTestWorld(t)
	resp, b := w.do(t, request("GET", "/v1/sites/demo/conversion-event", nil, "Authorization", demoAuth))
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"current":"purchase"`) {
		t.Fatalf("GET: %d %s", resp.StatusCode, b)
	}
	w.clock.Advance(time.Hour)
	resp, b = w.do(t, request("PUT", "/v1/sites/demo/conversion-event", []byte(`{"category":"won"}`), "Authorization", demoAuth))
	if resp.StatusCode != 200 {
		t.Fatalf("PUT: %d %s", resp.StatusCode, b)
	}
	var out conversionEventResponse
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Current != "won" || len(out.History) != 2 || out.History[0].Category != "purchase" ||
		!out.History[1].Since.Equal(testStart.Add(time.Hour)) {
		t.Errorf("answer = %+v", out)
	}
	resp, b = w.do(t, request("PUT", "/v1/sites/demo/conversion-event", []byte(`{"category":"a:b"}`), "Authorization", demoAuth))
	if resp.StatusCode != 400 {
		t.Errorf("bad category: %d %s", resp.StatusCode, b)
	}
}

func TestCostsEndpoint(t *testing.T) {
	w := newTestWorld(t)
	csvBody := "date,ad_id,cost,reach,impressions,clicks,currency\n2026-11-01,ad-1,10.5,100,120,3,USD\n2026-11-02,ad-1,4,50,60,1,USD\n"
	resp, b := w.do(t, request("POST", "/v1/sites/demo/costs", []byte(csvBody), "Authorization", demoAuth, "Content-Type", "text/csv"))
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"rows":2`) {
		t.Fatalf("CSV upload: %d %s", resp.StatusCode, b)
	}
	bad := `[{"date":"2026-11-03","ad_id":"ad-1","cost":"1"},{"date":"2026-11-04","ad_id":"ad-1","cost":"x"}]`
	resp, b = w.do(t, request("POST", "/v1/sites/demo/costs", []byte(bad), "Authorization", demoAuth, "Content-Type", "application/json"))
	if resp.StatusCode != 400 || !strings.Contains(string(b), "row 2") || !strings.Contains(string(b), "nothing stored") {
		t.Fatalf("bad JSON upload: %d %s", resp.StatusCode, b)
	}
	resp, b = w.do(t, request("GET", "/v1/sites/demo/reports/ads?from=2026-11-01&to=2026-11-04", nil, "Authorization", demoAuth))
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"cost":14.5`) {
		t.Fatalf("the rejected upload changed the costs, or the report failed: %d %s", resp.StatusCode, b)
	}
	resp, _ = w.do(t, request("POST", "/v1/sites/demo/costs", nil, "Authorization", demoAuth))
	if resp.StatusCode != 400 {
		t.Errorf("empty body: %d", resp.StatusCode)
	}
}

func TestReportsEndpoint(t *testing.T) {
	w := newTestWorld(t)
	w.clock.Advance(3 * time.Hour)
	w.attribute(t, "whatsapp:1", "ad-1", "=HYPERLINK(\"http://x\")", testStart.Add(time.Hour))
	w.attribute(t, "whatsapp:2", "ad-1", "=HYPERLINK(\"http://x\")", testStart.Add(time.Hour))
	if _, err := w.srv.reports.RecordEvent(t.Context(), reports.Event{Site: "demo", Chat: "whatsapp:1", Category: "purchase", Time: testStart.Add(2 * time.Hour), Value: 30}); err != nil {
		t.Fatal(err)
	}
	get := func(path, auth string) (*http.Response, []byte) {
		return w.do(t, request("GET", path, nil, "Authorization", auth))
	}

	t.Run("ads as JSON", func(t *testing.T) {
		resp, b := get("/v1/sites/demo/reports/ads?from=2026-11-02&to=2026-11-02", demoAuth)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		var rep reports.AdsReport
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		if len(rep.Rows) != 1 || rep.Rows[0].Conversations != 2 || *rep.Rows[0].Conversions != 1 ||
			*rep.Rows[0].ConversionRate != 0.5 || rep.Rows[0].Cost != nil || rep.Rows[0].Notes["cost"] == "" {
			t.Errorf("rows = %s", b)
		}
	})
	t.Run("ads as CSV with formulas neutralised", func(t *testing.T) {
		resp, b := get("/v1/sites/demo/reports/ads?from=2026-11-02&to=2026-11-02&format=csv", demoAuth)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(resp.Header.Get("Content-Disposition"), "demo-ads-2026-11-02_2026-11-02.csv") {
			t.Fatalf("%d %v", resp.StatusCode, resp.Header)
		}
		recs, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if recs[0][0] != "ad_id" || recs[1][1] != `'=HYPERLINK("http://x")` || recs[2][0] != "total" {
			t.Errorf("CSV = %q", recs)
		}
	})
	for _, name := range []string{"channels", "pages", "new-repeat", "dynamics?by=week"} {
		t.Run(name, func(t *testing.T) {
			sep := "?"
			if strings.Contains(name, "?") {
				sep = "&"
			}
			resp, b := get("/v1/sites/demo/reports/"+name+sep+"from=2026-10-01&to=2026-11-02", demoAuth)
			if resp.StatusCode != 200 || !strings.Contains(string(b), `"conversations":2`) {
				t.Errorf("%d %s", resp.StatusCode, b)
			}
		})
	}
	t.Run("default range ends today", func(t *testing.T) {
		resp, b := get("/v1/sites/demo/reports/ads", demoAuth)
		if resp.StatusCode != 200 || !strings.Contains(string(b), `"from":"2026-10-04","to":"2026-11-02"`) {
			t.Errorf("%d %s", resp.StatusCode, b)
		}
	})
	errs := []struct {
		name, path, auth string
		status           int
		want             string
	}{
		{"a bad date", "/v1/sites/demo/reports/ads?from=2026-13-01", demoAuth, 400, "not a date"},
		{"an impossible date", "/v1/sites/demo/reports/ads?from=2026-02-30&to=2026-03-01", demoAuth, 400, "not a date"},
		{"from after to", "/v1/sites/demo/reports/ads?from=2026-11-02&to=2026-11-01", demoAuth, 400, "after"},
		{"too long a range", "/v1/sites/demo/reports/ads?from=2020-01-01&to=2026-11-01", demoAuth, 400, "at most"},
		{"a bad format", "/v1/sites/demo/reports/ads?format=xlsx", demoAuth, 400, "format"},
		{"a bad grouping", "/v1/sites/demo/reports/dynamics?by=year", demoAuth, 400, "by="},
		{"an unknown report", "/v1/sites/demo/reports/everything", demoAuth, 404, "no report"},
		{"another site's key", "/v1/sites/demo/reports/ads", "Bearer shop-key-456", 401, "API key"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := get(tt.path, tt.auth)
			if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.want) {
				t.Errorf("%d %s, want %d with %q", resp.StatusCode, b, tt.status, tt.want)
			}
		})
	}
}

// TestMatcherFactsReachReports follows one person end to end: a visit from
// a campaign, a first message carrying its code, a purchase from the CRM;
// the chat record's sessions and the reports show it.
func TestMatcherFactsReachReports(t *testing.T) {
	w := newTestWorld(t)
	v := w.addVisit(t, func(v *visit.Visit) {
		v.Landing = "https://shop.test/roses?utm_source=google&utm_medium=cpc&utm_campaign=spring&utm_content=ad42"
		v.Page = "https://shop.test/roses/red"
	})
	w.clock.Advance(5 * time.Minute)
	msgTime := w.clock.Now()
	ans := w.postMessage(t, map[string]string{
		"channel": "whatsapp", "from": "15557654321", "to": "15551234567",
		"text": "Hello! My request code: " + w.code(v), "time": msgTime.Format(time.RFC3339),
	})
	if ans.Method != "id" {
		t.Fatalf("match = %+v", ans)
	}
	w.clock.Advance(time.Hour)
	resp, b := w.do(t, request("POST", "/v1/sites/demo/events",
		[]byte(`{"chat":"whatsapp:15557654321","category":"purchase","value":99}`), "Authorization", demoAuth))
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"converted":true`) {
		t.Fatalf("event: %d %s", resp.StatusCode, b)
	}
	rec := w.chatRecordOf(t, "whatsapp:15557654321")
	if len(rec.Sessions) != 1 {
		t.Fatalf("sessions = %v", rec.Sessions)
	}
	sess, _ := json.Marshal(rec.Sessions[0])
	if !strings.Contains(string(sess), `"status":"converted"`) || !strings.Contains(string(sess), `"value":99`) {
		t.Errorf("session = %s", sess)
	}
	resp, b = w.do(t, request("GET", "/v1/sites/demo/reports/pages?from=2026-11-02&to=2026-11-02", nil, "Authorization", demoAuth))
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"url":"https://shop.test/roses"`) || !strings.Contains(string(b), `"revenue":99`) {
		t.Errorf("pages report: %d %s", resp.StatusCode, b)
	}
}
