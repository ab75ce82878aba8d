package outbound

import (
	"net/http"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
)

// TargetsWith builds a site's targets from its config, sending through
// client with the clock's time in signatures.
func TargetsWith(client *http.Client, clock store.Clock) func(st *config.Site) []Target {
	return func(st *config.Site) []Target {
		var out []Target
		for _, w := range st.Webhooks {
			out = append(out, NewWebhook(w, client, clock))
		}
		return out
	}
}
