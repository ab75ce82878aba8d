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

// Preflight answers a CORS preflight for a POST endpoint: granted (204 with
// the CORS headers, cached for a day) when allowed says the origin may
// post, 403 without CORS headers otherwise, so that the browser never sends
// the request. A preflight carries no body, so allowed can only ask whether
// any site the endpoint serves takes the origin; the POST is then checked
// against its own site.
func Preflight(c *fiber.Ctx, allowed func(origin string) bool) error {
	c.Vary(fiber.HeaderOrigin)
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return httperr.Fail(httperr.ErrBadInput, "a CORS preflight needs an Origin header")
	}
	if !allowed(origin) {
		return httperr.Fail(httperr.ErrForbidden, "origin %q is not one of any site's origins", httperr.Clip(origin, 100))
	}
	if m := c.Get(fiber.HeaderAccessControlRequestMethod); m != "" && m != fiber.MethodPost {
		return httperr.Fail(httperr.ErrForbidden, "method %q is not allowed here; use POST", httperr.Clip(m, 16))
	}
	c.Set(fiber.HeaderAccessControlAllowOrigin, origin)
	c.Set(fiber.HeaderAccessControlAllowMethods, "POST")
	c.Set(fiber.HeaderAccessControlAllowHeaders, "Content-Type")
	c.Set(fiber.HeaderAccessControlMaxAge, "86400")
	return c.SendStatus(fiber.StatusNoContent)
}
