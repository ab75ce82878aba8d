package collector

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
)

// metrics are the Server's Prometheus collectors, on a registry the Server
// owns: two Servers in one process (tests) never share counters.
type metrics struct {
	registry    *prometheus.Registry
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	visits      *prometheus.CounterVec
	clicks      *prometheus.CounterVec
	dropped     *prometheus.CounterVec
	matches     *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	redisErrors *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "messtrack_http_requests_total",
			Help: "HTTP requests answered, by route pattern and status code.",
		}, []string{"route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "messtrack_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		visits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "messtrack_visits_total",
			Help: "Visits stored, by site.",
		}, []string{"site"}),
		clicks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "messtrack_clicks_total",
			Help: "Chat-link clicks recorded, by site.",
		}, []string{"site"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "messtrack_visits_dropped_total",
			Help: "Visits dropped on purpose (bots, prefetches), by reason.",
		}, []string{"reason"}),
		matches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "messtrack_matches_total",
			Help: "First messages matched to a source, by match method.",
		}, []string{"method"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "messtrack_rate_limited_total",
			Help: "Requests refused by the per-IP rate limit, by endpoint group.",
		}, []string{"group"}),
		redisErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "messtrack_redis_errors_total",
			Help: "Redis commands that failed (not counting missing keys), by command.",
		}, []string{"command"}),
	}
	m.registry.MustRegister(m.requests, m.duration, m.visits, m.clicks, m.dropped, m.matches,
		m.rateLimited, m.redisErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// countMatch counts a first message matched by method (id, referral,
// dedicated_number, send_back, heuristic, none); the matcher and the send-back call it.
func (s *Server) countMatch(method string) {
	s.metrics.matches.WithLabelValues(method).Inc()
}

func (s *Server) routesMetrics(r fiber.Router) {
	r.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})))
}

// observe is the first middleware: it answers errors through errorHandler
// itself so that the status it counts is the one the client gets.
func (s *Server) observe(c *fiber.Ctx) error {
	start := time.Now()
	if err := c.Next(); err != nil {
		if herr := s.errorHandler(c, err); herr != nil {
			return herr
		}
	}
	route := c.Route().Path
	status := c.Response().StatusCode()
	if status == fiber.StatusNotFound && route == "/" {
		// No route matched: the path is the client's, not a pattern, and
		// would let anyone mint label values.
		route = "unmatched"
	}
	s.metrics.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	s.metrics.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	return nil
}

// redisHook counts failed Redis commands. A missing key (redis.Nil) is an
// answer, not a failure, and NOSCRIPT is the normal first run of a Lua
// script that go-redis retries with EVAL.
type redisHook struct{ m *metrics }

func (h redisHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		if err != nil {
			h.m.redisErrors.WithLabelValues("dial").Inc()
		}
		return conn, err
	}
}

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if redisFailure(err) {
			h.m.redisErrors.WithLabelValues(cmd.Name()).Inc()
		}
		return err
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if redisFailure(err) {
			h.m.redisErrors.WithLabelValues("pipeline").Inc()
		}
		return err
	}
}

func redisFailure(err error) bool {
	return err != nil && !errors.Is(err, redis.Nil) && !strings.HasPrefix(err.Error(), "NOSCRIPT")
}
