package collector

import (
	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/store"
)

// acked runs before the handlers whose 2xx a sender relies on: the
// messengers' webhooks, the messages API, business events, cost uploads
// and the WhatsApp records. It records the writes the request makes, and
// before a 2xx leaves waits until Redis replicas hold them
// (store.Replicas): a master that dies after the answer then loses nothing
// that was acknowledged. Replicas that do not acknowledge in time turn the
// answer into a 503, and the sender retries; the retry finds what was
// stored and changes nothing twice.
func (s *Server) acked(c *fiber.Ctx) error { return s.ackAfter(c, (*fiber.Ctx).Next) }

// ackedBy wraps guard (a check that calls c.Next itself) in acked, for
// feature packages that take one guard handler.
func (s *Server) ackedBy(guard fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error { return s.ackAfter(c, guard) }
}

// ackAfter runs the request's handlers through run under a tracked context
// and waits for the replicas before a 2xx.
func (s *Server) ackAfter(c *fiber.Ctx, run fiber.Handler) error {
	ctx, written := store.Track(c.UserContext())
	c.SetUserContext(ctx)
	if err := run(c); err != nil {
		return err
	}
	if st := c.Response().StatusCode(); st < 200 || st > 299 {
		return nil
	}
	if err := s.replicas.Sync(ctx, written); err != nil {
		s.log.Warn("answering 503: the request's writes are not on a Redis replica yet",
			"method", c.Method(), "path", c.Path(), "err", err)
		c.Set(fiber.HeaderRetryAfter, "1")
		return fiber.NewError(fiber.StatusServiceUnavailable, msgNotReplicated)
	}
	return nil
}

// msgNotReplicated is the 503's reason when replicas did not acknowledge.
const msgNotReplicated = "stored, but not yet on a Redis replica: retry"
