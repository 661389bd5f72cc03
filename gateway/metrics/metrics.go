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

	// IncidentUpdatesDue counts reminders that an update support promised
	// (next_update_at) was not posted in time.
	IncidentUpdatesDue prometheus.Counter
	// IncidentTimers counts fired incident timers by kind (reconcile,
	// notify, resolve, update_due, maintenance_start, maintenance_end).
	IncidentTimers *prometheus.CounterVec
	// ProbeUp is 1 while a probe's last run succeeded, 0 after a failed
	// one, by probe; each replica reports the runs it made (a probe runs on
	// one replica per interval), so take the newest sample across replicas.
	ProbeUp *prometheus.GaugeVec
	// ProbeDuration observes probe runs by probe and kind.
	ProbeDuration *prometheus.HistogramVec
	// ConsoleSignIns counts support console sign-in attempts by outcome
	// (ok, failed, limited): a rise in failed or limited is someone guessing.
	ConsoleSignIns *prometheus.CounterVec

	// HTTPRequests observes every request's duration by route pattern,
	// method and status code.
	HTTPRequests *prometheus.HistogramVec
	// StoreReady is 1 while the database answers and is migrated.
	StoreReady prometheus.Gauge
	// StoreConnectAttempts counts start-up connection attempts by outcome
	// (ok, error): a climbing error count means Herald is waiting for its
	// database.
	StoreConnectAttempts *prometheus.CounterVec

	// IngestAlerts counts received alerts by source and outcome: accepted
	// (new, or changed state), deduplicated (seen again), stale (older
	// than what is stored, ignored).
	IngestAlerts *prometheus.CounterVec
	// IngestRejected counts refused ingest requests by source and reason
	// (the error code: unauthorized, invalid, rate_limited, …); requests
	// naming no known source count under source="unknown".
	IngestRejected *prometheus.CounterVec
	// IngestUnrouted counts stored alerts that matched no routing rule, by
	// source: they touch no component, so a rise means a missing rule.
	IngestUnrouted *prometheus.CounterVec
	// IngestDuration observes ingest requests from routing to answer, by
	// source, accepted or not.
	IngestDuration *prometheus.HistogramVec
	// IngestCommitRequests observes how many requests each ingest
	// transaction carried (group commit), IngestCommitDuration how long
	// each took: many requests per transaction mean a busy database.
	IngestCommitRequests prometheus.Histogram
	IngestCommitDuration prometheus.Histogram

	// DeliveryQueueDepth is how many deliveries are queued, retrying and
	// sending, refreshed from the database every few seconds (so every
	// replica reports the same shared queue).
	DeliveryQueueDepth *prometheus.GaugeVec
	// DeliveryQueueLag is how long the longest-waiting due delivery has
	// waited: near zero while the dispatchers keep up.
	DeliveryQueueLag prometheus.Gauge
	// DeliveriesPlanned counts deliveries inserted by the planner.
	DeliveriesPlanned prometheus.Counter
	// DeliveryAttempts counts send attempts by channel and outcome (sent,
	// temporary, permanent); the rate of outcome="sent" is the send rate.
	DeliveryAttempts *prometheus.CounterVec
	// DeliveriesUnsent counts deliveries that reached a final status
	// other than sent, by channel and status (dead, suppressed, cancelled).
	DeliveriesUnsent *prometheus.CounterVec
	// DeliverySendDuration observes each attempt's duration by channel.
	DeliverySendDuration *prometheus.HistogramVec
	// DeliveryLeasesLost counts outcomes not recorded because the lease had
	// expired and another worker had taken the delivery (a possible
	// duplicate: leases are too short, or the process stalled).
	DeliveryLeasesLost prometheus.Counter
	// DeliveryFailures counts failed attempts by channel and reason: the
	// SMTP code or HTTP status, or timeout, dns, connection, channel_down
	// (the SMTP server itself), invalid.
	DeliveryFailures *prometheus.CounterVec
	// DeliverySendRate is the messages this process sent per second over
	// the last stats interval, by channel: the achieved rate.
	DeliverySendRate *prometheus.GaugeVec
	// DeliveryChannelPaused is 1 while a channel is paused because its
	// service (the SMTP server) is down and being probed.
	DeliveryChannelPaused *prometheus.GaugeVec
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
		DeliveryQueueDepth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "herald_delivery_queue_depth",
			Help: "Deliveries waiting or in flight, by status (queued, retrying, sending).",
		}, []string{"status"}),
		DeliveryQueueLag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "herald_delivery_queue_lag_seconds",
			Help: "Age of the oldest due delivery not yet claimed (0 when none waits).",
		}),
		DeliveriesPlanned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_deliveries_planned_total",
			Help: "Deliveries inserted by the planner.",
		}),
		DeliveryAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_delivery_attempts_total",
			Help: "Send attempts by channel and outcome (sent, temporary, permanent).",
		}, []string{"channel", "outcome"}),
		DeliveriesUnsent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_deliveries_unsent_total",
			Help: "Deliveries that ended without being sent, by channel and status (dead, suppressed, cancelled).",
		}, []string{"channel", "status"}),
		DeliverySendDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "herald_delivery_send_duration_seconds",
			Help:    "Duration of send attempts by channel.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"channel"}),
		DeliveryLeasesLost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_delivery_leases_lost_total",
			Help: "Outcomes not recorded because the delivery's lease had expired and another worker had claimed it.",
		}),
		DeliveryFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_delivery_failures_total",
			Help: "Failed send attempts by channel and reason (SMTP code, HTTP status, timeout, dns, connection, channel_down, invalid).",
		}, []string{"channel", "reason"}),
		DeliverySendRate: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "herald_delivery_send_rate",
			Help: "Messages sent per second by this process over the last stats interval, by channel.",
		}, []string{"channel"}),
		DeliveryChannelPaused: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "herald_delivery_channel_paused",
			Help: "1 while a channel is paused because its service is unreachable (probing), else 0.",
		}, []string{"channel"}),
		IngestAlerts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_ingest_alerts_total",
			Help: "Alerts received, by source and outcome (accepted, deduplicated, stale).",
		}, []string{"source", "outcome"}),
		IngestRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_ingest_rejected_total",
			Help: "Ingest requests refused, by source and reason (the error code).",
		}, []string{"source", "reason"}),
		IngestUnrouted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_ingest_unrouted_alerts_total",
			Help: "Stored alerts that matched no routing rule, by source.",
		}, []string{"source"}),
		IngestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "herald_ingest_request_duration_seconds",
			Help:    "Duration of ingest requests by source.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"source"}),
	}
	m.IncidentUpdatesDue = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "herald_incident_updates_due_total",
		Help: "Promised incident updates (next_update_at) that were not posted in time.",
	})
	m.IncidentTimers = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_incident_timers_fired_total",
		Help: "Incident timers fired, by kind.",
	}, []string{"kind"})
	m.Registry.MustRegister(m.IncidentUpdatesDue, m.IncidentTimers)
	m.ConsoleSignIns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_console_sign_ins_total",
		Help: "Support console sign-in attempts, by outcome (ok, failed, limited).",
	}, []string{"outcome"})
	m.Registry.MustRegister(m.ConsoleSignIns)
	m.ProbeUp = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "herald_probe_up",
		Help: "Whether a probe's last run on this replica succeeded (1) or failed (0), by probe.",
	}, []string{"probe"})
	m.ProbeDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "herald_probe_duration_seconds",
		Help:    "Duration of probe runs, by probe and kind.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"probe", "kind"})
	m.Registry.MustRegister(m.ProbeUp, m.ProbeDuration)
	m.IngestCommitRequests = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "herald_ingest_commit_requests",
		Help:    "Ingest requests per transaction (group commit).",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128},
	})
	m.IngestCommitDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "herald_ingest_commit_duration_seconds",
		Help:    "Duration of ingest transactions, from the first statement to the commit.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	})
	m.Registry.MustRegister(m.IngestCommitRequests, m.IngestCommitDuration)
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.HTTPRequests, m.StoreReady, m.StoreConnectAttempts,
		m.IngestAlerts, m.IngestRejected, m.IngestUnrouted, m.IngestDuration,
		m.DeliveryQueueDepth, m.DeliveryQueueLag, m.DeliveriesPlanned, m.DeliveryAttempts,
		m.DeliveriesUnsent, m.DeliverySendDuration, m.DeliveryLeasesLost,
		m.DeliveryFailures, m.DeliverySendRate, m.DeliveryChannelPaused,
	)
	return m
}
