package collector

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"
)

// requestBudget bounds the Redis work of a request that a visitor's
// browser or a messaging platform waits on. A paused or overloaded Redis
// would otherwise hold it for one read timeout per call; past the budget
// the request fails with 503, which a platform retries, well before its
// own timeout gives up on an answer that may still come.
const requestBudget = 5 * time.Second

// budgeted reports whether a request's path is one a sender waits on: the
// snippet's visits and clicks, the messengers' webhooks and the generic
// messages API. Operators' calls (a cost upload, a refit) may take longer.
func budgeted(path string) bool {
	p := strings.ToLower(path)
	switch {
	case strings.HasPrefix(p, "/v1/visits"), strings.HasPrefix(p, "/v1/clicks"), strings.HasPrefix(p, "/hooks/"):
		return true
	case strings.HasPrefix(p, "/v1/sites/"):
		return strings.HasSuffix(strings.TrimSuffix(p, "/"), "/messages")
	}
	return false
}

// budget is the middleware that gives a budgeted request's context its
// deadline; store.Open makes Redis calls respect it.
func (s *Server) budget(c *fiber.Ctx) error {
	if !budgeted(c.Path()) {
		return c.Next()
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), requestBudget)
	defer cancel()
	c.SetUserContext(ctx)
	return c.Next()
}

// unavailable reports whether err means Redis did not answer in time or at
// all (a timeout, the budget spent, no connection, a server still loading
// its data, a cluster between masters): a 503, worth a retry, rather than
// a fault of ours.
func unavailable(err error) bool {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, redis.ErrPoolTimeout),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.As(err, &ne) && ne.Timeout():
		return true
	}
	return redis.IsLoadingError(err) || redis.IsClusterDownError(err) || redis.IsTryAgainError(err) ||
		redis.IsMasterDownError(err) || redis.IsReadOnlyError(err)
}
