// Package alertmanager decodes the body Prometheus Alertmanager's webhook
// receiver (webhook_configs) POSTs, version "4":
//
//	{
//	  "version": "4",
//	  "status": "firing",
//	  "receiver": "herald",
//	  "groupKey": "{}:{alertname=\"HighLatency\"}",
//	  "truncatedAlerts": 0,
//	  "groupLabels": {…}, "commonLabels": {…}, "commonAnnotations": {…},
//	  "externalURL": "http://alertmanager:9093",
//	  "alerts": [{
//	    "status": "firing",
//	    "labels": {"alertname": "HighLatency", "severity": "critical"},
//	    "annotations": {"summary": "p99 latency above 2s"},
//	    "startsAt": "2026-11-24T01:36:59.967Z",
//	    "endsAt": "0001-01-01T00:00:00Z",
//	    "generatorURL": "http://prometheus:9090/graph?…",
//	    "fingerprint": "1b62ecc05f9cda94"
//	  }]
//	}
//
// Each alert becomes one gateway.Alert: its fingerprint is Alertmanager's
// (else the hash of its labels), its severity the "severity" label (warning
// when absent), its summary the "summary" annotation, else "description",
// else the alertname label. Firing alerts' endsAt of year 1 is the zero
// time. An alert sent as firing whose endsAt has already passed when it
// arrives (a notification retried or delayed past the alert's end) is
// resolved, as Alertmanager itself treats an alert whose end has passed. The group-level fields are not decoded; unknown fields are
// accepted, as newer Alertmanagers add some (notification_reason,
// routeLabels).
package alertmanager

import (
	"encoding/json"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/sources/decode"
	"github.com/heraldstatus/herald/gateway/sources/internal/normalize"
)

// Version is the webhook body version this package decodes.
const Version = "4"

// message is the webhook body; only what Herald uses is decoded.
type message struct {
	Version string            `json:"version"`
	Alerts  []json.RawMessage `json:"alerts"`
}

// compactMessage is message for normalize.PrometheusAlerts: the alerts
// list as one JSON text.
type compactMessage struct {
	Version string          `json:"version"`
	Alerts  json.RawMessage `json:"alerts"`
}

// Decoder decodes Alertmanager webhook bodies.
type Decoder struct{}

var _ decode.Decoder = Decoder{}

// Decode implements decode.Decoder. A body of another version than "4"
// is rejected with a gateway.EUNPROCESSABLE error naming "version"; an
// empty alerts list gives no alerts. A body the compact way takes (see
// normalize.PrometheusAlerts) is decoded that way, any other the plain
// way, which gives the same alerts and says what is wrong.
func (Decoder) Decode(body []byte, now time.Time) ([]gateway.Alert, error) {
	if alerts, ok := decodeCompact(body, now); ok {
		return alerts, nil
	}
	return decodePlain(body, now)
}

func decodeCompact(body []byte, now time.Time) ([]gateway.Alert, bool) {
	var c compactMessage
	if normalize.Body(body, &c) != nil || c.Version != "" && c.Version != Version {
		return nil, false
	}
	return normalize.PrometheusAlerts(c.Alerts, normalize.WebhookAlert(now, ""))
}

func decodePlain(body []byte, now time.Time) ([]gateway.Alert, error) {
	var m message
	if err := normalize.Body(body, &m); err != nil {
		return nil, err
	}
	if m.Version != "" && m.Version != Version {
		return nil, gateway.FieldError("version", "Alertmanager webhook version "+normalize.Quote(m.Version)+" is not supported; Herald decodes version \"4\"")
	}
	return normalize.WebhookAlerts(m.Alerts, now, "")
}

// ContentTypes implements decode.Decoder: Alertmanager sends
// application/json.
func (Decoder) ContentTypes() []string { return []string{"application/json"} }
