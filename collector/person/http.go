package person

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/httperr"
)

// Register adds the people endpoints to r, behind guard (the site's key
// check); siteOf names the site guard let through.
//
//	GET    /v1/sites/{site}/people/{chat}  the person's export (200, JSON)
//	DELETE /v1/sites/{site}/people/{chat}  the person's erasure (204)
func (s *Service) Register(r fiber.Router, guard fiber.Handler, siteOf func(*fiber.Ctx) string) {
	r.Get("/v1/sites/:site/people/:chat", guard, func(c *fiber.Ctx) error {
		chat, err := httperr.ChatKey(c.Params("chat"))
		if err != nil {
			return err
		}
		exp, err := s.Export(c.UserContext(), siteOf(c), chat)
		if err != nil {
			return siteError(err)
		}
		return c.JSON(exp)
	})
	r.Delete("/v1/sites/:site/people/:chat", guard, func(c *fiber.Ctx) error {
		chat, err := httperr.ChatKey(c.Params("chat"))
		if err != nil {
			return err
		}
		if _, err := s.Erase(c.UserContext(), siteOf(c), chat, ReasonRequest); err != nil {
			return siteError(err)
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
}

func siteError(err error) error {
	if errors.Is(err, ErrUnknownSite) {
		return fiber.NewError(fiber.StatusNotFound, "unknown site")
	}
	return err
}
