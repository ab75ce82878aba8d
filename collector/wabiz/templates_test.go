package wabiz_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/collector/ledger"
	"github.com/messtrack/messtrack/collector/wabiz"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/reports"
)

// cloudAPI is a local Cloud API: it checks each request against the
// documented shape of POST /{phone_number_id}/messages for a template and
// answers as the API does.
type cloudAPI struct {
	t      *testing.T
	srv    *httptest.Server
	calls  atomic.Int64
	refuse bool
}

func newCloudAPI(t *testing.T) *cloudAPI {
	api := &cloudAPI{t: t}
	api.srv = httptest.NewServer(http.HandlerFunc(api.serve))
	t.Cleanup(api.srv.Close)
	return api
}

func (a *cloudAPI) serve(w http.ResponseWriter, r *http.Request) {
	n := a.calls.Add(1)
	fail := func(format string, args ...any) {
		a.t.Errorf("cloud API: "+format, args...)
		http.Error(w, `{"error":{"message":"bad request","code":100}}`, http.StatusBadRequest)
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v25.0/106540352242922/messages" {
		fail("%s %s", r.Method, r.URL.Path)
		return
	}
	if r.Header.Get("Authorization") != "Bearer test-token" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		fail("headers %v", r.Header)
		return
	}
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
				Type       string            `json:"type"`
				Parameters []json.RawMessage `json:"parameters"`
			} `json:"components"`
		} `json:"template"`
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		fail("body %s: %v", b, err)
		return
	}
	if body.Product != "whatsapp" || body.RecipientType != "individual" || body.Type != "template" ||
		body.To == "" || body.Template.Name == "" || body.Template.Language.Code == "" {
		fail("body %s", b)
		return
	}
	for _, c := range body.Template.Components {
		if c.Type == "" {
			fail("component without type in %s", b)
			return
		}
	}
	if a.refuse {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":{"message":"(#132001) Template name does not exist in the translation","type":"OAuthException","code":132001,"fbtrace_id":"AbC"}}`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"messaging_product":"whatsapp","contacts":[{"input":"%s","wa_id":"%s"}],"messages":[{"id":"wamid.sent%d","message_status":"accepted"}]}`, body.To, body.To, n)
}

func newSendWorld(t *testing.T, api *cloudAPI) *world {
	t.Helper()
	raw := strings.Replace(testConfig, "    currency: USD\n",
		"    currency: USD\n    whatsapp_api: {base_url: \""+api.srv.URL+"/v25.0\", token: test-token, phone_number_id: \"106540352242922\"}\n", 1)
	cfg, err := config.Parse("test.yaml", []byte(raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t)
	w.cfg = cfg
	w.rep = reports.New(w.rdb, w.clock, cfg)
	w.svc = wabiz.New(wabiz.Options{Redis: w.rdb, Config: cfg, Ledger: ledger.New(w.rdb, nil), Clock: w.clock, HTTP: api.srv.Client()})
	return w
}

func TestSendCallsTheCloudAPIAndRecords(t *testing.T) {
	api := newCloudAPI(t)
	w := newSendWorld(t, api)
	ctx := context.Background()
	res, err := w.svc.Send(ctx, "demo", wabiz.SendRequest{To: "+1 650 555 1234", Template: "spring_sale", Language: "en_US", Category: "marketing",
		Components: json.RawMessage(`[{"type":"body","parameters":[{"type":"text","text":"Visitor A"}]}]`)})
	if err != nil {
		t.Fatal(err)
	}
	if res.MessageID != "wamid.sent1" || res.To != "16505551234" || res.WaID != "16505551234" || res.Status != "accepted" {
		t.Fatalf("result %+v", res)
	}
	// Its statuses and a button reply quoting it count for the template.
	w.clock.Set(w.clock.Now().Add(time.Minute))
	yes := true
	w.take(t, []inbound.Status{
		{MessageID: res.MessageID, Status: inbound.StatusRead, Time: w.clock.Now(), Chat: "whatsapp:16505551234", Phone: "16505551234",
			Pricing: &inbound.Pricing{Model: "PMP", Type: "regular", Category: "marketing", Billable: &yes}},
	})
	if err := w.svc.TakeReply(ctx, "demo", &inbound.Message{Messenger: "whatsapp", Chat: "whatsapp:16505551234",
		Time: w.clock.Now().Add(time.Minute), ReplyTo: res.MessageID, ButtonReply: true}); err != nil {
		t.Fatal(err)
	}
	rep, err := w.svc.Templates(ctx, "demo", reports.Range{From: "2025-11-03", To: "2025-11-03"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 1 {
		t.Fatalf("rows %+v", rep.Rows)
	}
	got := rep.Rows[0]
	if got.Template != "spring_sale" || got.Sent != 1 || got.Delivered != 1 || got.Read != 1 || got.Failed != 0 ||
		got.Replied != 1 || got.Clicked != 1 || got.Cost != 0.025 || *got.DeliveryRate != 1 || *got.ReadRate != 1 || *got.ReplyRate != 1 {
		t.Fatalf("row %+v", got)
	}

	// Refusals: the API's, and bad requests that never reach it.
	api.refuse = true
	_, err = w.svc.Send(ctx, "demo", wabiz.SendRequest{To: "16505551234", Template: "no_such", Language: "en_US"})
	var ae *wabiz.APIError
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != 132001 {
		t.Fatalf("refused send: %v", err)
	}
	calls := api.calls.Load()
	for name, req := range map[string]wabiz.SendRequest{
		"no number":     {To: "call me", Template: "spring_sale", Language: "en_US"},
		"no template":   {To: "16505551234", Language: "en_US"},
		"bad language":  {To: "16505551234", Template: "spring_sale", Language: "<en>"},
		"bad component": {To: "16505551234", Template: "spring_sale", Language: "en_US", Components: json.RawMessage(`{"type":"body"}`)},
		"control name":  {To: "16505551234", Template: "spring\x1fsale", Language: "en_US"},
	} {
		var ie *wabiz.InputError
		if _, err := w.svc.Send(ctx, "demo", req); !errors.As(err, &ie) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if api.calls.Load() != calls {
		t.Fatal("a refused request reached the API")
	}
	if _, err := w.svc.Send(ctx, "other", wabiz.SendRequest{To: "16505551234", Template: "x", Language: "en"}); !errors.Is(err, wabiz.ErrNotConfigured) {
		t.Fatalf("site without whatsapp_api: %v", err)
	}
}

// fact is one thing that happens to an outbound message in the seeded
// stream.
type fact struct {
	msg    int
	kind   string // record, sent, delivered, read, failed, reply, click
	at     time.Time
	priced bool
}

// TestTemplateReportEqualsModel runs a seeded stream of template records,
// statuses and replies, shuffled and partly duplicated, and checks the
// report against a plain count of the rules over the messages.
func TestTemplateReportEqualsModel(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			w := newWorld(t)
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(seed, 99))
			templates := []string{"spring_sale", "order_update", "=HYPERLINK(\"x\")", "<b>welcome</b>"}
			base := time.Date(2025, 10, 1, 8, 0, 0, 0, time.UTC)
			type msg struct {
				tpl                                               string
				at                                                time.Time
				delivered, read, failed, replied, clicked, priced bool
			}
			var msgs []msg
			var facts []fact
			for i := range 120 {
				m := msg{tpl: templates[rng.IntN(len(templates))], at: base.Add(time.Duration(rng.IntN(10*24*60)) * time.Minute)}
				facts = append(facts, fact{msg: i, kind: "record", at: m.at})
				switch r := rng.IntN(10); {
				case r < 1:
					m.failed = true
					facts = append(facts, fact{msg: i, kind: "failed", at: m.at.Add(time.Second)})
				default:
					facts = append(facts, fact{msg: i, kind: "sent", at: m.at.Add(time.Second), priced: true})
					m.priced = true
					if r < 8 {
						// A read may come without its delivered status.
						if rng.IntN(3) > 0 || r < 6 {
							m.delivered = true
						}
						if m.delivered && (r >= 6 || rng.IntN(2) == 0) {
							facts = append(facts, fact{msg: i, kind: "delivered", at: m.at.Add(2 * time.Second), priced: true})
						}
						if r < 6 {
							m.read = true
							facts = append(facts, fact{msg: i, kind: "read", at: m.at.Add(time.Minute)})
						}
						if r < 4 {
							m.replied = true
							kind := "reply"
							if r < 2 {
								kind, m.clicked = "click", true
							}
							facts = append(facts, fact{msg: i, kind: kind, at: m.at.Add(time.Hour)})
						}
					}
				}
				msgs = append(msgs, m)
			}
			rng.Shuffle(len(facts), func(i, j int) { facts[i], facts[j] = facts[j], facts[i] })
			facts = append(facts, facts[:30]...) // redeliveries
			yes := true
			for _, f := range facts {
				id := fmt.Sprintf("wamid.model%03d", f.msg)
				// Each message goes to its own person, so a reply answers
				// one template only.
				phone := fmt.Sprintf("1650555%04d", f.msg)
				chat := "whatsapp:" + phone
				var err error
				switch f.kind {
				case "record":
					err = w.svc.Record(ctx, "demo", wabiz.Outbound{MessageID: id, Template: msgs[f.msg].tpl, Language: "en_US", Category: "marketing", To: phone, Time: f.at})
				case "reply", "click":
					err = w.svc.TakeReply(ctx, "demo", &inbound.Message{Messenger: "whatsapp", Chat: chat, Time: f.at, ReplyTo: id, ButtonReply: f.kind == "click"})
				default:
					st := inbound.Status{MessageID: id, Status: f.kind, Time: f.at, Chat: chat, Phone: phone}
					if f.priced {
						st.Pricing = &inbound.Pricing{Model: "PMP", Type: "regular", Category: "marketing", Billable: &yes}
					}
					err = w.svc.TakeStatuses(ctx, "demo", []inbound.Status{st})
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			// The plain model: per template, counts over its messages.
			want := map[string]*reports.TemplateRow{}
			for _, m := range msgs {
				r := want[m.tpl]
				if r == nil {
					r = &reports.TemplateRow{Template: m.tpl}
					want[m.tpl] = r
				}
				r.Sent++
				if m.delivered {
					r.Delivered++
					if m.priced {
						r.Cost += 0.025
					}
				} else if m.failed {
					r.Failed++
				}
				if m.read {
					r.Read++
				}
				if m.replied {
					r.Replied++
				}
				if m.clicked {
					r.Clicked++
				}
			}
			rep, err := w.svc.Templates(ctx, "demo", reports.Range{From: "2025-10-01", To: "2025-10-31"}, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Rows) != len(want) {
				t.Fatalf("%d rows, want %d", len(rep.Rows), len(want))
			}
			for _, got := range rep.Rows {
				m := want[got.Template]
				if m == nil {
					t.Fatalf("row of %q", got.Template)
				}
				m.SetRates()
				m.Cost = float64(int64(m.Cost*1e6+0.5)) / 1e6
				if fmt.Sprint(got.Sent, got.Delivered, got.Read, got.Failed, got.Replied, got.Clicked, got.Cost) !=
					fmt.Sprint(m.Sent, m.Delivered, m.Read, m.Failed, m.Replied, m.Clicked, m.Cost) ||
					*got.DeliveryRate != *m.DeliveryRate {
					t.Errorf("%s: got %+v, want %+v", got.Template, got, *m)
				}
			}
			// The report of one template has its days, adding up to its row.
			one, err := w.svc.Templates(ctx, "demo", reports.Range{From: "2025-10-01", To: "2025-10-31"}, "spring_sale")
			if err != nil {
				t.Fatal(err)
			}
			if m := want["spring_sale"]; m != nil && (one.Totals.Sent != m.Sent || one.Totals.Replied != m.Replied || len(one.Rows) == 0 || one.Rows[0].Date == "") {
				t.Errorf("one template: %+v, want %+v", one.Totals, *m)
			}
		})
	}
}

func TestRecordRefusals(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for name, o := range map[string]wabiz.Outbound{
		"no id":        {Template: "t", To: "16505551234"},
		"hostile id":   {MessageID: "wamid.{x} y", Template: "t", To: "16505551234"},
		"no template":  {MessageID: "wamid.A", To: "16505551234"},
		"long name":    {MessageID: "wamid.A", Template: strings.Repeat("x", 600), To: "16505551234"},
		"bad category": {MessageID: "wamid.A", Template: "t", Category: "Mar keting!", To: "16505551234"},
		"bad to":       {MessageID: "wamid.A", Template: "t", To: "whatsapp:me"},
		"future":       {MessageID: "wamid.A", Template: "t", To: "16505551234", Time: w.clock.Now().Add(time.Hour)},
	} {
		var ie *wabiz.InputError
		if err := w.svc.Record(ctx, "demo", o); !errors.As(err, &ie) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
