package normalize

import (
	"strings"
	"time"

	"github.com/heraldstatus/herald/gateway"
)

// Time parses an RFC 3339 time (fractional seconds allowed) into UTC. The
// empty string and Go's zero time "0001-01-01T00:00:00Z", which
// Alertmanager and Grafana send as the end of a firing alert, give the
// zero time. extra layouts are tried after RFC 3339, for formats that
// document another ISO 8601 form. A value that parses with no layout adds
// a problem for field and gives the zero time.
func Time(p *Problems, field, s string, extra ...string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	for _, layout := range extra {
		if err == nil {
			break
		}
		t, err = time.Parse(layout, s)
	}
	if err != nil {
		p.Add(field, "must be an RFC 3339 time such as 2026-11-24T01:37:24Z, not "+Quote(s))
		return time.Time{}
	}
	t = t.UTC()
	if t.IsZero() {
		return time.Time{}
	}
	if y := t.Year(); y < 1 || y > 9999 {
		p.Add(field, "is out of range (years 1 to 9999 in UTC): "+Quote(s))
		return time.Time{}
	}
	return t
}

// Status parses an alert status, which must be "firing" or "resolved".
func Status(p *Problems, field, s string) gateway.AlertStatus {
	switch gateway.AlertStatus(s) {
	case gateway.AlertFiring: // the constants, not s: nothing of the body kept
		return gateway.AlertFiring
	case gateway.AlertResolved:
		return gateway.AlertResolved
	case "":
		p.Add(field, `is required ("firing" or "resolved")`)
	default:
		p.Add(field, `must be "firing" or "resolved", not `+Quote(s))
	}
	return ""
}

// Labels checks a label set: required says it may not be empty, and no
// label name may be empty. It returns the set, never nil.
func Labels(p *Problems, field string, labels map[string]string, required bool) map[string]string {
	if required && len(labels) == 0 {
		p.Add(field, "must have at least one label")
	}
	if _, ok := labels[""]; ok {
		p.Add(field, "label names must not be empty")
	}
	return orEmpty(labels)
}

// Severity returns the severity an alert's labels declare in the
// "severity" label, as Prometheus rules and Grafana do by convention;
// alerts without one, or with a word Herald does not know, are warnings.
func Severity(labels map[string]string) gateway.Severity {
	return gateway.ParseSeverity(labels["severity"], gateway.SeverityWarning)
}

// Summary returns an alert's one-line description: the "summary"
// annotation, else the "description" annotation, else the first non-blank
// of fallbacks (a group title, the alertname label, …). Surrounding space
// is trimmed; the result may be empty when nothing says anything.
func Summary(annotations map[string]string, fallbacks ...string) string {
	for _, name := range [...]string{"summary", "description"} {
		if c := strings.TrimSpace(annotations[name]); c != "" {
			return c
		}
	}
	for _, c := range fallbacks {
		if c = strings.TrimSpace(c); c != "" {
			return c
		}
	}
	return ""
}

// Finish completes a decoded alert the same way for every format:
//   - Labels and Annotations are never nil;
//   - an alert with no fingerprint of its own gets its labels' hash;
//   - a missing StartsAt becomes the receive time, or the end time when
//     that is earlier (as Alertmanager's API does);
//   - a resolved alert with no EndsAt ends at the receive time;
//   - ReceivedAt is the receive time.
//
// An EndsAt before StartsAt adds a problem for endsField.
func Finish(p *Problems, endsField string, a *gateway.Alert, now time.Time) {
	now = now.UTC()
	a.Labels = orEmpty(a.Labels)
	a.Annotations = orEmpty(a.Annotations)
	if a.Fingerprint == "" {
		a.Fingerprint = gateway.LabelsFingerprint(a.Labels)
	}
	if a.StartsAt.IsZero() {
		a.StartsAt = now
		if !a.EndsAt.IsZero() && a.EndsAt.Before(now) {
			a.StartsAt = a.EndsAt
		}
	}
	if a.Status == gateway.AlertResolved && a.EndsAt.IsZero() {
		a.EndsAt = now
		if a.EndsAt.Before(a.StartsAt) {
			a.EndsAt = a.StartsAt
		}
	}
	if !a.EndsAt.IsZero() && a.EndsAt.Before(a.StartsAt) {
		p.Add(endsField, "must not be before the start time")
	}
	a.ReceivedAt = now
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
