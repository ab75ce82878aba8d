package outbound

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
)

// TargetOptions are what the built-in targets need.
type TargetOptions struct {
	Client *http.Client
	// Clock signs webhooks and decides what is too old for a platform.
	Clock store.Clock
	// ChatRecord reads a chat's record as the chats API shows it (for a
	// conversion's ad click ID and the analytics client IDs).
	ChatRecord func(ctx context.Context, site, chat string) (json.RawMessage, error)
	// Visit reads what the visit of the chat's conversation that started
	// at the given time says for web analytics; the zero Analytics when
	// that conversation had no visit or it has expired.
	Visit func(ctx context.Context, site, chat string, at time.Time) (Analytics, error)
}

// NewClient is the HTTP client deliveries go through: it keeps enough idle
// connections to each host for every delivery under way to reuse one (the
// default keeps two, and a busy endpoint would pay a new connection, and
// its TLS handshake, per delivery).
func NewClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: tr}
}

// Analytics are a visit's web analytics identifiers.
type Analytics struct {
	// Time is the visit's time.
	Time       time.Time
	GAClientID string
	YMClientID string
	// Yclid is the Yandex Direct click ID the landing URL carried.
	Yclid string
}

// TargetsWith builds a site's targets from its config: its webhooks, and
// Meta's Conversions API, GA4 and Metrica when configured.
func TargetsWith(opt TargetOptions) func(st *config.Site) []Target {
	if opt.Client == nil {
		opt.Client = NewClient()
	}
	if opt.Clock == nil {
		opt.Clock = store.SystemClock{}
	}
	return func(st *config.Site) []Target {
		var out []Target
		for _, w := range st.Webhooks {
			out = append(out, NewWebhook(w, opt.Client, opt.Clock))
		}
		if st.MetaCAPI.Enabled() {
			out = append(out, NewCAPI(st.MetaCAPI, st.Currency, opt))
		}
		if st.GA4.Enabled() {
			out = append(out, NewGA4(st.GA4, st.Currency, opt))
		}
		if st.Metrica.Enabled() {
			out = append(out, NewMetrica(st.Metrica, st.Currency, opt))
		}
		return out
	}
}
