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
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/chatsapi"
	"github.com/messtrack/messtrack/collector/dashboard"
	"github.com/messtrack/messtrack/collector/enrich"
	"github.com/messtrack/messtrack/collector/intake"
	"github.com/messtrack/messtrack/collector/learn"
	"github.com/messtrack/messtrack/collector/ledger"
	"github.com/messtrack/messtrack/collector/person"
	"github.com/messtrack/messtrack/collector/qrhttp"
	"github.com/messtrack/messtrack/collector/sites"
	"github.com/messtrack/messtrack/collector/wabiz"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/snippet"
	"github.com/messtrack/messtrack/store"
)

// Options are what a Server needs from the outside.
type Options struct {
	Config *config.Config
	// Redis is the caller's connection. The collector neither closes nor
	// changes it: it opens its own client with the same options, to which
	// it adds its metrics hook, and closes that one in Close.
	Redis redis.UniversalClient
	Clock store.Clock
	Log   *slog.Logger
	// Version is reported by /healthz.
	Version string
	// Reports keeps sessions and report aggregates; nil builds one on Redis
	// with Clock. One passed in writes through its own client, whose
	// writes acknowledgements do not wait for (acked.go).
	Reports *reports.Store
}

// Server is the collector. It is safe for concurrent use. Close releases
// what New opened (the GeoIP database).
type Server struct {
	cfg *config.Config
	// rdb is the collector's own client (see ownClient); ownRdb says
	// whether Close must close it.
	rdb    redis.UniversalClient
	ownRdb bool
	// closeOnce makes Close idempotent; closeErr is its answer.
	closeOnce sync.Once
	closeErr  error
	clock     store.Clock
	log       *slog.Logger
	version   string
	sites     map[string]*site
	// scripts are the rendered snippets by site name.
	scripts map[string]snippet.Script
	app     *fiber.App
	reports *reports.Store
	metrics *metrics
	// geo is the City database, nil when no geoip is configured.
	geo *enrich.Geo
	// pipeline is the visit enrichment, built once.
	pipeline enrich.Pipeline
	// visits batches visit writes into pipelines.
	visits *visitWriter
	// replicas must hold what an acknowledgement acknowledges (acked,
	// the visit writer, the visit numbers).
	replicas *store.Replicas
	// proxies are the trusted_proxies whose X-Forwarded-For is believed.
	proxies trustedProxies

	// ledger keeps the chats; it hands the matcher's conversation facts to
	// the reports store's RecordConversation, unless a test watches them
	// with SetConversationSink.
	ledger *ledger.Ledger
	dash   *dashboard.Dashboard
	// people answers export and erasure requests.
	people *person.Service
	// intake answers the snippet's visits and clicks.
	intake *intake.Intake
	// qr answers scans and QR images.
	qr *qrhttp.Handler
	// chats answers the operators' chat API.
	chats *chatsapi.API
	// learn keeps the learned heuristic's examples, models and proof.
	learn *learn.Store
	// wabiz keeps WhatsApp statuses, spend and templates.
	wabiz *wabiz.Service
	// exchange sends chats and conversions out (exchange.go).
	exchange *exchange
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
	var err error
	rdb, owned := ownClient(opt.Redis)
	// The hook that records a request's writes goes on before the client
	// sends anything, so that every node client of a cluster has it.
	replicas := store.NewReplicas(opt.Config.WaitReplicas(), opt.Config.WaitTimeout())
	if !replicas.Off() && (!owned || !replicas.Watch(rdb)) {
		// The caller's client is not ours to hook: its writes cannot be
		// seen, and acknowledgements do not wait for replicas.
		opt.Log.Warn("acknowledgements will not wait for Redis replicas: the Redis client is of a kind the collector cannot copy",
			"client", fmt.Sprintf("%T", opt.Redis))
		replicas = store.NewReplicas(0, 0)
	}
	if opt.Reports == nil {
		opt.Reports = reports.New(rdb, opt.Clock, opt.Config)
	}
	s := &Server{
		cfg:     opt.Config,
		rdb:     rdb,
		ownRdb:  owned,
		clock:   opt.Clock,
		log:     opt.Log,
		version: opt.Version,
		sites:   map[string]*site{},
		reports: opt.Reports,
		metrics: newMetrics(),
		proxies: parseTrustedProxies(opt.Config.TrustedProxies),

		replicas: replicas,
	}
	if owned {
		s.rdb.AddHook(redisHook{m: s.metrics})
	}
	// Reports take the matcher's facts and fill the chat records' sessions
	// unless a caller wires something else.
	if s.exchange, err = s.newExchange(); err != nil {
		return nil, fmt.Errorf("collector.New: %w", err)
	}
	s.ledger = ledger.New(s.rdb, s.conversationSink())
	s.ledger.SetLayout(person.Layout(opt.Config))
	s.learn = learn.New(s.rdb, opt.Clock)
	s.people = person.New(person.Options{Redis: s.rdb, Config: opt.Config, Reports: s.reports, Clock: opt.Clock,
		VisitID: func(site string, n uint64) string { return s.sites[site].codec.VisitID(n) }})
	s.wabiz = wabiz.New(wabiz.Options{Redis: s.rdb, Config: opt.Config, Ledger: s.ledger, Clock: opt.Clock, Log: opt.Log})
	for _, name := range opt.Config.SiteNames() {
		prepared, err := sites.New(ctx, s.rdb, opt.Config.Sites[name])
		if err != nil {
			return nil, fmt.Errorf("collector.New: site %q: %w", name, err)
		}
		prepared.Alloc.WaitReplicas(s.replicas)
		st, err := newSite(prepared)
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
	if path := opt.Config.GeoIP; path != "" {
		geo, err := enrich.OpenGeo(path)
		if err != nil {
			return nil, fmt.Errorf("collector.New: %s: geoip: %w", opt.Config.Path, err)
		}
		s.geo = geo
	}
	s.pipeline = enrich.New(s.geo, s.cfg.TruncateIPs)
	s.visits = newVisitWriter(s.rdb, s.replicas)
	s.intake = intake.New(intake.Options{
		Config: s.cfg, Site: s.prepared, Visits: port{s}, Enrich: s.pipeline,
		ClientIP: s.clientIP, Dropped: s.countDropped, Clock: s.clock, Log: s.log,
	})
	s.qr = qrhttp.New(qrhttp.Options{
		Config: s.cfg, Site: s.prepared, Guard: s.requireKey, SiteOf: authedPrepared, Visits: port{s},
		Redis: s.rdb, Enrich: s.pipeline, ClientIP: s.clientIP, Dropped: s.countDropped, Clock: s.clock, Log: s.log,
	})
	s.chats = s.newChatsAPI()
	dash, err := dashboard.New(dashboard.Options{
		Redis: s.rdb, Clock: s.clock, Log: s.log, PublicURL: s.cfg.PublicURL,
		Site: func(name string) (*config.Site, error) {
			st, err := s.lookupSite(name)
			if err != nil {
				return nil, err
			}
			return st.cfg, nil
		},
		ClientIP: s.clientIP, ClientKey: s.clientKey,
		Explain: func(c *fiber.Ctx, err error, internal string) (int, string) {
			status, msg, _ := s.explain(c, err, internal)
			return status, msg
		},
		Reports:    reportsAdapter{st: s.reports},
		Chats:      chatsAdapter{s: s},
		Deliveries: deliveriesAdapter{admin: s.exchange.admin},

		Heuristic: heuristicAdapter{s: s}, // learned_api.go
		WhatsApp:  wabizAdapter{svc: s.wabiz},
	})
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
		// Forwarded scheme and host count only from trusted_proxies; with
		// the check on and no proxies listed, nobody's header is believed.
		// The client's address is read by clientIP, not by fiber, which
		// drops entries such as ::ffff:192.0.2.1 and knows no Forwarded.
		EnableTrustedProxyCheck: true,
		TrustedProxies:          opt.Config.TrustedProxies,
	})
	s.routes()
	return s, nil
}

// StaticSourceLink returns the chat link a source's static QR holds
// (qrhttp.Handler.StaticLink).
func (s *Server) StaticSourceLink(ctx context.Context, siteName, source string) (string, error) {
	return s.qr.StaticLink(ctx, siteName, source)
}

// ownClient returns a client of the collector's own with c's options, so
// that the metrics hook is not added to the caller's client; owned is false
// when c is of a kind it cannot copy, which is then used as it is, without
// the hook.
func ownClient(c redis.UniversalClient) (_ redis.UniversalClient, owned bool) {
	switch c := c.(type) {
	case *redis.Client:
		o := *c.Options()
		return redis.NewClient(&o), true
	case *redis.ClusterClient:
		o := *c.Options()
		return redis.NewClusterClient(&o), true
	case *redis.Ring:
		o := *c.Options()
		return redis.NewRing(&o), true
	}
	return c, false
}

// Close releases what New opened: the visit writer, the GeoIP database and
// the collector's own Redis client. Call it after Serve has returned. It
// does not close the caller's Redis client, and is safe to call more than
// once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Server) close() error {
	s.visits.close()
	var errs []error
	if s.geo != nil {
		if err := s.geo.Close(); err != nil {
			errs = append(errs, fmt.Errorf("collector.Close: geoip: %w", err))
		}
		s.geo = nil
	}
	if s.ownRdb {
		if err := s.rdb.Close(); err != nil {
			errs = append(errs, fmt.Errorf("collector.Close: redis: %w", err))
		}
	}
	return errors.Join(errs...)
}

// features are the HTTP surface in registration order, each feature's
// route registration; each lives in its own file or package. The server
// only composes them and maps their errors (errors.go).
func (s *Server) features() []func(fiber.Router) {
	return []func(fiber.Router){
		s.routesOps,        // ops.go: /healthz
		s.routesMetrics,    // metrics.go: /metrics
		s.intake.Register,  // collector/intake: the snippet's visits and clicks
		s.routesWABiz,      // collector/wabiz: WhatsApp template sends and records
		s.routesSendBack,   // collector/sendback: the send-back widget
		s.routesVisits,     // visit.go: a stored visit, for operators
		s.routesReports,    // reports_http.go: events, costs, reports
		s.routesSnippet,    // snippet.go: the browser script
		s.routesHooks,      // hooks.go: webhooks and the messages API
		s.chats.Register,   // collector/chatsapi: the operators' chat API
		s.qr.Register,      // collector/qrhttp: scans and QR images
		s.routesPeople,     // collector/person: export and erasure
		s.routesLearned,    // learned_api.go: the learned heuristic and its proof
		s.routesTags,       // collector/chattags: operators' tags on a chat
		s.routesDeliveries, // exchange.go: outbound deliveries
		s.dash.Routes,      // collector/dashboard
		s.routesDemo,       // demo_routes.go: the demo phone, for a demo site only
		s.routesStatic,     // ops.go, last: it must not shadow any route above
	}
}

// routes builds the app from the middleware every answer goes through and
// each feature's routes.
func (s *Server) routes() {
	s.app.Use(s.observe)   // first: counts every answer
	s.app.Use(s.budget)    // unavailable.go: a deadline for what a sender waits on
	s.app.Use(s.rateLimit) // before any public route it guards
	for _, register := range s.features() {
		register(s.app)
	}
}

// App returns the fiber application, for tests and for embedding.
func (s *Server) App() *fiber.App { return s.app }

// Serve answers requests on ln until ctx ends, then stops taking new
// connections and waits up to grace for the requests under way.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- s.app.Listener(ln) }()
	// The outbound dispatcher runs while the server does.
	exCtx, stopExchange := context.WithCancel(ctx)
	waitExchange := s.startExchange(exCtx)
	defer func() { stopExchange(); waitExchange() }()
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
	// A server stopped before it began to accept has not been handed ln
	// yet, so the shutdown could not close it; closing it here ends the
	// late start at once.
	if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("collector.Serve: close listener: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("collector.Serve: after shutdown: %w", err)
	}
	return nil
}
