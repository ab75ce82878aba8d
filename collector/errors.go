package collector

import (
	"errors"
	"fmt"

	"github.com/messtrack/messtrack/collector/enrich"
)

// Sentinel errors of the collector. Handlers wrap them with details for the
// client; errorHandler maps each to its status.
var (
	// ErrUnknownSite: the site named in the path or body is not configured.
	ErrUnknownSite = errors.New("unknown site")
	// ErrUnauthorized: the bearer key is missing or wrong for the site.
	ErrUnauthorized = errors.New("missing or wrong API key")
	// ErrForbidden: the request is understood but not allowed (origin, signature).
	ErrForbidden = errors.New("forbidden")
	// ErrBadInput: the body or query is malformed or misses a field.
	ErrBadInput = errors.New("bad input")
	// ErrNotFound: the thing asked for does not exist (or no longer lives).
	ErrNotFound = errors.New("not found")
	// ErrTooLarge: the body is larger than the endpoint accepts.
	ErrTooLarge = errors.New("body too large")
	// ErrRateLimited: the client sent more requests than its limit.
	ErrRateLimited = errors.New("rate limit exceeded")
	// ErrDropped: a hit is dropped on purpose (a bot, a prefetch); the reason
	// goes into the X-Messtrack-Dropped header.
	ErrDropped = enrich.ErrDropped
)

// clientError is an error whose text is safe to show the client: it carries
// one of the sentinels above and a human reason.
type clientError struct {
	kind   error
	reason string
}

func (e *clientError) Error() string { return e.reason }
func (e *clientError) Unwrap() error { return e.kind }

// fail builds a client-facing error of the given kind.
func fail(kind error, format string, args ...any) error {
	return &clientError{kind: kind, reason: fmt.Sprintf(format, args...)}
}
