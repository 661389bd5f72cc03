package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strings"
	"time"
)

// Alert is one alert from a monitoring tool, normalized from whatever format
// its source speaks. Decoders (gateway/sources/...) produce Alerts; the
// ingest service deduplicates them by (source, fingerprint).
type Alert struct {
	ID          int64
	SourceID    string
	Fingerprint string
	Status      AlertStatus
	Severity    Severity
	// Summary is a one-line human description (a summary/description
	// annotation, PagerDuty's payload.summary, Grafana's title).
	Summary     string
	Labels      map[string]string
	Annotations map[string]string
	StartsAt    time.Time
	// EndsAt is zero while an alert fires with no announced end.
	EndsAt       time.Time
	GeneratorURL string
	// Raw is this alert's own JSON as received, kept for support and audits.
	Raw json.RawMessage

	ReceivedAt time.Time
	LastSeenAt time.Time
	IncidentID string // "" while the alert belongs to no incident
	RuleID     string // the routing rule that matched, "" when none did
	Flapping   bool
}

// LabelsFingerprint returns a stable fingerprint for a label set: the hex
// SHA-256 of the sorted name=value pairs, truncated to 16 bytes. It is used
// where a source has no fingerprint of its own.
func LabelsFingerprint(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, k := range names {
		h.Write([]byte(k))
		h.Write([]byte{0xff})
		h.Write([]byte(labels[k]))
		h.Write([]byte{0xff})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// ParseSeverity maps the severity words monitoring tools use onto Herald's
// four. Unknown or empty words yield def.
func ParseSeverity(s string, def Severity) Severity {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical", "crit", "fatal", "emergency", "emerg", "alert", "page", "p1", "sev1", "high":
		return SeverityCritical
	case "error", "err", "major", "p2", "sev2":
		return SeverityError
	case "warning", "warn", "minor", "medium", "p3", "sev3":
		return SeverityWarning
	case "info", "informational", "notice", "low", "debug", "none", "ok", "p4", "p5", "sev4", "sev5":
		return SeverityInfo
	}
	return def
}
