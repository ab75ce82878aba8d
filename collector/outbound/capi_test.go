package outbound

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store/redistest"
)

// graphErrorSample is Graph API's documented error answer.
const graphErrorSample = `{"error":{"message":"Message describing the error","type":"OAuthException","code":190,"error_subcode":460,"error_user_title":"A title","error_user_msg":"A message","fbtrace_id":"EJplcsCHuLu"}}`

// metaServer answers the Conversions API's events edge by its plan and
// keeps each request's events.
type metaServer struct {
	mu       sync.Mutex
	requests [][]map[string]any
	answer   func(n int) (int, string)
}

func (m *metaServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Data []map[string]any `json:"data"`
	}
	if r.URL.Path != "/v21.0/42/events" || json.NewDecoder(r.Body).Decode(&body) != nil {
		http.Error(w, `{"error":{"message":"Unsupported post request","type":"GraphMethodException","code":100}}`, 400)
		return
	}
	m.mu.Lock()
	m.requests = append(m.requests, body.Data)
	n := len(m.requests)
	m.mu.Unlock()
	status, answer := 200, fmt.Sprintf(`{"events_received":%d,"messages":[],"fbtrace_id":"AbC"}`, len(body.Data))
	if m.answer != nil {
		if s, a := m.answer(n); s != 0 {
			status, answer = s, a
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprint(w, answer)
}

func metaWorld(t *testing.T, m *metaServer) *world {
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	return newWorld(t, redistest.NewUniversal(t), fmt.Sprintf("    meta_capi: {dataset_id: \"42\", access_token: tok, base_url: %s/v21.0}\n", srv.URL))
}

func TestMetaTakesABatchAndRetriesItsTransientErrors(t *testing.T) {
	m := &metaServer{answer: func(n int) (int, string) {
		if n == 1 {
			return 500, `{"error":{"message":"An unexpected error has occurred. Please retry your request later.","type":"OAuthException","is_transient":true,"code":2,"fbtrace_id":"X"}}`
		}
		return 0, ""
	}}
	w := metaWorld(t, m)
	d := w.dispatcher("a", Options{})
	for i := range 3 {
		w.conversation(fmt.Sprintf("whatsapp:%d", i), t0, reports.MethodReferral)
	}
	w.conversation("whatsapp:9", t0, reports.MethodNone) // no ad: not Meta's
	drain(t, d)
	l, _ := w.admin.List(context.Background(), "demo", "pending", 10)
	if len(l) != 3 || !strings.Contains(l[0].Error, "code 2") {
		t.Fatalf("after a transient error: %+v", l)
	}
	w.clock.Advance(time.Minute)
	drain(t, d)
	if len(m.requests) != 2 || len(m.requests[1]) != 3 {
		t.Fatalf("requests %v", m.requests)
	}
	for _, ev := range m.requests[1] {
		if ev["event_name"] != "LeadSubmitted" || ev["user_data"].(map[string]any)["ctwa_clid"] != "ctwa-clid-A" {
			t.Errorf("event %v", ev)
		}
	}
}

func TestMetasPermanentErrorStopsAndShows(t *testing.T) {
	m := &metaServer{answer: func(int) (int, string) { return 400, graphErrorSample }}
	w := metaWorld(t, m)
	d := w.dispatcher("a", Options{})
	w.conversation("whatsapp:1", t0, reports.MethodReferral)
	drain(t, d)
	dead, _ := w.admin.List(context.Background(), "demo", "dead", 10)
	if len(dead) != 1 || dead[0].Attempts != 1 || !strings.Contains(dead[0].Error, "code 190 subcode 460") ||
		!strings.Contains(dead[0].Error, "EJplcsCHuLu") || dead[0].Status != 400 {
		t.Fatalf("dead letters %+v", dead)
	}
}

func TestMetaIsNotSentWhatItNoLongerTakes(t *testing.T) {
	m := &metaServer{}
	w := metaWorld(t, m)
	d := w.dispatcher("a", Options{})
	w.conversation("whatsapp:1", t0.Add(-8*24*time.Hour), reports.MethodReferral)
	drain(t, d)
	l, _ := w.admin.List(context.Background(), "demo", "delivered", 10)
	if len(m.requests) != 0 || len(l) != 1 || !strings.Contains(l[0].Error, "older than the 7 days") {
		t.Fatalf("requests %v, listed %+v", m.requests, l)
	}
}
