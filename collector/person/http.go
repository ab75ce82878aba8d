package person

import (
	"errors"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Register adds the people endpoints to r, behind guard (the site's key
// check); siteOf names the site guard let through.
//
//	GET    /v1/sites/{site}/people/{chat}  the person's export (200, JSON)
//	DELETE /v1/sites/{site}/people/{chat}  the person's erasure (204)
func (s *Service) Register(r fiber.Router, guard fiber.Handler, siteOf func(*fiber.Ctx) string) {
	r.Get("/v1/sites/:site/people/:chat", guard, func(c *fiber.Ctx) error {
		chat, err := chatParam(c)
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
		chat, err := chatParam(c)
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

// chatParam reads the :chat path parameter, which may come percent-encoded
// ("whatsapp%3A1555…").
func chatParam(c *fiber.Ctx) (string, error) {
	raw := c.Params("chat")
	chat, err := url.PathUnescape(raw)
	if err != nil || chat == "" || len(chat) > 300 || !strings.Contains(chat, ":") {
		return "", fiber.NewError(fiber.StatusBadRequest, "not a chat key like whatsapp:15557654321")
	}
	return strings.Clone(chat), nil
}
