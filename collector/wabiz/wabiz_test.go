package wabiz_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/collector/ledger"
	"github.com/messtrack/messtrack/collector/wabiz"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

const testConfig = `
sites:
  demo:
    api_key: demo-key-123
    currency: USD
    whatsapp_rates:
      - {category: marketing, country: US, price: 0.025}
      - {category: marketing, price: 0.0625}
      - {category: utility, country: MY, price: 0.014, per: conversation}
      - {category: utility, price: 0.004}
  other:
    api_key: other-key-456
`

type world struct {
	rdb   redis.UniversalClient
	clock *store.ManualClock
	cfg   *config.Config
	svc   *wabiz.Service
	rep   *reports.Store
}

func newWorld(t *testing.T) *world {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(testConfig), nil)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redistest.NewUniversal(t)
	clock := store.NewManualClock(time.Date(2025, 11, 3, 12, 0, 0, 0, time.UTC))
	rep := reports.New(rdb, clock, cfg)
	svc := wabiz.New(wabiz.Options{Redis: rdb, Config: cfg, Ledger: ledger.New(rdb, nil), Clock: clock})
	return &world{rdb: rdb, clock: clock, cfg: cfg, svc: svc, rep: rep}
}

// statuses reads a sample notification's statuses.
func statuses(t *testing.T, name string) []inbound.Status {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "platform-samples", name))
	if err != nil {
		t.Fatal(err)
	}
	p, err := inbound.ReadWhatsApp(b, time.Date(2025, 11, 3, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Statuses) == 0 {
		t.Fatalf("%s holds no status", name)
	}
	return p.Statuses
}

func (w *world) take(t *testing.T, sts []inbound.Status) {
	t.Helper()
	if err := w.svc.TakeStatuses(context.Background(), "demo", sts); err != nil {
		t.Fatal(err)
	}
}

func (w *world) whatsApp(t *testing.T, from, to, by string) *reports.WhatsAppReport {
	t.Helper()
	rep, err := w.svc.WhatsApp(context.Background(), "demo", reports.Range{From: from, To: to}, by)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// permutations calls fn with every order of n items.
func permutations(n int, fn func([]int)) {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	var rec func(k int)
	rec = func(k int) {
		if k == n {
			fn(append([]int(nil), idx...))
			return
		}
		for i := k; i < n; i++ {
			idx[k], idx[i] = idx[i], idx[k]
			rec(k + 1)
			idx[k], idx[i] = idx[i], idx[k]
		}
	}
	rec(0)
}

// One marketing message under per-message pricing: sent, delivered and
// read, in every order, some twice, and a read without its delivered:
// one paid unit at the US rate, whatever the order.
func TestPerMessageStatusesInAnyOrderCountOnce(t *testing.T) {
	files := []string{"whatsapp_status_pmp_sent.json", "whatsapp_status_pmp_delivered.json", "whatsapp_status_read.json"}
	permutations(len(files), func(order []int) {
		w := newWorld(t)
		for _, i := range order {
			w.take(t, statuses(t, files[i]))
			w.take(t, statuses(t, files[i])) // a redelivery
		}
		rep := w.whatsApp(t, "2025-11-02", "2025-11-02", "")
		want := reports.WhatsAppRow{Date: "2025-11-02", Category: "marketing", Paid: 1, Spend: 0.025}
		if len(rep.Rows) != 1 || rep.Rows[0] != want {
			t.Fatalf("order %v: rows %+v, want %+v", order, rep.Rows, want)
		}
		if rep.Totals.Paid != 1 || rep.Totals.Spend != 0.025 || rep.Currency != "USD" {
			t.Fatalf("order %v: totals %+v %s", order, rep.Totals, rep.Currency)
		}
	})
	// Read alone (delivered implied), then the sent status with pricing.
	w := newWorld(t)
	w.take(t, statuses(t, "whatsapp_status_read.json"))
	if rep := w.whatsApp(t, "2025-11-02", "2025-11-02", ""); rep.Totals.Paid != 0 {
		t.Fatalf("priced without pricing: %+v", rep.Totals)
	}
	w.take(t, statuses(t, "whatsapp_status_pmp_sent.json"))
	if rep := w.whatsApp(t, "2025-11-02", "2025-11-02", ""); rep.Totals.Paid != 1 || rep.Totals.Spend != 0.025 {
		t.Fatalf("read then sent: %+v", rep.Totals)
	}
}

func TestPricingShapes(t *testing.T) {
	w := newWorld(t)
	for _, f := range []string{
		"whatsapp_status_pmp_free_entry_point.json",      // free, entry point, 2025-11-02
		"whatsapp_status_pmp_free_customer_service.json", // sent only: not delivered, no unit
		"whatsapp_status_failed.json",                    // failed: no unit
		"whatsapp_status_cbp_sent.json",                  // CBP utility, MY, 2023-09-12
		"whatsapp_status_cbp_delivered.json",
		"whatsapp_status_cbp_referral_conversion.json", // CBP free entry point, 2025-06-25
		"whatsapp_status_cbp_delivered.json",           // again
	} {
		w.take(t, statuses(t, f))
	}
	rep := w.whatsApp(t, "2023-09-01", "2025-11-02", "")
	want := []reports.WhatsAppRow{
		{Date: "2023-09-12", Category: "utility", Paid: 1, Spend: 0.014},
		{Date: "2025-06-25", Category: "referral_conversion", Free: 1, FreeEntryPoints: 1},
		{Date: "2025-11-02", Category: "service", Free: 1, FreeEntryPoints: 1},
	}
	if len(rep.Rows) != len(want) {
		t.Fatalf("rows %+v", rep.Rows)
	}
	for i := range want {
		if rep.Rows[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, rep.Rows[i], want[i])
		}
	}
	if rep.Totals.Free != 2 || rep.Totals.Paid != 1 || rep.Totals.FreeEntryPoints != 2 || rep.Totals.Spend != 0.014 {
		t.Errorf("totals %+v", rep.Totals)
	}
	// Another site's report holds none of it.
	other, err := w.svc.WhatsApp(context.Background(), "other", reports.Range{From: "2023-09-01", To: "2025-11-02"}, "")
	if err != nil || len(other.Rows) != 0 {
		t.Fatalf("other site: %v %+v", err, other)
	}
}

// Two messages of one conversation-priced conversation: the conversation
// counts and costs once, whichever message comes first.
func TestConversationCountsOnce(t *testing.T) {
	conv := func(id string, ts int64) inbound.Status {
		yes := true
		return inbound.Status{MessageID: id, Status: inbound.StatusDelivered, Time: time.Unix(ts, 0).UTC(),
			Chat: "whatsapp:60173526233", Phone: "60173526233",
			Pricing: &inbound.Pricing{Model: "CBP", Category: "utility", Billable: &yes, ConversationID: "conv-1", Origin: "utility"}}
	}
	for _, first := range []string{"wamid.A", "wamid.B"} {
		w := newWorld(t)
		a, b := conv("wamid.A", 1762074000), conv("wamid.B", 1762074600)
		if first == "wamid.B" {
			a, b = b, a
		}
		w.take(t, []inbound.Status{a, b, a, b})
		rep := w.whatsApp(t, "2025-11-02", "2025-11-02", "")
		if rep.Totals.Paid != 1 || rep.Totals.Spend != 0.014 {
			t.Fatalf("first %s: %+v", first, rep.Totals)
		}
	}
}

func TestUnpricedAndUnknownCountry(t *testing.T) {
	w := newWorld(t)
	yes := true
	w.take(t, []inbound.Status{
		// A German number: the marketing line for any country.
		{MessageID: "wamid.DE", Status: inbound.StatusDelivered, Time: time.Date(2025, 11, 2, 10, 0, 0, 0, time.UTC),
			Chat: "whatsapp:4915112345678", Phone: "4915112345678",
			Pricing: &inbound.Pricing{Model: "PMP", Type: "regular", Category: "marketing", Billable: &yes}},
		// Authentication has no line: paid, unpriced.
		{MessageID: "wamid.AU", Status: inbound.StatusRead, Time: time.Date(2025, 11, 2, 11, 0, 0, 0, time.UTC),
			Chat: "whatsapp:16505551234", Phone: "16505551234",
			Pricing: &inbound.Pricing{Model: "PMP", Type: "regular", Category: "authentication"}},
	})
	rep := w.whatsApp(t, "2025-11-02", "2025-11-02", "")
	if rep.Totals.Paid != 2 || rep.Totals.Spend != 0.0625 || rep.Totals.Unpriced != 1 || rep.Notes["unpriced"] == "" {
		t.Fatalf("%+v %v", rep.Totals, rep.Notes)
	}
}

func TestReportRefusals(t *testing.T) {
	w := newWorld(t)
	if _, err := w.svc.WhatsApp(context.Background(), "demo", reports.Range{From: "2025-11-01", To: "2025-11-02"}, "week"); err == nil {
		t.Fatal("by=week taken")
	}
	if _, err := w.svc.WhatsApp(context.Background(), "nosuch", reports.Range{From: "2025-11-01", To: "2025-11-02"}, ""); err == nil {
		t.Fatal("unknown site taken")
	}
	if err := w.svc.TakeStatuses(context.Background(), "nosuch", statuses(t, "whatsapp_status.json")); err == nil {
		t.Fatal("statuses of an unknown site taken")
	}
}

// The same statuses delivered at once by concurrent webhook calls count
// once: the update script retries on the version.
func TestConcurrentDeliveriesCountOnce(t *testing.T) {
	w := newWorld(t)
	var all []inbound.Status
	for _, f := range []string{"whatsapp_status_pmp_sent.json", "whatsapp_status_pmp_delivered.json", "whatsapp_status_read.json",
		"whatsapp_status_cbp_sent.json", "whatsapp_status_cbp_delivered.json"} {
		all = append(all, statuses(t, f)...)
	}
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			order := append([]inbound.Status(nil), all...)
			for i := range order { // each caller in its own order
				j := (i + g) % len(order)
				order[i], order[j] = order[j], order[i]
			}
			errs <- w.svc.TakeStatuses(context.Background(), "demo", order)
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	rep := w.whatsApp(t, "2023-09-01", "2025-11-02", "")
	if rep.Totals.Paid != 2 || rep.Totals.Spend != 0.039 {
		t.Fatalf("totals %+v", rep.Totals)
	}
}
