package collector

import (
	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/chattags"
)

// routesTags registers the operators' chat tags (collector/chattags).
func (s *Server) routesTags(r fiber.Router) {
	chattags.New(s.ledger).Register(r, s.requireKey, func(c *fiber.Ctx) string { return authedSite(c).cfg.Name })
}
