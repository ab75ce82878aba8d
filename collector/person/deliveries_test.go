package person_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/outbound"
	"github.com/messtrack/messtrack/collector/person"
	"github.com/messtrack/messtrack/store"
)

const hookSecret = "a-crm-receivers-secret-0123456789"

// crm is a webhook endpoint that checks each request's documented shape
// (POST, JSON, the event ID header equal to the envelope's, a signature of
// the exact body) and answers status.
type crm struct {
	t      *testing.T
	srv    *httptest.Server
	w      *world
	status int
	mu     sync.Mutex
	got    []string // the event IDs taken
}

func newCRM(t *testing.T, status int) *crm {
	c := &crm{t: t, status: status}
	c.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(rw, "read", 400)
			return
		}
		var env struct {
			ID   string          `json:"id"`
			Type string          `json:"type"`
			Site string          `json:"site"`
			Time string          `json:"time"`
			Data json.RawMessage `json:"data"`
		}
		switch {
		case r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json":
			c.t.Errorf("crm: %s with content type %q", r.Method, r.Header.Get("Content-Type"))
		case json.Unmarshal(body, &env) != nil || env.ID == "" || env.Site != "demo" || len(env.Data) == 0:
			c.t.Errorf("crm: envelope %s", body)
		case r.Header.Get(outbound.HeaderID) != env.ID:
			c.t.Errorf("crm: event ID header %q, envelope %q", r.Header.Get(outbound.HeaderID), env.ID)
		case r.Header.Get(outbound.HeaderSignature) != outbound.Sign(hookSecret, c.w.clock.Now(), body):
			c.t.Errorf("crm: signature %q does not sign the body", r.Header.Get(outbound.HeaderSignature))
		}
		c.mu.Lock()
		c.got = append(c.got, env.ID)
		c.mu.Unlock()
		rw.WriteHeader(c.status)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// step runs the dispatcher until nothing is due.
func (w *world) step(t *testing.T) {
	t.Helper()
	for range 50 {
		n, err := w.srv.Deliveries().Step(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("the deliveries did not settle in 50 steps")
}

func (w *world) purchase(t *testing.T, ch, id string) {
	t.Helper()
	code, b := w.do(t, "POST", "/v1/sites/demo/events",
		map[string]any{"chat": ch, "category": "purchase", "value": 120, "time": w.clock.Now().UTC().Format(time.RFC3339), "id": id}, auth, bearer)
	if code != 200 {
		t.Fatalf("event: %d %s", code, b)
	}
}

func (w *world) export(t *testing.T, ch string) (person.Export, string) {
	t.Helper()
	code, b := w.do(t, "GET", "/v1/sites/demo/people/"+url.PathEscape(ch), nil, auth, bearer)
	if code != 200 {
		t.Fatalf("export: %d %s", code, b)
	}
	var exp person.Export
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	return exp, string(b)
}

// A person's outbound deliveries, pending, delivered and dead, are in their
// export, and their erasure removes them with their lanes, dead letters and
// events not yet sent out; the bystander's deliveries stay.
func TestPersonsDeliveriesAreExportedAndErased(t *testing.T) {
	ok, flaky := newCRM(t, 200), newCRM(t, 503)
	w := newWorldYAML(t, configYAML+fmt.Sprintf(`    webhooks:
      - {url: %s, secret: %s}
      - {url: %s, secret: %s}
`, ok.srv.URL, hookSecret, flaky.srv.URL, hookSecret))
	ok.w, flaky.w = w, w
	ctx := context.Background()
	const bystander = "whatsapp:" + other

	prefill := w.visit(t, ip, "http://shop.test/sofa?utm_source=fb&utm_medium=cpc")
	w.message(t, "+1 555 010 2030", name, prefill+" "+text1, "m1")
	w.message(t, "+1 555 999 8877", otherName, "hello", "o1")
	w.step(t) // delivered to one CRM, retried by the other
	w.clock.Advance(27 * time.Hour)
	w.step(t) // the retried ones are dead letters now
	w.purchase(t, chat, "order-1")
	w.step(t) // delivered and pending
	w.clock.Advance(time.Minute)
	w.purchase(t, chat, "order-2")      // waits in the stream
	w.purchase(t, bystander, "order-3") // waits too

	exp, raw := w.export(t, chat)
	states := map[string]int{}
	for _, d := range exp.Deliveries {
		states[d.State]++
		if d.Chat != chat || d.Type == "" || d.Target == "" || d.Created == "" || d.Attempts == 0 && d.State != "pending" ||
			!strings.Contains(string(d.Payload), phone) {
			t.Errorf("exported delivery %+v with payload %s", d.Listed, d.Payload)
		}
	}
	if states["pending"] == 0 || states["delivered"] == 0 || states["dead"] == 0 {
		t.Fatalf("exported deliveries by state %v; want pending, delivered and dead", states)
	}
	listed := map[string]bool{}
	for _, k := range exp.Keys {
		listed[k.Key] = k.Erased
	}
	want := []string{store.OutboundChat("demo", chat), store.OutboundEvents("demo"), store.OutboundDead("demo")}
	for _, d := range exp.Deliveries {
		want = append(want, store.OutboundDelivery("demo", d.ID))
		if d.State == "pending" {
			want = append(want, store.OutboundLane("demo", outbound.WebhookName(flaky.srv.URL)+":"+strings.ReplaceAll(chat, ":", "%3A")))
		}
	}
	for _, k := range want {
		if erased, ok := listed[k]; !ok || !erased {
			t.Errorf("export keys lack %s (or keep it): %s", k, raw)
		}
	}
	// Every key that names the person's deliveries is listed.
	ids := map[string][]byte{}
	for _, d := range exp.Deliveries {
		ids["delivery "+d.ID] = []byte(d.ID)
	}
	for k := range scan(t, w.rdb, ids) {
		if _, ok := listed[k]; !ok {
			t.Errorf("key %s holds a delivery of the person but the export does not list it", k)
		}
	}
	bystanderBefore, _ := w.export(t, bystander)
	if len(bystanderBefore.Deliveries) == 0 {
		t.Fatal("the bystander has no deliveries")
	}

	if code, b := w.do(t, "DELETE", "/v1/sites/demo/people/"+url.PathEscape(chat), nil, auth, bearer); code != 204 {
		t.Fatalf("erase: %d %s", code, b)
	}
	w.step(t) // routes the bystander's waiting event; the person's is gone
	needles := map[string][]byte{"phone": []byte(phone), "name": []byte(name), "chat key in a key": []byte(strings.ReplaceAll(chat, ":", "%3A"))}
	for id, b := range ids {
		needles[id] = b
	}
	if left := scan(t, w.rdb, needles); len(left) != 0 {
		t.Errorf("after the erasure these keys still hold the person's deliveries: %v", left)
	}
	for _, d := range exp.Deliveries {
		if n := w.rdb.ZScore(ctx, store.OutboundIndex("demo"), d.ID).Err(); n == nil {
			t.Errorf("delivery %s is still in the site's delivery list", d.ID)
		}
	}
	bystanderAfter, _ := w.export(t, bystander)
	if len(bystanderAfter.Deliveries) != len(bystanderBefore.Deliveries)+2 {
		t.Errorf("bystander's deliveries %d after, %d before; want theirs kept and order-3's two added",
			len(bystanderAfter.Deliveries), len(bystanderBefore.Deliveries))
	}
	for i, d := range bystanderBefore.Deliveries {
		if i >= len(bystanderAfter.Deliveries) || bystanderAfter.Deliveries[i].ID != d.ID {
			t.Errorf("bystander's delivery %s was touched", d.ID)
		}
	}

	audit, err := w.rdb.LRange(ctx, store.PersonAudit("demo"), 0, -1).Result()
	if err != nil || len(audit) != 1 {
		t.Fatalf("audit %v, %v", audit, err)
	}
	var entry person.AuditEntry
	if err := json.Unmarshal([]byte(audit[0]), &entry); err != nil {
		t.Fatal(err)
	}
	e := entry.Erased
	if e.Deliveries != len(exp.Deliveries) || e.DeadLetters != states["dead"] || e.Lanes != 1 || e.WaitingEvents != 1 {
		t.Errorf("audit counts %+v; want %d deliveries, %d dead letters, 1 lane, 1 waiting event", e, len(exp.Deliveries), states["dead"])
	}
	after, rawAfter := w.export(t, chat)
	if len(after.Deliveries) != 0 || !strings.Contains(rawAfter, `"deliveries":[]`) {
		t.Errorf("export after the erasure: %s", rawAfter)
	}
}
