package collector

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

func (s *Server) routesOps(r fiber.Router) {
	r.Get("/healthz", s.handleHealth)
}

// routesStatic serves the demo site's pages at "/". It is registered last so
// that no API route is shadowed.
func (s *Server) routesStatic(r fiber.Router) {
	if dir := s.cfg.StaticDir; dir != "" {
		r.Static("/", dir, fiber.Static{Index: "index.html"})
	}
}

// handleHealth answers 200 when Redis answers, 503 otherwise.
func (s *Server) handleHealth(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		s.log.Warn("health check: redis unreachable", "err", err)
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unhealthy", "redis": "unreachable"})
	}
	return c.JSON(fiber.Map{"status": "ok", "redis": "ok", "version": s.version})
}
