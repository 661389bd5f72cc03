package gateway

import "time"

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
