// Package generic decodes Herald's own alert format, for scripts, cron jobs
// and tools that can send a JSON webhook but speak none of the other
// formats. The body is a list of alerts under "alerts":
//
//	{
//	  "alerts": [
//	    {
//	      "fingerprint": "backup-nightly",
//	      "status": "firing",
//	      "severity": "error",
//	      "summary": "Nightly database backup failed",
//	      "labels": {"service": "db", "job": "backup"},
//	      "annotations": {"runbook_url": "https://runbooks.example/backup"},
//	      "starts_at": "2026-11-24T02:00:00Z",
//	      "generator_url": "https://ci.example/jobs/backup/812"
//	    }
//	  ]
//	}
//
// or one alert object on its own, without the wrapper:
//
//	curl -H 'Authorization: Bearer hsrc_…' -H 'Content-Type: application/json' \
//	  -d '{"status":"resolved","fingerprint":"backup-nightly","summary":"Backup ok"}' \
//	  https://herald.example/ingest/scripts
//
// Fields of an alert:
//   - status (required): "firing" or "resolved".
//   - summary and labels: at least one of them is required. summary is the
//     one-line description (else the "summary" or "description"
//     annotation, else the alertname label); labels are what routing rules
//     match.
//   - fingerprint: identifies the alert across posts, so that "resolved"
//     closes what "firing" opened (at most 255 characters). Without it,
//     the hash of the labels, or of the summary when there are no labels.
//   - severity: critical, error, warning or info (common synonyms such as
//     "crit" or "p1" are understood); else the "severity" label; else
//     warning.
//   - annotations: free-form strings shown with the alert.
//   - starts_at, ends_at: RFC 3339 times. starts_at defaults to the time
//     Herald receives the alert; a resolved alert without ends_at ends
//     then.
//   - generator_url: a link back to what raised the alert.
//
// Unknown fields are accepted and kept in the alert's raw JSON. Problems
// are reported per field with the alert's index, as "alerts[2].status"
// (or "status" for a single alert).
package generic

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/sources/decode"
	"github.com/heraldstatus/herald/gateway/sources/internal/normalize"
)

// MaxFingerprintLength bounds a fingerprint sent by the caller.
const MaxFingerprintLength = 255

// alert is one alert of the format.
type alert struct {
	Fingerprint  string            `json:"fingerprint"`
	Status       string            `json:"status"`
	Severity     string            `json:"severity"`
	Summary      string            `json:"summary"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"starts_at"`
	EndsAt       string            `json:"ends_at"`
	GeneratorURL string            `json:"generator_url"`
}

// Decoder decodes Herald's generic alert format.
type Decoder struct{}

var _ decode.Decoder = Decoder{}

// Decode implements decode.Decoder. The body is {"alerts": [...]} (an empty
// list gives no alerts) or one alert object.
func (Decoder) Decode(body []byte, now time.Time) ([]gateway.Alert, error) {
	var top map[string]json.RawMessage
	if err := normalize.Body(body, &top); err != nil {
		return nil, err
	}
	var p normalize.Problems
	wrapped, ok := top["alerts"]
	if !ok {
		a := decodeAlert(&p, "", body, now)
		if err := p.Err(); err != nil {
			return nil, err
		}
		return []gateway.Alert{a}, nil
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(wrapped, &raws); err != nil || raws == nil {
		return nil, gateway.FieldError("alerts", "must be a list of alerts")
	}
	alerts := make([]gateway.Alert, 0, len(raws))
	for i, raw := range raws {
		alerts = append(alerts, decodeAlert(&p, fmt.Sprintf("alerts[%d]", i), raw, now))
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return alerts, nil
}

// ContentTypes implements decode.Decoder: the format is JSON.
func (Decoder) ContentTypes() []string { return []string{"application/json"} }

// decodeAlert converts the alert named field; problems go to p.
func decodeAlert(p *normalize.Problems, field string, raw json.RawMessage, now time.Time) gateway.Alert {
	var in alert
	if !normalize.Element(p, field, raw, &in) {
		return gateway.Alert{}
	}
	name := func(f string) string { return normalize.Join(field, f) }
	labels := normalize.Labels(p, name("labels"), in.Labels, false)
	a := gateway.Alert{
		Fingerprint:  in.Fingerprint,
		Status:       normalize.Status(p, name("status"), in.Status),
		Severity:     normalize.Severity(labels),
		Summary:      strings.TrimSpace(in.Summary),
		Labels:       labels,
		Annotations:  in.Annotations,
		StartsAt:     normalize.Time(p, name("starts_at"), in.StartsAt),
		EndsAt:       normalize.Time(p, name("ends_at"), in.EndsAt),
		GeneratorURL: in.GeneratorURL,
		Raw:          raw,
	}
	if a.Summary == "" {
		a.Summary = normalize.Summary(in.Annotations, labels["alertname"])
	}
	if in.Severity != "" {
		a.Severity = gateway.ParseSeverity(in.Severity, "")
		if a.Severity == "" {
			p.Add(name("severity"), "must be critical, error, warning or info, not "+normalize.Quote(in.Severity))
		}
	}
	if strings.TrimSpace(in.Summary) == "" && len(labels) == 0 {
		p.Add(name("summary"), "is required when there are no labels")
	}
	if utf8.RuneCountInString(in.Fingerprint) > MaxFingerprintLength {
		p.Add(name("fingerprint"), "is longer than 255 characters")
	}
	if a.Fingerprint == "" && len(labels) == 0 {
		a.Fingerprint = gateway.LabelsFingerprint(map[string]string{"__summary__": a.Summary})
	}
	normalize.Finish(p, name("ends_at"), &a, now)
	return a
}
