package collector

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/messengers"
	"github.com/messtrack/messtrack/collector/sites"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/ids"
)

// site is a configured site as the collector's files read it: the
// prepared sites.Site, with its configuration, codec and code style under
// the short names the matcher and the handlers use.
type site struct {
	*sites.Site
	cfg   *config.Site
	codec *ids.Codec
	style ids.CodeStyle
	// messengers are the site's messengers beyond WhatsApp and Telegram,
	// by their webhook's path segment (messengers.go).
	messengers map[string]messengers.Site
}

// newSite wraps a prepared site and opens its messengers beyond WhatsApp
// and Telegram, whose chat targets join the site's.
func newSite(st *sites.Site) (*site, error) {
	ms, err := openMessengers(st.Config)
	if err != nil {
		return nil, err
	}
	for t := range messengerTargets(ms) {
		st.Targets[t] = true
	}
	return &site{Site: st, cfg: st.Config, codec: st.Codec, style: st.Style, messengers: ms}, nil
}

// visitTTL is how long a visit record lives (sites.Site.VisitTTL).
func (st *site) visitTTL() time.Duration { return st.VisitTTL() }

// matchWindow is how far before a message the heuristic looks for clicks.
func (st *site) matchWindow() time.Duration { return st.MatchWindow() }

// siteParam resolves the :site path parameter.
func (s *Server) siteParam(c *fiber.Ctx) (*site, error) {
	return s.lookupSite(c.Params("site"))
}

func (s *Server) lookupSite(name string) (*site, error) {
	st, ok := s.sites[name]
	if !ok {
		return nil, fail(ErrUnknownSite, "unknown site %q", clip(name, 64))
	}
	return st, nil
}
