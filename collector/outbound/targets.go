package outbound

import (
	"context"
	"encoding/json"
	"net/http"

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
}

// TargetsWith builds a site's targets from its config: its webhooks, and
// Meta's Conversions API, GA4 and Metrica when configured.
func TargetsWith(opt TargetOptions) func(st *config.Site) []Target {
	if opt.Client == nil {
		opt.Client = &http.Client{}
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
		return out
	}
}
