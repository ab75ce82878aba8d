package collector

import (
	"github.com/messtrack/messtrack/collector/enrich"
	"github.com/messtrack/messtrack/collector/httperr"
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

// clip shortens a client-supplied string before it is echoed in an error.
func clip(s string, n int) string { return httperr.Clip(s, n) }
