package collector

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/messtrack/messtrack/collector/intake"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/visit"
)

// crmReceiver is a CRM's webhook endpoint that checks each delivery's
// signature with the shared secret.
type crmReceiver struct {
	mu     sync.Mutex
	bodies []map[string]any
	keys   []string
}

const crmSecret = "crm-shared-secret-0123456789"

func (c *crmReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	sig := r.Header.Get("X-Messtrack-Signature")
	ts, hexSig, _ := strings.Cut(strings.TrimPrefix(sig, "t="), ",v1=")
	mac := hmac.New(sha256.New, []byte(crmSecret))
	mac.Write([]byte(ts + "." + string(body)))
	if want := hex.EncodeToString(mac.Sum(nil)); !hmac.Equal([]byte(want), []byte(hexSig)) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.bodies = append(c.bodies, m)
	c.keys = append(c.keys, r.Header.Get("X-Messtrack-Id"))
	c.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func newExchangeWorld(t *testing.T) (*testWorld, *crmReceiver) {
	crm := &crmReceiver{}
	srv := httptest.NewServer(crm)
	t.Cleanup(srv.Close)
	raw := strings.Replace(testConfigYAML, "    conversion_event: purchase\n",
		"    conversion_event: purchase\n    webhooks:\n      - url: "+srv.URL+"/hooks/messtrack\n        secret: "+crmSecret+"\n", 1)
	return newTestWorld(t, raw), crm
}

func TestAnAttributedChatReachesTheCRMAsTheChatsAPIShowsIt(t *testing.T) {
	w, crm := newExchangeWorld(t)
	v := w.addVisit(t, func(v *visit.Visit) {
		v.UTMSource, v.UTMMedium, v.UTMCampaign, v.Channel = "google", "cpc", "spring", "paid_search"
	})
	w.clickOn(t, v, "whatsapp:15551234567", "https://shop.test/")
	w.clock.Advance(time.Minute)
	m := w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "15550001111", "to": "15551234567",
		"text": "Hello! My request code: " + w.code(v), "time": w.clock.Now().Format(time.RFC3339)})
	if m.Method != "id" {
		t.Fatalf("method %s", m.Method)
	}
	w.clock.Advance(time.Hour)
	resp, b := w.do(t, request("POST", "/v1/sites/demo/events",
		[]byte(`{"chat":"whatsapp:15550001111","category":"purchase","value":12.5,"id":"order-1"}`),
		"Authorization", demoAuth, "Content-Type", "application/json"))
	if resp.StatusCode != 200 {
		t.Fatalf("event: %d %s", resp.StatusCode, b)
	}
	for range 10 {
		n, err := w.srv.Deliveries().Step(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	crm.mu.Lock()
	bodies := crm.bodies
	crm.mu.Unlock()
	var typesSeen []string
	for _, b := range bodies {
		typesSeen = append(typesSeen, b["type"].(string))
	}
	want := []string{"conversation.started", "chat.attributed", "event.received", "session.converted"}
	if !reflect.DeepEqual(typesSeen, want) {
		t.Fatalf("the CRM got %v, want %v", typesSeen, want)
	}
	_, rec := w.do(t, request("GET", "/v1/sites/demo/chats/"+url.PathEscape("whatsapp:15550001111"), nil, "Authorization", demoAuth))
	var api any
	if err := json.Unmarshal(rec, &api); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(bodies[1]["data"], api) {
		t.Errorf("chat.attributed data\n%v\nis not the chat's record\n%v", bodies[1]["data"], api)
	}
	if bodies[1]["site"] != "demo" || crm.keys[1] != bodies[1]["id"] {
		t.Errorf("envelope %v, key %s", bodies[1], crm.keys[1])
	}

	// The deliveries' API: listed, replayed, guarded by the site's key.
	resp, b = w.do(t, request("GET", "/v1/sites/demo/deliveries?state=delivered", nil, "Authorization", demoAuth))
	var list struct {
		Deliveries []struct {
			ID, Type, State string
		} `json:"deliveries"`
	}
	if err := json.Unmarshal(b, &list); resp.StatusCode != 200 || err != nil || len(list.Deliveries) != 4 {
		t.Fatalf("list: %d %s", resp.StatusCode, b)
	}
	for _, c := range []struct {
		method, path, auth string
		status             int
	}{
		{"GET", "/v1/sites/demo/deliveries", "Bearer shop-key-456", 401},
		{"GET", "/v1/sites/demo/deliveries?state=lost", demoAuth, 400},
		{"GET", "/v1/sites/demo/deliveries?limit=0", demoAuth, 400},
		{"POST", "/v1/sites/demo/deliveries/nothing.webhook-1/replay", demoAuth, 404},
		{"POST", "/v1/sites/demo/deliveries/" + list.Deliveries[0].ID + "/replay", demoAuth, 200},
	} {
		resp, b := w.do(t, request(c.method, c.path, nil, "Authorization", c.auth))
		if resp.StatusCode != c.status {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, resp.StatusCode, b, c.status)
		}
	}
	if _, err := w.srv.Deliveries().Step(t.Context()); err != nil {
		t.Fatal(err)
	}
	crm.mu.Lock()
	if n := len(crm.bodies); n != 5 || !strings.HasPrefix(list.Deliveries[0].ID, crm.keys[4]+".") {
		t.Errorf("after replay: %d deliveries, key %v", n, crm.keys)
	}
	crm.mu.Unlock()
	if m := w.scrape(t); !strings.Contains(m, `messtrack_outbound_delivered_total{site="demo",target="webhook-`) {
		t.Errorf("metrics lack the delivered counter")
	}
}

// metaDataset is Meta's Conversions API for one dataset: it checks each
// request's shape as documented and answers as Graph does.
type metaDataset struct {
	t      *testing.T
	mu     sync.Mutex
	events []map[string]any
}

func (m *metaDataset) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != "POST" || r.URL.Path != "/v21.0/1234567890/events" || r.Header.Get("Content-Type") != "application/json" {
		m.t.Errorf("Meta got %s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		http.Error(w, `{"error":{"message":"Unknown path","type":"GraphMethodException","code":100}}`, 400)
		return
	}
	var body struct {
		Data         []map[string]any `json:"data"`
		PartnerAgent string           `json:"partner_agent"`
		AccessToken  string           `json:"access_token"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.AccessToken != "EAAB-token" || body.PartnerAgent == "" || len(body.Data) == 0 {
		m.t.Errorf("Meta got a body %+v (%v)", body, err)
		http.Error(w, `{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190,"fbtrace_id":"A"}}`, 400)
		return
	}
	m.mu.Lock()
	m.events = append(m.events, body.Data...)
	m.mu.Unlock()
	fmt.Fprintf(w, `{"events_received":%d,"messages":[],"fbtrace_id":"AbCdEf"}`, len(body.Data))
}

func TestAChatFromAWhatsAppAdAndItsPurchaseReachMeta(t *testing.T) {
	meta := &metaDataset{t: t}
	srv := httptest.NewServer(meta)
	t.Cleanup(srv.Close)
	raw := strings.Replace(testConfigYAML, "    conversion_event: purchase\n",
		"    conversion_event: purchase\n    meta_capi: {dataset_id: \"1234567890\", access_token: EAAB-token, whatsapp_business_account_id: \"102290129340398\", base_url: "+srv.URL+"/v21.0}\n", 1)
	sent := time.Unix(1739321024, 0).UTC() // the sample message's time
	w := newWorld(t, raw, sent.Add(time.Minute))
	if status, _, b := w.postWhatsApp(t, sample(t, "whatsapp_referral.json")); status != 200 {
		t.Fatalf("%d %s", status, b)
	}
	// A web chat without an ad click goes to no Meta dataset.
	w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "15550001111", "to": "15551234567", "text": "hi"})
	w.clock.Advance(time.Hour)
	resp, b := w.do(t, request("POST", "/v1/sites/demo/events",
		[]byte(`{"chat":"whatsapp:16505551234","category":"purchase","value":123,"id":"order-77","time":"`+sent.Add(30*time.Minute).Format(time.RFC3339)+`"}`),
		"Authorization", demoAuth, "Content-Type", "application/json"))
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"converted":true`) {
		t.Fatalf("event: %d %s", resp.StatusCode, b)
	}
	for range 5 {
		if _, err := w.srv.Deliveries().Step(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	meta.mu.Lock()
	defer meta.mu.Unlock()
	if len(meta.events) != 2 {
		t.Fatalf("Meta got %d events: %v", len(meta.events), meta.events)
	}
	const clid = "Aff-n8ZTODiE79d22KtAwQKj9e_mIEOOj27vDVwFjN80dp4_0NiNhEgpGo0AHemvuSoifXaytfTzcchptiErTKCqTrJ5nW1h7IHYeYymGb5K5J5iTROpBhWAGaIAeUzHL50"
	user := map[string]any{"whatsapp_business_account_id": "102290129340398", "ctwa_clid": clid}
	lead, purchase := meta.events[0], meta.events[1]
	if id, _ := lead["event_id"].(string); id == "" {
		t.Error("LeadSubmitted has no event_id")
	}
	delete(lead, "event_id")
	wantLead := map[string]any{"event_name": "LeadSubmitted", "event_time": float64(1739321024), "action_source": "business_messaging",
		"messaging_channel": "whatsapp", "user_data": user}
	if !reflect.DeepEqual(lead, wantLead) {
		t.Errorf("LeadSubmitted\n%v\nwant\n%v", lead, wantLead)
	}
	delete(purchase, "event_id")
	wantPurchase := map[string]any{"event_name": "Purchase", "event_time": float64(sent.Add(30 * time.Minute).Unix()), "action_source": "business_messaging",
		"messaging_channel": "whatsapp", "user_data": user, "custom_data": map[string]any{"currency": "USD", "value": float64(123)}}
	if !reflect.DeepEqual(purchase, wantPurchase) {
		t.Errorf("Purchase\n%v\nwant\n%v", purchase, wantPurchase)
	}
}

func TestAVisitKeepsTheAnalyticsClientIDsThePageHad(t *testing.T) {
	w := newTestWorld(t)
	for _, c := range []struct{ body, ga, ym string }{
		{`["demo","http://shop.test/","",1920,1080,180,null,"GA1.1.1234567890.1700000000","1700000000123456789"]`, "1234567890.1700000000", "1700000000123456789"},
		{`{"site":"demo","url":"http://shop.test/","ga":"GA1.2.42.1700000001","ym":"17000000001"}`, "42.1700000001", "17000000001"},
		{`["demo","http://shop.test/","",1920,1080,180,null,"<script>","1e9"]`, "", ""},
		{`["demo","http://shop.test/","",1920,1080,180,null]`, "", ""},
	} {
		resp, b := w.do(t, request("POST", "/v1/visits", []byte(c.body), "Origin", testOrigin, "Content-Type", "text/plain", "User-Agent", uaChromeWindows))
		var v intake.VisitResponse
		if resp.StatusCode != 200 || json.Unmarshal(b, &v) != nil {
			t.Fatalf("%s: %d %s", c.body, resp.StatusCode, b)
		}
		_, b = w.do(t, request("GET", "/v1/sites/demo/visits/"+v.Visit, nil, "Authorization", demoAuth))
		var view struct {
			GA string `json:"ga_client_id"`
			YM string `json:"ym_client_id"`
		}
		if err := json.Unmarshal(b, &view); err != nil || view.GA != c.ga || view.YM != c.ym {
			t.Errorf("%s: stored visit %s", c.body, b)
		}
	}
	if resp, b := w.do(t, request("POST", "/v1/visits", []byte(`["demo","http://shop.test/","",1,1,0,null,7]`), "Origin", testOrigin, "Content-Type", "text/plain", "User-Agent", uaChromeWindows)); resp.StatusCode != 400 {
		t.Errorf("a number for the GA cookie: %d %s", resp.StatusCode, b)
	}
}

// ga4Collect is GA4's Measurement Protocol endpoint; it checks each
// request's shape and answers as the validation endpoint does.
type ga4Collect struct {
	t      *testing.T
	mu     sync.Mutex
	bodies []map[string]any
}

func (g *ga4Collect) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.Method != "POST" || r.URL.Path != "/mp/collect" || q.Get("measurement_id") != "G-TEST123" || q.Get("api_secret") != "ga-secret" ||
		r.Header.Get("Content-Type") != "application/json" {
		g.t.Errorf("GA4 got %s %s (%s)", r.Method, r.URL, r.Header.Get("Content-Type"))
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		fmt.Fprint(w, `{"validationMessages":[{"fieldPath":"","description":"Unable to parse Measurement Protocol JSON payload.","validationCode":"VALUE_INVALID"}]}`)
		return
	}
	g.mu.Lock()
	g.bodies = append(g.bodies, body)
	g.mu.Unlock()
	fmt.Fprint(w, `{"validationMessages":[]}`)
}

// metricaUpload is Metrica's offline-conversion upload; it checks each
// request's shape and keeps each file with its type.
type metricaUpload struct {
	t     *testing.T
	mu    sync.Mutex
	files []string
}

func (m *metricaUpload) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != "POST" || r.URL.Path != "/management/v1/counter/44147844/offline_conversions/upload" ||
		r.Header.Get("Authorization") != "OAuth y0-token" || r.URL.Query().Get("comment") == "" {
		m.t.Errorf("Metrica got %s %s (%s)", r.Method, r.URL, r.Header.Get("Authorization"))
		http.Error(w, `{"errors":[{"error_type":"invalid_token","message":"Invalid oauth_token"}],"code":403,"message":"Invalid oauth_token"}`, 403)
		return
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		http.Error(w, `{"errors":[{"error_type":"invalid_parameter","message":"no file"}],"code":400,"message":"no file"}`, 400)
		return
	}
	b, _ := io.ReadAll(f)
	m.mu.Lock()
	m.files = append(m.files, r.URL.Query().Get("type")+"|"+hdr.Filename+"\n"+string(b))
	m.mu.Unlock()
	fmt.Fprint(w, `{"uploading":{"id":1,"source_quantity":1,"line_quantity":1,"client_id_type":"CLIENT_ID","status":"UPLOADED"}}`)
}

func TestAWebChatAndItsConversionReachGA4AndMetricaAsTheVisitor(t *testing.T) {
	ga := &ga4Collect{t: t}
	gaSrv := httptest.NewServer(ga)
	t.Cleanup(gaSrv.Close)
	ym := &metricaUpload{t: t}
	ymSrv := httptest.NewServer(ym)
	t.Cleanup(ymSrv.Close)
	raw := strings.Replace(testConfigYAML, "    conversion_event: purchase\n", "    conversion_event: purchase\n"+
		"    ga4: {measurement_id: G-TEST123, api_secret: ga-secret, base_url: "+gaSrv.URL+"}\n"+
		"    metrica: {counter_id: \"44147844\", token: y0-token, goal_chat: chat, goal_conversion: purchase, base_url: "+ymSrv.URL+"}\n", 1)
	w := newTestWorld(t, raw)
	if js := w.get(t, "/s/demo.js"); !strings.Contains(js, "_ym_uid") {
		t.Error("the snippet of a site sending to GA4 and Metrica does not read their cookies")
	}
	if js := newTestWorld(t).get(t, "/s/demo.js"); strings.Contains(js, "_ym_uid") {
		t.Error("the snippet of a site without analytics reads their cookies")
	}
	resp, b := w.do(t, request("POST", "/v1/visits",
		[]byte(`["demo","http://shop.test/?utm_source=google","",1920,1080,180,null,"GA1.1.1234567890.1700000000","1700000000123456789"]`),
		"Origin", testOrigin, "Content-Type", "text/plain", "User-Agent", uaChromeWindows))
	var v intake.VisitResponse
	if resp.StatusCode != 200 || json.Unmarshal(b, &v) != nil {
		t.Fatalf("visit: %d %s", resp.StatusCode, b)
	}
	w.clock.Advance(2 * time.Minute)
	sent := w.clock.Now()
	w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "15550001111", "to": "15551234567",
		"text": v.Text, "time": sent.Format(time.RFC3339)})
	w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "15550002222", "to": "15551234567", "text": "no code"})
	w.clock.Advance(time.Hour)
	resp, b = w.do(t, request("POST", "/v1/sites/demo/events",
		[]byte(`{"chat":"whatsapp:15550001111","category":"purchase","value":12.5,"id":"order-9"}`),
		"Authorization", demoAuth, "Content-Type", "application/json"))
	if resp.StatusCode != 200 {
		t.Fatalf("event: %d %s", resp.StatusCode, b)
	}
	converted := w.clock.Now()
	for range 5 {
		if _, err := w.srv.Deliveries().Step(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	ga.mu.Lock()
	defer ga.mu.Unlock()
	if len(ga.bodies) != 2 {
		t.Fatalf("GA4 got %d bodies: %v", len(ga.bodies), ga.bodies)
	}
	wantLead := map[string]any{"client_id": "1234567890.1700000000", "timestamp_micros": float64(sent.UnixMicro()),
		"events": []any{map[string]any{"name": "generate_lead", "params": map[string]any{"lead_source": "whatsapp", "method": "id", "engagement_time_msec": float64(1)}}}}
	if !reflect.DeepEqual(ga.bodies[0], wantLead) {
		t.Errorf("GA4 lead\n%v\nwant\n%v", ga.bodies[0], wantLead)
	}
	purchase := ga.bodies[1]["events"].([]any)[0].(map[string]any)
	params := purchase["params"].(map[string]any)
	if purchase["name"] != "purchase" || params["value"] != 12.5 || params["currency"] != "USD" || params["transaction_id"] == "" ||
		ga.bodies[1]["timestamp_micros"] != float64(converted.UnixMicro()) {
		t.Errorf("GA4 purchase %v", ga.bodies[1])
	}
	ym.mu.Lock()
	defer ym.mu.Unlock()
	want := []string{
		fmt.Sprintf("CHATS|messtrack.csv\nClientId,Target,DateTime\n1700000000123456789,chat,%d\n", sent.Unix()),
		fmt.Sprintf("BASIC|messtrack.csv\nClientId,Target,DateTime,Price,Currency\n1700000000123456789,purchase,%d,12.50,USD\n", converted.Unix()),
	}
	if !reflect.DeepEqual(ym.files, want) {
		t.Errorf("Metrica got\n%q\nwant\n%q", ym.files, want)
	}
}

// get fetches path and fails the test unless it answers 200.
func (w *testWorld) get(t *testing.T, path string) string {
	t.Helper()
	resp, b := w.do(t, request("GET", path, nil))
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}

func TestTheDashboardShowsDeadLettersAndSendsThemAgain(t *testing.T) {
	var up atomic.Bool
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(crm.Close)
	raw := strings.Replace(testConfigYAML, "    conversion_event: purchase\n",
		"    conversion_event: purchase\n    webhooks:\n      - url: "+crm.URL+"\n        secret: "+crmSecret+"\n        events: [conversation.started]\n", 1)
	w := newTestWorld(t, raw)
	w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "15550003333", "to": "15551234567", "text": "<b>hi</b>"})
	for range 30 {
		if _, err := w.srv.Deliveries().Step(t.Context()); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(time.Hour)
	}
	d := newDashClient(w)
	d.signIn(t, "demo", "demo-key-123")
	resp, page := d.get(t, "/dashboard/deliveries")
	if resp.StatusCode != 200 || !strings.Contains(page, "failing") || !strings.Contains(page, "answered 503: maintenance") ||
		!strings.Contains(page, "whatsapp:15550003333") || !strings.Contains(page, "Send again") {
		t.Fatalf("deliveries page: %d\n%s", resp.StatusCode, clip(page, 3000))
	}
	id := regexp.MustCompile(`name="id" value="([^"]+)"`).FindStringSubmatch(page)
	if id == nil {
		t.Fatal("no replay form")
	}
	if resp, _ := d.post(t, "/dashboard/deliveries/replay", url.Values{"id": {id[1]}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a replay without the CSRF token: %d", resp.StatusCode)
	}
	up.Store(true)
	resp, _ = d.post(t, "/dashboard/deliveries/replay", url.Values{"id": {id[1]}, "csrf": {csrfOf(t, page)}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/dashboard/deliveries?replayed=1" {
		t.Fatalf("replay: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, err := w.srv.Deliveries().Step(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, page = d.get(t, "/dashboard/deliveries?replayed=1")
	if !strings.Contains(page, "queued again") || !strings.Contains(page, "No dead letters") || !strings.Contains(page, "healthy") {
		t.Errorf("after the replay:\n%s", clip(page, 3000))
	}
}
