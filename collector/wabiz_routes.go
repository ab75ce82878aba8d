package collector

import "github.com/gofiber/fiber/v2"

// routesWABiz registers WhatsApp Business analytics (collector/wabiz): the
// template send and record endpoints (answered once replicas hold them,
// acked.go) and the whatsapp and templates
// reports, behind the site's key.
func (s *Server) routesWABiz(r fiber.Router) {
	s.wabiz.Register(r, s.ackedBy(s.requireKey), func(c *fiber.Ctx) string { return authedSite(c).cfg.Name })
}
