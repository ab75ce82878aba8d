package collector

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/snippet"
)

// routesSnippet serves each site's script at /s/{site}.js.
func (s *Server) routesSnippet(r fiber.Router) {
	r.Get("/s/:site.js", s.handleSnippet)
}

// renderSnippets builds the snippet once and renders it for every site, so
// a request only copies bytes and a bad site setting stops the start.
func renderSnippets(cfg *config.Config) (map[string]snippet.Script, error) {
	b, err := snippet.NewBuilder()
	if err != nil {
		return nil, fmt.Errorf("renderSnippets: %w", err)
	}
	out := make(map[string]snippet.Script, len(cfg.Sites))
	for _, name := range cfg.SiteNames() {
		set := snippetSettings(cfg, cfg.Sites[name])
		ms, err := openMessengers(cfg.Sites[name])
		if err != nil {
			return nil, fmt.Errorf("renderSnippets: %w", err)
		}
		set.More = messengerTargets(ms)
		script, err := b.Render(set)
		if err != nil {
			return nil, fmt.Errorf("renderSnippets: %w", err)
		}
		out[name] = script
	}
	return out, nil
}

// snippetSettings picks the parts of a site's config the script needs: the
// numbers, bots and users whose links get codes. Dedicated numbers stay out
// on purpose: the number itself is their source.
func snippetSettings(cfg *config.Config, st *config.Site) snippet.Settings {
	s := snippet.Settings{
		Site:            st.Name,
		PublicURL:       cfg.PublicURL,
		TelegramBots:    st.Telegram.Bots,
		TelegramUsers:   st.Telegram.Users,
		IDFormat:        st.IDFormat,
		ConsentRequired: st.ConsentRequired,
		DesktopQR:       st.DesktopQR,
		Analytics:       st.GA4.Enabled() || st.Metrica.Enabled(),
		LinkExtras:      st.LinkExtras,
		SendBack:        st.SendBack != nil,
	}
	for _, w := range st.WhatsApp {
		s.WhatsApp = append(s.WhatsApp, w.Number)
	}
	return s
}

// handleSnippet answers the site's script, or 304 when the browser has it.
// An unknown site is a 404 with a JSON error, never an empty script.
func (s *Server) handleSnippet(c *fiber.Ctx) error {
	script, ok := s.scripts[c.Params("site")]
	if !ok {
		return fail(ErrUnknownSite, "unknown site %q", clip(c.Params("site"), 64))
	}
	for name, value := range script.Headers() {
		c.Set(name, value)
	}
	if script.NotModified(c.Get(fiber.HeaderIfNoneMatch)) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	return c.Send(script.Body)
}
