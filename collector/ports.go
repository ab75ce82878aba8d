package collector

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/collector/sites"
	"github.com/messtrack/messtrack/collector/visit"
)

// port is what the feature packages (collector/intake, ...) reach of the
// collector's stores through their narrow interfaces: saving a visit and
// recording a click.
type port struct{ s *Server }

// SaveVisit numbers and stores v as st's visit.
func (p port) SaveVisit(ctx context.Context, st *sites.Site, v *visit.Visit) error {
	return p.s.saveVisit(ctx, p.s.sites[st.Config.Name], v)
}

// RecordClick adds visit n to target's click index and counts a first click.
func (p port) RecordClick(ctx context.Context, st *sites.Site, n uint64, target, page string) error {
	return p.s.recordClick(ctx, p.s.sites[st.Config.Name], n, target, page)
}

// LoadVisit returns st's live visit numbered n, or ErrNotFound.
func (p port) LoadVisit(ctx context.Context, st *sites.Site, n uint64) (*visit.Visit, error) {
	return p.s.loadVisit(ctx, p.s.sites[st.Config.Name], n)
}

// prepared resolves a site by name for the feature packages.
func (s *Server) prepared(name string) (*sites.Site, error) {
	st, err := s.lookupSite(name)
	if err != nil {
		return nil, err
	}
	return st.Site, nil
}

// countDropped counts a hit dropped on purpose, by its reason.
func (s *Server) countDropped(reason string) {
	s.metrics.dropped.WithLabelValues(reason).Inc()
}

// authedPrepared is the site requireKey checked.
func authedPrepared(c *fiber.Ctx) *sites.Site { return authedSite(c).Site }

// routesPeople registers a person's export and erasure (collector/person)
// behind the site's key.
func (s *Server) routesPeople(r fiber.Router) {
	s.people.Register(r, s.requireKey, func(c *fiber.Ctx) string { return authedSite(c).cfg.Name })
}
