package gateway

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Origin tells where a configured object came from: the YAML file (synced at
// start-up) or the API/console. The sync only ever touches config objects.
type Origin string

// Origins.
const (
	OriginConfig Origin = "config"
	OriginAPI    Origin = "api"
)

// ComponentGroup gathers components on the status page (Statuspage's groups).
type ComponentGroup struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Position    int       `json:"position"`
	Origin      Origin    `json:"origin"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Component is a named part of the service that customers subscribe to and
// the status page shows.
type Component struct {
	ID          string          `json:"id"`
	GroupID     string          `json:"group_id,omitempty"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Position    int             `json:"position"`
	Status      ComponentStatus `json:"status"`
	// ManualStatus is support's override; while set it wins over what alerts say.
	ManualStatus ComponentStatus `json:"manual_status,omitempty"`
	// Held says why alerts make the component non-operational while no
	// open incident covers it; "" when that is not the case.
	Held            Held      `json:"held,omitempty"`
	StatusChangedAt time.Time `json:"status_changed_at"`
	// DependsOn holds the ids of the components this one depends on (its
	// upstreams), sorted; the store keeps the graph acyclic.
	DependsOn []string  `json:"depends_on,omitempty" db:"-"`
	Origin    Origin    `json:"origin"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// MaxNameLength bounds names of components, groups, sources and keys.
const MaxNameLength = 100

// ValidateName checks a display name: not blank, not too long, no control
// characters (names end up in email subjects and headers).
func ValidateName(field, name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return FieldError(field, "is required")
	case utf8.RuneCountInString(name) > MaxNameLength:
		return FieldError(field, "is longer than 100 characters")
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return FieldError(field, "must not contain control characters")
	}
	return nil
}

// Held says why a component that alerts made non-operational is covered
// by no open incident: the rule that keeps its alerts from opening one.
// Every other such component is in an open incident.
type Held string

// Reasons a component is held outside incidents.
const (
	// HeldMinAlerts: fewer alerts fire than correlation.min_alerts asks
	// for before an incident opens.
	HeldMinAlerts Held = "min_alerts"
	// HeldFlapping: only flapping alerts, which open no incident, hold
	// its status.
	HeldFlapping Held = "flapping"
	// HeldMaintenance: a maintenance in progress covers it; its alerts
	// open no incident.
	HeldMaintenance Held = "maintenance"
)
