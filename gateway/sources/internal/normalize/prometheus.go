package normalize

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/heraldstatus/herald/gateway"
)

// PrometheusAlert is the alert of Prometheus' data model as Alertmanager's
// webhook body carries it. Grafana's webhook contact point sends the same
// object with more fields (silenceURL, dashboardURL, panelURL, imageURL,
// values), which stay in Raw; Alertmanager's API v2 (POST /api/v2/alerts)
// takes it without status and fingerprint. Times are strings so that a bad
// one is reported with its field name.
type PrometheusAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Alert converts the fields every carrier of a Prometheus alert shares;
// the caller sets Status and, where the format has one, Fingerprint, then
// calls Finish. summaryFallback comes after the summary and description
// annotations and before the alertname label.
func (pa *PrometheusAlert) Alert(p *Problems, field string, raw json.RawMessage, summaryFallback string) gateway.Alert {
	labels := Labels(p, Join(field, "labels"), pa.Labels, true)
	return gateway.Alert{
		Severity:     Severity(labels),
		Summary:      Summary(pa.Annotations, summaryFallback, labels["alertname"]),
		Labels:       labels,
		Annotations:  orEmpty(pa.Annotations),
		StartsAt:     Time(p, Join(field, "startsAt"), pa.StartsAt),
		EndsAt:       Time(p, Join(field, "endsAt"), pa.EndsAt),
		GeneratorURL: pa.GeneratorURL,
		Raw:          raw,
	}
}

// Ended reports whether a is over at now by Alertmanager's own rule
// (types.Alert.ResolvedAt): its end is set and not after now. Alertmanager
// takes such an alert for resolved whatever status it was last sent with,
// so a webhook body that says "firing" about it (a notification retried or
// delivered late, after the alert's end) must not keep it firing.
func Ended(a *gateway.Alert, now time.Time) bool {
	return !a.EndsAt.IsZero() && !a.EndsAt.After(now)
}

// WebhookAlerts converts the "alerts" list of an Alertmanager-style webhook
// body (Alertmanager's own, Grafana's): each alert's status must be firing
// or resolved (a firing one whose endsAt has passed is resolved, see
// Ended), its labels non-empty; its fingerprint is the one sent, else
// the labels' hash. A nil list (the field is missing or null) is a
// gateway.EUNPROCESSABLE error; an empty one gives no alerts.
// summaryFallback is as for PrometheusAlert.Alert. Each alert is converted
// by WebhookAlert, which PrometheusAlerts takes for the same result.
func WebhookAlerts(raws []json.RawMessage, now time.Time, summaryFallback string) ([]gateway.Alert, error) {
	if raws == nil {
		return nil, gateway.FieldError("alerts", "is required (a list of alerts)")
	}
	return Elements(raws, "alerts", WebhookAlert(now, summaryFallback))
}

// WebhookAlert converts one alert of an Alertmanager-style webhook body
// (see WebhookAlerts).
func WebhookAlert(now time.Time, summaryFallback string) ConvertFunc {
	return func(p *Problems, field string, wa *PrometheusAlert, raw json.RawMessage) gateway.Alert {
		a := wa.Alert(p, field, raw, summaryFallback)
		a.Status = Status(p, field+".status", wa.Status)
		if Ended(&a, now) {
			a.Status = gateway.AlertResolved
		}
		a.Fingerprint = wa.Fingerprint
		Finish(p, field+".endsAt", &a, now)
		return a
	}
}

// Elements decodes each element of a list of Prometheus alerts, named
// list+"[i]" in problems, and converts it: the plain way, whose answer
// PrometheusAlerts gives the compact way.
func Elements(raws []json.RawMessage, list string, convert ConvertFunc) ([]gateway.Alert, error) {
	var p Problems
	alerts := make([]gateway.Alert, 0, len(raws))
	for i, raw := range raws {
		field := fmt.Sprintf("%s[%d]", list, i)
		var pa PrometheusAlert
		if !Element(&p, field, raw, &pa) {
			continue
		}
		alerts = append(alerts, convert(&p, field, &pa, raw))
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return alerts, nil
}
