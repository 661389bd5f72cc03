// Package grafana decodes the body Grafana's unified alerting webhook
// contact point POSTs (Grafana 8 and later, body version "1"). It is
// Alertmanager's webhook body with more fields:
//
//	{
//	  "receiver": "herald", "status": "firing", "orgId": 1, "version": "1",
//	  "title": "[FIRING:1] CheckoutErrors payments (checkout-api)",
//	  "state": "alerting", "message": "**Firing** …",
//	  "groupKey": "…", "truncatedAlerts": 0, "externalURL": "https://grafana.example/",
//	  "groupLabels": {…}, "commonLabels": {…}, "commonAnnotations": {…},
//	  "alerts": [{
//	    "status": "firing",
//	    "labels": {"alertname": "CheckoutErrors", "grafana_folder": "payments"},
//	    "annotations": {"summary": "5xx ratio above 5%"},
//	    "startsAt": "2026-11-24T01:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
//	    "generatorURL": "https://grafana.example/alerting/grafana/abc123/view",
//	    "fingerprint": "0f3c9a1b2c3d4e5f",
//	    "silenceURL": "…", "dashboardURL": "…", "panelURL": "…", "imageURL": "…",
//	    "values": {"A": 0.071, "C": 1}, "valueString": "[ var='A' … ]"
//	  }]
//	}
//
// Each alert becomes one gateway.Alert: its fingerprint is Grafana's (else
// the hash of its labels), its severity the "severity" label (warning when
// absent), its summary the "summary" annotation, else "description", else
// the notification's title when the notification holds this one alert
// only, else the alertname label. The Grafana-only
// alert fields (URLs, values) stay in Raw. Legacy (pre-8) Grafana alerting
// bodies have no alerts list and are rejected.
package grafana

import (
	"encoding/json"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/sources/decode"
	"github.com/heraldstatus/herald/gateway/sources/internal/normalize"
)

// message is the webhook body; only what Herald uses is decoded.
type message struct {
	Title  string            `json:"title"`
	Alerts []json.RawMessage `json:"alerts"`
}

// Decoder decodes Grafana webhook contact point bodies.
type Decoder struct{}

var _ decode.Decoder = Decoder{}

// compactMessage is message for normalize.PrometheusAlerts: the alerts
// list as one JSON text.
type compactMessage struct {
	Title  string          `json:"title"`
	Alerts json.RawMessage `json:"alerts"`
}

// Decode implements decode.Decoder. An empty alerts list gives no alerts;
// a missing one (as in legacy Grafana alerting bodies) is a
// gateway.EUNPROCESSABLE error naming "alerts". A body the compact way
// takes (see normalize.PrometheusAlerts) is decoded that way, any other
// the plain way, which gives the same alerts and says what is wrong.
func (Decoder) Decode(body []byte, now time.Time) ([]gateway.Alert, error) {
	if alerts, ok := decodeCompact(body, now); ok {
		return alerts, nil
	}
	return decodePlain(body, now)
}

func decodeCompact(body []byte, now time.Time) ([]gateway.Alert, bool) {
	var c compactMessage
	if normalize.Body(body, &c) != nil {
		return nil, false
	}
	return normalize.PrometheusAlerts(c.Alerts, normalize.WebhookAlert(now, groupTitle(c.Title, normalize.ListLen(c.Alerts))))
}

func decodePlain(body []byte, now time.Time) ([]gateway.Alert, error) {
	var m message
	if err := normalize.Body(body, &m); err != nil {
		return nil, err
	}
	return normalize.WebhookAlerts(m.Alerts, now, groupTitle(m.Title, len(m.Alerts)))
}

// groupTitle is the summary fallback a body's title gives its alerts: a
// group's title describes none of its alerts alone.
func groupTitle(title string, alerts int) string {
	if alerts != 1 {
		return ""
	}
	return title
}

// ContentTypes implements decode.Decoder: Grafana sends application/json.
func (Decoder) ContentTypes() []string { return []string{"application/json"} }
