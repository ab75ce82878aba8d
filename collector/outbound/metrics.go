package outbound

import (
	"fmt"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the per-target delivery metrics.
type metrics struct {
	delivered, retried, dead *prometheus.CounterVec
	latency, age             *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	labels := []string{"site", "target"}
	m := &metrics{
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "messtrack_outbound_delivered_total", Help: "Deliveries a target accepted, by site and target.",
		}, labels),
		retried: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "messtrack_outbound_retried_total", Help: "Failed attempts that will be tried again, by site and target.",
		}, labels),
		dead: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "messtrack_outbound_dead_total", Help: "Deliveries given up and kept as dead letters, by site and target.",
		}, labels),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "messtrack_outbound_latency_seconds", Help: "Time a target took to accept a delivery, by site and target.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, labels),
		age: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "messtrack_outbound_queue_age_seconds", Help: "How long deliveries had waited since queueing when attempted (a stuck endpoint's grow with each retry), by site and target.",
			Buckets: []float64{.01, .05, .25, 1, 5, 30, 120, 600, 3600, 6 * 3600, 26 * 3600},
		}, labels),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.delivered, m.retried, m.dead, m.latency, m.age} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

func slicesSort(s []string) { slices.Sort(s) }
