package sites

import (
	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/httperr"
)

// CheckOrigin lets only a site's own pages (its origins; a site that lists
// none takes any) make a browser request, and answers them with the CORS
// header naming their origin. noOrigin is the refusal's reason when the
// request has no Origin header: what the endpoint accepts, and from where.
func CheckOrigin(c *fiber.Ctx, origins []string, noOrigin string) error {
	origin := c.Get(fiber.HeaderOrigin)
	c.Vary(fiber.HeaderOrigin)
	if len(origins) == 0 {
		return nil
	}
	for _, o := range origins {
		if o == origin {
			c.Set(fiber.HeaderAccessControlAllowOrigin, origin)
			return nil
		}
	}
	if origin == "" {
		return httperr.Fail(httperr.ErrForbidden, "no Origin header: %s", noOrigin)
	}
	return httperr.Fail(httperr.ErrForbidden, "origin %q is not one of the site's origins", httperr.Clip(origin, 100))
}
