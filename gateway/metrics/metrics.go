// Package metrics holds Herald's Prometheus collectors in one registry, so
// that every stage (HTTP, ingest, the delivery queue) reports under one
// naming scheme (herald_<stage>_<what>) and tests can read values back.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics is the set of collectors. Each stage gets its fields here; the
// zero value is not usable, call New.
type Metrics struct {
	Registry *prometheus.Registry

	// HTTPRequests observes every request's duration by route pattern,
	// method and status code.
	HTTPRequests *prometheus.HistogramVec
	// StoreReady is 1 while the database answers and is migrated.
	StoreReady prometheus.Gauge
	// StoreConnectAttempts counts start-up connection attempts by outcome
	// (ok, error): a climbing error count means Herald is waiting for its
	// database.
	StoreConnectAttempts *prometheus.CounterVec
}

// New returns fresh collectors registered on a new registry, along with the
// Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		HTTPRequests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "herald_http_request_duration_seconds",
			Help:    "Duration of HTTP requests by route, method and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "code"}),
		StoreReady: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "herald_store_ready",
			Help: "1 while the database answers and every migration is applied, else 0.",
		}),
		StoreConnectAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_store_connect_attempts_total",
			Help: "Attempts to connect to and migrate the database at start-up, by outcome.",
		}, []string{"outcome"}),
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.HTTPRequests, m.StoreReady, m.StoreConnectAttempts,
	)
	return m
}
