// Package alertmanagerapi decodes the alert list Prometheus (or amtool, or
// any other client) POSTs to Alertmanager's API, POST /api/v2/alerts, so
// that Prometheus can be pointed at Herald as if it were an Alertmanager
// (alerting.alertmanagers with path_prefix /ingest/<source> and
// api_version v2):
//
//	[{
//	  "labels": {"alertname": "HighLatency", "instance": "web-1:9090", "severity": "critical"},
//	  "annotations": {"summary": "p99 latency above 2s on web-1"},
//	  "startsAt": "2026-11-24T01:36:59.967Z",
//	  "endsAt": "2026-11-24T01:42:59.967Z",
//	  "generatorURL": "http://prometheus:9090/graph?g0.expr=…"
//	}]
//
// The list has no status: as in Alertmanager, an alert whose endsAt is set
// and not after the time Herald receives it is resolved, any other is
// firing (Prometheus re-sends firing alerts with an endsAt a few minutes
// ahead). Each alert needs at least one label; its fingerprint is the hash
// of its labels, its severity the "severity" label (warning when absent),
// its summary the "summary" annotation, else "description", else the
// alertname label. A missing startsAt becomes the receive time, or endsAt
// when that is earlier.
package alertmanagerapi

import (
	"encoding/json"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/sources/decode"
	"github.com/heraldstatus/herald/gateway/sources/internal/normalize"
)

// Decoder decodes the bodies of Alertmanager's POST /api/v2/alerts.
type Decoder struct{}

var (
	_ decode.Decoder   = Decoder{}
	_ decode.Refreshed = Decoder{}
)

// Decode implements decode.Decoder. The body must be a JSON array
// (gateway.EINVALID otherwise); problems are named by index, as
// "[2].labels". An empty array gives no alerts. A body the compact way
// takes (see normalize.PrometheusAlerts) is decoded that way, any other the
// plain way, which gives the same alerts and says what is wrong.
func (Decoder) Decode(body []byte, now time.Time) ([]gateway.Alert, error) {
	if alerts, ok := decodeCompact(body, now); ok {
		return alerts, nil
	}
	return decodePlain(body, now)
}

func decodeCompact(body []byte, now time.Time) ([]gateway.Alert, bool) {
	var list json.RawMessage
	if normalize.Body(body, &list) != nil {
		return nil, false
	}
	return normalize.PrometheusAlerts(list, convert(now))
}

func decodePlain(body []byte, now time.Time) ([]gateway.Alert, error) {
	var raws []json.RawMessage
	if err := normalize.Body(body, &raws); err != nil {
		return nil, err
	}
	return normalize.Elements(raws, "", convert(now))
}

// convert makes one alert of the list: firing, unless its end has passed.
func convert(now time.Time) normalize.ConvertFunc {
	return func(p *normalize.Problems, field string, pa *normalize.PrometheusAlert, raw json.RawMessage) gateway.Alert {
		a := pa.Alert(p, field, raw, "")
		a.Status = gateway.AlertFiring
		if normalize.Ended(&a, now) {
			a.Status = gateway.AlertResolved
		}
		normalize.Finish(p, field+".endsAt", &a, now)
		return a
	}
}

// Refreshed implements decode.Refreshed: Prometheus re-sends a firing
// alert every minute or so, and amtool and scripts post it once with no
// end, leaving Alertmanager's resolve_timeout to end it.
func (Decoder) Refreshed() bool { return true }

// ContentTypes implements decode.Decoder: Prometheus sends
// application/json.
func (Decoder) ContentTypes() []string { return []string{"application/json"} }
