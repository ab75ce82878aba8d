package collector

import (
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/demo"
)

// routesDemo serves the demo pages' simulated phone (collector/demo) when a
// site is the demo's (demo: true); for any other config it adds nothing. The
// phone reaches the collector's own webhooks through the application itself,
// so its messages take the path a platform's would.
func (s *Server) routesDemo(r fiber.Router) {
	if !demo.HasDemo(s.cfg) {
		return
	}
	do := func(r *http.Request) (*http.Response, error) { return s.app.Test(r, -1) }
	demo.NewPhone(s.cfg, do, s.clock, s.log).Register(r)
}
