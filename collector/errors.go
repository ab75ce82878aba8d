package collector

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/enrich"
	"github.com/messtrack/messtrack/collector/httperr"
	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/store"
)

// Sentinel errors of the collector, the kinds of httperr. Handlers wrap
// them with details for the client; errorHandler maps each to its status.
var (
	ErrUnknownSite  = httperr.ErrUnknownSite
	ErrUnauthorized = httperr.ErrUnauthorized
	ErrForbidden    = httperr.ErrForbidden
	ErrBadInput     = httperr.ErrBadInput
	ErrNotFound     = httperr.ErrNotFound
	ErrTooLarge     = httperr.ErrTooLarge
	ErrRateLimited  = httperr.ErrRateLimited
	// ErrDropped: a hit is dropped on purpose (a bot, a prefetch); the reason
	// goes into the X-Messtrack-Dropped header.
	ErrDropped = enrich.ErrDropped
)

// fail builds a client-facing error of the given kind.
func fail(kind error, format string, args ...any) error {
	return httperr.Fail(kind, format, args...)
}

// readJSON decodes a small JSON object body of at most limit bytes into v
// (httperr.DecodeJSON).
func readJSON(c *fiber.Ctx, limit int, v any) error {
	return httperr.DecodeJSON(c.Body(), limit, v)
}

// clip shortens a client-supplied string before it is echoed in an error.
func clip(s string, n int) string { return httperr.Clip(s, n) }

// errorHandler turns every error into JSON {"error": "..."} with a fitting
// status. Only httperr.Error texts reach the client; anything else is logged
// and answered as an internal error.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	status, msg, ce := s.explain(c, err, "internal error")
	if ce != nil {
		switch {
		case errors.Is(ce.Kind, ErrUnauthorized):
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="messtrack"`)
		case errors.Is(ce.Kind, ErrDropped):
			c.Set(httperr.HeaderDropped, ce.Reason)
		}
	}
	return c.Status(status).JSON(fiber.Map{"error": msg})
}

// explain maps an error to its status and the text the client may see:
// an httperr.Error's reason, a fiber error's message, or internal for anything
// else, which is logged instead. ce is the httperr.Error, if it is one.
func (s *Server) explain(c *fiber.Ctx, err error, internal string) (status int, msg string, ce *httperr.Error) {
	var fe *fiber.Error
	var ie *inbound.InputError
	switch {
	case errors.As(err, &ce):
		return clientStatus(ce.Kind), ce.Reason, ce
	case errors.As(err, &ie):
		// A payload the translators refused.
		return clientStatus(ErrBadInput), ie.Reason, nil
	case errors.As(err, &fe):
		return fe.Code, fe.Message, nil
	case errors.Is(err, store.ErrNotReplicated):
		// A write stored but not yet on a replica (a visit through the
		// visit writer): never a 2xx.
		s.log.Warn("answering 503: the request's writes are not on a Redis replica yet",
			"method", c.Method(), "path", c.Path(), "err", err)
		c.Set(fiber.HeaderRetryAfter, "1")
		return fiber.StatusServiceUnavailable, msgNotReplicated, nil
	case unavailable(err):
		s.log.Warn("request failed: Redis unavailable", "method", c.Method(), "path", c.Path(), "err", err)
		c.Set(fiber.HeaderRetryAfter, "1")
		return fiber.StatusServiceUnavailable, "storage unavailable; retry later", nil
	default:
		s.log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
		return fiber.StatusInternalServerError, internal, nil
	}
}

// clientStatus is the HTTP status of each sentinel error.
func clientStatus(kind error) int {
	switch {
	case errors.Is(kind, ErrUnknownSite), errors.Is(kind, ErrNotFound):
		return fiber.StatusNotFound
	case errors.Is(kind, ErrUnauthorized):
		return fiber.StatusUnauthorized
	case errors.Is(kind, ErrForbidden):
		return fiber.StatusForbidden
	case errors.Is(kind, ErrTooLarge):
		return fiber.StatusRequestEntityTooLarge
	case errors.Is(kind, ErrRateLimited):
		return fiber.StatusTooManyRequests
	case errors.Is(kind, ErrDropped):
		return fiber.StatusAccepted
	default:
		return fiber.StatusBadRequest
	}
}
