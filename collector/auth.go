package collector

import (
	"crypto/subtle"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// localSite is the c.Locals key under which requireKey leaves the site.
const localSite = "messtrack.site"

// requireKey guards /v1/sites/:site/...: the bearer key must be that site's
// own, so one site's key never reads another site's data.
func (s *Server) requireKey(c *fiber.Ctx) error {
	st, err := s.siteParam(c)
	if err != nil {
		return err
	}
	// The scheme is case-insensitive (RFC 9110, 11.1); the key is not.
	scheme, key, ok := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(key)), []byte(st.cfg.APIKey)) != 1 {
		return fail(ErrUnauthorized, "missing or wrong API key for this site")
	}
	c.Locals(localSite, st)
	return c.Next()
}

// authedSite returns the site requireKey checked.
func authedSite(c *fiber.Ctx) *site {
	st, _ := c.Locals(localSite).(*site)
	return st
}
