package gateway

import (
	"regexp"
	"time"
)

// ProbeSourceName names the source the built-in probes' alerts are stored
// under. It is Herald's own: it has no token and no decoder, so no source
// of this name may be made, changed or deleted by anyone else.
const ProbeSourceName = "probe"

// SourceNameRE is the rule for a source's name, which is the path segment
// of /ingest/{name}: the config file, the API and the console all take it.
var SourceNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Source is a monitoring system that posts alerts to /ingest/{name}. Its
// token is stored hashed; the plain token is shown once, when it is made.
type Source struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	Kind           string    `json:"kind"`
	TokenHash      string    `json:"-"`
	TokenPrefix    string    `json:"token_prefix"`
	RateLimit      float64   `json:"rate_limit"` // requests/s; 0 = unlimited
	LastAlertAt    time.Time `json:"last_alert_at,omitzero"`
	TokenRotatedAt time.Time `json:"token_rotated_at,omitzero"`
	Origin         Origin    `json:"origin"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// AuditEntry records who changed what. Detail never holds secrets or
// subscriber addresses.
type AuditEntry struct {
	ID         int64          `json:"id"`
	At         time.Time      `json:"at"`
	Actor      string         `json:"actor"`
	ActorKind  string         `json:"actor_kind"`
	Action     string         `json:"action"`
	TargetType string         `json:"target_type"`
	TargetID   string         `json:"target_id"`
	Detail     map[string]any `json:"detail,omitempty"`
}
