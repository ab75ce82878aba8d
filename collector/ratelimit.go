package collector

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/store"
)

// rateWindow is the rate limit's fixed window. A fixed window lets a client
// send up to twice its limit across a window edge; for keeping a flood off
// the public endpoints that is enough, and it costs one small script call.
const rateWindow = time.Minute

// rateScript counts a request in the client's current window.
//
// KEYS[1] the client's counter for this window (store.RateLimit).
// ARGV[1] the limit, ARGV[2] the window's remaining time in ms (the TTL).
// Returns the count after this request, or -1 without counting when the
// limit was already reached, so that refused requests do not extend a block.
var rateScript = redis.NewScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then return -1 end
n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return n
`)

// limitGroup names the rate-limited endpoint group of a path, or "" for
// paths without a per-IP limit. Routing ignores case, so this does too.
func limitGroup(path string) string {
	p := strings.ToLower(path)
	switch {
	case p == "/v1/visits" || p == "/v1/visits/":
		return "visits"
	case p == "/v1/clicks" || p == "/v1/clicks/":
		return "clicks"
	case strings.HasPrefix(p, "/q/"):
		return "qr"
	case strings.HasPrefix(p, "/qr/"):
		// Each desktop QR costs a visit lookup and a drawing.
		return "visit-qr"
	case strings.HasPrefix(p, "/s/"):
		return "snippet"
	}
	return ""
}

// rateLimit is the middleware that holds each client IP to
// rate_limit_per_minute requests per endpoint group. Counters live in Redis,
// so the limit holds across collector instances. When Redis fails the
// request goes through: losing a limit for a moment beats losing visits.
func (s *Server) rateLimit(c *fiber.Ctx) error {
	limit := s.cfg.RateLimit
	if limit <= 0 || c.Method() == fiber.MethodOptions {
		return c.Next()
	}
	group := limitGroup(c.Path())
	if group == "" {
		return c.Next()
	}
	now := s.clock.Now()
	window := now.UnixMilli() / rateWindow.Milliseconds()
	remaining := time.Duration((window+1)*rateWindow.Milliseconds()-now.UnixMilli()) * time.Millisecond
	ok, err := s.allow(c.UserContext(), group, s.clientKey(s.clientIP(c)), window, limit, remaining)
	if err != nil {
		s.log.Warn("rate limit unavailable; letting the request through", "group", group, "err", err)
		return c.Next()
	}
	if !ok {
		s.metrics.rateLimited.WithLabelValues(group).Inc()
		secs := int((remaining + time.Second - 1) / time.Second)
		if group == "qr" {
			// A person with a phone, not a program: a page, not JSON.
			return s.qr.Limited(c, max(secs, 1))
		}
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(max(secs, 1)))
		return fail(ErrRateLimited, "more than %d requests a minute from this address; retry after %d s", limit, max(secs, 1))
	}
	return c.Next()
}

// allow counts one request of client in group and tells whether it is
// within the limit.
func (s *Server) allow(ctx context.Context, group, client string, window int64, limit int, ttl time.Duration) (bool, error) {
	n, err := rateScript.Run(ctx, s.rdb, []string{store.RateLimit(group, client, window)}, limit, ttl.Milliseconds()).Int64()
	if err != nil {
		return false, fmt.Errorf("rateLimit: script: %w", err)
	}
	return n >= 0, nil
}
