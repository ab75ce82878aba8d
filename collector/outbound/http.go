package outbound

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/httperr"
)

// Register adds the deliveries' API behind guard (the site's bearer key):
// GET /v1/sites/{site}/deliveries?state=&limit= and
// POST /v1/sites/{site}/deliveries/{id}/replay. siteOf names the guarded
// site.
func (a *Admin) Register(r fiber.Router, guard fiber.Handler, siteOf func(*fiber.Ctx) string) {
	r.Get("/v1/sites/:site/deliveries", guard, func(c *fiber.Ctx) error {
		state := c.Query("state")
		if state != "" && !slices.Contains(States, state) {
			return httperr.Fail(httperr.ErrBadInput, "state must be one of %s", strings.Join(States, ", "))
		}
		limit := 100
		if v := c.Query("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxList {
				return httperr.Fail(httperr.ErrBadInput, "limit must be a number from 1 to %d", maxList)
			}
			limit = n
		}
		list, err := a.List(c.UserContext(), siteOf(c), state, limit)
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"deliveries": list})
	})
	r.Post("/v1/sites/:site/deliveries/:id/replay", guard, func(c *fiber.Ctx) error {
		id := c.Params("id")
		if id == "" || len(id) > 128 || strings.ContainsAny(id, "{}: /%") {
			return httperr.Fail(httperr.ErrBadInput, "%q is not a delivery ID", httperr.Clip(id, 64))
		}
		res, err := a.Replay(c.UserContext(), siteOf(c), strings.Clone(id))
		if errors.Is(err, ErrNoDelivery) {
			return httperr.Fail(httperr.ErrNotFound, "no delivery %q is kept", httperr.Clip(id, 64))
		}
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"id": id, "result": res})
	})
}
