package collector

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/visit"
)

// routesVisits registers the operators' read of a stored visit.
func (s *Server) routesVisits(r fiber.Router) {
	r.Get("/v1/sites/:site/visits/:visit", s.requireKey, s.handleGetVisit)
}

// handleGetVisit answers GET /v1/sites/{site}/visits/{visit}: the stored
// visit, for operators and for checking what the snippet registered.
func (s *Server) handleGetVisit(c *fiber.Ctx) error {
	st := authedSite(c)
	id := c.Params("visit")
	n, err := st.codec.ParseVisitID(id)
	if err != nil {
		return fail(ErrBadInput, "%q is not a visit ID", clip(id, 32))
	}
	ctx := c.UserContext()
	v, err := s.loadVisit(ctx, st, n)
	if errors.Is(err, ErrNotFound) {
		return fail(ErrNotFound, "visit %s is unknown or expired", st.codec.VisitID(n))
	}
	if err != nil {
		return err
	}
	ttl, err := s.rdb.PTTL(ctx, st.Keys.Visit(n)).Result()
	if err != nil {
		return fmt.Errorf("handleGetVisit: pttl: %w", err)
	}
	view := viewVisit(st, v)
	if ttl > 0 {
		// A static source's visit never expires and has no end to show.
		view.Expires = s.clock.Now().Add(ttl).UTC().Format(time.RFC3339)
	}
	return c.JSON(view)
}

// saveVisit allocates the visit's number and stores it with the site's TTL.
func (s *Server) saveVisit(ctx context.Context, st *site, v *visit.Visit) error {
	n, err := st.Alloc.Next(ctx)
	if err != nil {
		return fmt.Errorf("saveVisit: %w", err)
	}
	v.N = n
	b, err := visit.Encode(v)
	if err != nil {
		return fmt.Errorf("saveVisit: %w", err)
	}
	if err := s.visits.set(ctx, st.Keys.Visit(n), b, st.visitTTL()); err != nil {
		return fmt.Errorf("saveVisit: set: %w", err)
	}
	s.metrics.visits.WithLabelValues(st.cfg.Name).Inc()
	return nil
}

// loadVisit returns the live visit numbered n, or ErrNotFound.
func (s *Server) loadVisit(ctx context.Context, st *site, n uint64) (*visit.Visit, error) {
	b, err := s.rdb.Get(ctx, st.Keys.Visit(n)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("loadVisit %d: %w", n, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("loadVisit: get: %w", err)
	}
	return visit.Decode(n, b)
}
