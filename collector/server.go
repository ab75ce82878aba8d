// Package collector is messtrack's HTTP server: it serves the snippet,
// receives visits, clicks, chat webhooks, messages and business events, and
// answers the operators' API. It wires ids, snippet and reports to HTTP.
package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/snippet"
	"github.com/messtrack/messtrack/store"
)

// Options are what a Server needs from the outside.
type Options struct {
	Config *config.Config
	// Redis is the shared connection; the collector never closes it.
	Redis redis.UniversalClient
	Clock store.Clock
	Log   *slog.Logger
	// Version is reported by /healthz.
	Version string
}

// Server is the collector. It is safe for concurrent use.
type Server struct {
	cfg     *config.Config
	rdb     redis.UniversalClient
	clock   store.Clock
	log     *slog.Logger
	version string
	sites   map[string]*site
	// scripts are the rendered snippets by site name.
	scripts map[string]snippet.Script
	app     *fiber.App
	dash    *dashboard
}

// maxBody caps every request body; endpoints that take small bodies check a
// tighter limit themselves. WhatsApp batches up to 1000 updates in one call.
const maxBody = 4 << 20

// New builds a Server for opt.Config, preparing each site's codes.
func New(ctx context.Context, opt Options) (*Server, error) {
	if opt.Config == nil || opt.Redis == nil {
		return nil, errors.New("collector.New: Config and Redis are required")
	}
	if opt.Clock == nil {
		opt.Clock = store.SystemClock{}
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	s := &Server{
		cfg:     opt.Config,
		rdb:     opt.Redis,
		clock:   opt.Clock,
		log:     opt.Log,
		version: opt.Version,
		sites:   map[string]*site{},
	}
	for _, name := range opt.Config.SiteNames() {
		st, err := newSite(ctx, s.rdb, opt.Config.Sites[name])
		if err != nil {
			return nil, fmt.Errorf("collector.New: site %q: %w", name, err)
		}
		s.sites[name] = st
	}
	scripts, err := renderSnippets(opt.Config)
	if err != nil {
		return nil, fmt.Errorf("collector.New: %w", err)
	}
	s.scripts = scripts
	dash, err := newDashboard()
	if err != nil {
		return nil, fmt.Errorf("collector.New: %w", err)
	}
	s.dash = dash
	s.app = fiber.New(fiber.Config{
		AppName:               "messtrack",
		BodyLimit:             maxBody,
		ErrorHandler:          s.errorHandler,
		DisableStartupMessage: true,
		ReadTimeout:           15 * time.Second,
		WriteTimeout:          15 * time.Second,
		IdleTimeout:           60 * time.Second,
	})
	s.routes()
	return s, nil
}

// routes registers every endpoint of the HTTP surface; each group lives in
// its own file.
func (s *Server) routes() {
	s.routesOps()
	s.routesIntake()
	s.routesSnippet()
	s.routesDashboard()
	s.routesStatic() // last: it must not shadow any route above
}

// App returns the fiber application, for tests and for embedding.
func (s *Server) App() *fiber.App { return s.app }

// Serve answers requests on ln until ctx ends, then stops taking new
// connections and waits up to grace for the requests under way.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- s.app.Listener(ln) }()
	select {
	case err := <-errc:
		if err != nil {
			return fmt.Errorf("collector.Serve: %w", err)
		}
		return nil
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing requests under way", "grace", grace)
	if err := s.app.ShutdownWithTimeout(grace); err != nil {
		return fmt.Errorf("collector.Serve: shutdown: %w", err)
	}
	<-errc
	return nil
}

// errorHandler turns every error into JSON {"error": "..."} with a fitting
// status. Only clientError texts reach the client; anything else is logged
// and answered as an internal error.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	status := fiber.StatusInternalServerError
	msg := "internal error"
	var ce *clientError
	var fe *fiber.Error
	switch {
	case errors.As(err, &ce):
		msg = ce.reason
		switch {
		case errors.Is(ce.kind, ErrUnknownSite), errors.Is(ce.kind, ErrNotFound):
			status = fiber.StatusNotFound
		case errors.Is(ce.kind, ErrUnauthorized):
			status = fiber.StatusUnauthorized
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="messtrack"`)
		case errors.Is(ce.kind, ErrForbidden):
			status = fiber.StatusForbidden
		case errors.Is(ce.kind, ErrTooLarge):
			status = fiber.StatusRequestEntityTooLarge
		case errors.Is(ce.kind, ErrRateLimited):
			status = fiber.StatusTooManyRequests
		case errors.Is(ce.kind, ErrDropped):
			status = fiber.StatusAccepted
		default:
			status = fiber.StatusBadRequest
		}
	case errors.As(err, &fe):
		status, msg = fe.Code, fe.Message
	default:
		s.log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
	}
	return c.Status(status).JSON(fiber.Map{"error": msg})
}
