// Package httperr holds the errors whose text a client may see: the
// sentinel kinds every feature handler wraps (unknown site, bad input, not
// found, ...) and Fail, which builds one with a reason. The server's wiring
// maps each kind to its HTTP status; any other error is logged and answered
// as an internal error.
package httperr

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// The kinds of client errors. Handlers wrap them with details for the
// client through Fail.
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
)

// HeaderDropped is the response header that carries the reason a hit was
// dropped on purpose (a bot, a prefetch), answered 202 with nothing stored.
const HeaderDropped = "X-Messtrack-Dropped"

// Error is an error whose text is safe to show the client: it carries a
// kind (one of the sentinels above, or another package's, such as a dropped
// hit's) and a human reason.
type Error struct {
	Kind   error
	Reason string
}

func (e *Error) Error() string { return e.Reason }
func (e *Error) Unwrap() error { return e.Kind }

// Fail builds a client-facing error of the given kind.
func Fail(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Reason: fmt.Sprintf(format, args...)}
}

// Clip shortens a client-supplied string before it is echoed in an error.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// ChatKey reads a chat key from a path parameter, percent-encoded or not
// ("whatsapp%3A1555…"): a bad-input error unless it is a non-empty
// "<channel>:<id>" of at most 300 bytes.
func ChatKey(raw string) (string, error) {
	chat, err := url.PathUnescape(raw)
	if err != nil || chat == "" || len(chat) > 300 || !strings.Contains(chat, ":") {
		return "", Fail(ErrBadInput, "%q is not a chat key like whatsapp:15557654321", Clip(raw, 80))
	}
	return strings.Clone(chat), nil
}
