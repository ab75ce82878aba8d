package reports

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

// testConfigYAML: "demo" in UTC with purchase as conversion event and the
// default 90-day window; "east" five hours ahead of UTC; "blank" with no
// conversion event chosen; "week" with a 7-day window.
const testConfigYAML = `
sites:
  demo:
    api_key: demo-key-123
    conversion_event: purchase
  east:
    api_key: east-key-123
    conversion_event: purchase
    timezone: Asia/Yekaterinburg
  blank:
    api_key: blank-key-123
  week:
    api_key: week-key-123
    conversion_event: purchase
    session_days: 7
`

// t0 is where every test's clock starts, and so when the configured
// conversion event is first recorded.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type testWorld struct {
	st    *Store
	rdb   redis.UniversalClient
	clock *store.ManualClock
	cfg   *config.Config
	ctx   context.Context
}

func newWorld(t testing.TB) *testWorld {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(testConfigYAML), nil)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	rdb := redistest.NewUniversal(t)
	clock := store.NewManualClock(t0)
	return &testWorld{st: New(rdb, clock, cfg), rdb: rdb, clock: clock, cfg: cfg, ctx: context.Background()}
}

// conv records an attributed conversation of chat on site from ad at time at.
func (w *testWorld) conv(t testing.TB, site, chat, ad string, at time.Time) {
	t.Helper()
	c := Conversation{
		Site: site, Chat: chat, Time: at, Messenger: "whatsapp", Method: "referral", Confidence: 1,
		Channel: "messenger_ad", UTMSource: "facebook", AdID: ad, AdTitle: "Title of " + ad, AdType: "ad",
	}
	if ad == "" {
		c.Method, c.Channel, c.UTMSource = "none", "", ""
	}
	if err := w.st.RecordConversation(w.ctx, c); err != nil {
		t.Fatalf("RecordConversation(%s, %s): %v", chat, at, err)
	}
}

// event records a business event and returns what it did.
func (w *testWorld) event(t testing.TB, e Event) EventResult {
	t.Helper()
	if e.Site == "" {
		e.Site = "demo"
	}
	r, err := w.st.RecordEvent(w.ctx, e)
	if err != nil {
		t.Fatalf("RecordEvent(%+v): %v", e, err)
	}
	return r
}

// adNumbers returns an ad's conversations and conversions over from..to on
// site (conversions -1 when null).
func (w *testWorld) adNumbers(t testing.TB, site, ad, from, to string) (conversations, conversions int64) {
	t.Helper()
	rep, err := w.st.Ads(w.ctx, site, Range{From: from, To: to})
	if err != nil {
		t.Fatalf("Ads: %v", err)
	}
	for _, r := range rep.Rows {
		if r.AdID == ad {
			conversions = -1
			if r.Conversions != nil {
				conversions = *r.Conversions
			}
			return r.Conversations, conversions
		}
	}
	return 0, 0
}

const day = 24 * time.Hour
