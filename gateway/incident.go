package gateway

import "time"

// Incident kinds: scheduled maintenances share the incident model, as in
// Statuspage.
const (
	KindIncident    = "incident"
	KindMaintenance = "maintenance"
)

// Incident is an incident or a scheduled maintenance.
type Incident struct {
	ID     string         `json:"id"`
	Kind   string         `json:"kind"`
	Name   string         `json:"name"`
	Status IncidentStatus `json:"status"`
	Impact Impact         `json:"impact"`
	// Automated incidents were opened by alerts.
	Automated bool `json:"automated"`
	// HumanAt is when a person first posted an update; from then on
	// automation never writes the status or the words.
	HumanAt   time.Time `json:"human_at,omitzero"`
	Published bool      `json:"published"`
	// CorrelationKey is set while the incident takes new alerts.
	CorrelationKey        string    `json:"-"`
	LastAlertAt           time.Time `json:"last_alert_at,omitzero"`
	NextUpdateAt          time.Time `json:"next_update_at,omitzero"`
	ScheduledFor          time.Time `json:"scheduled_for,omitzero"`
	ScheduledUntil        time.Time `json:"scheduled_until,omitzero"`
	AutoTransition        bool      `json:"auto_transition"`
	PostmortemBody        string    `json:"postmortem_body,omitempty"`
	PostmortemPublishedAt time.Time `json:"postmortem_published_at,omitzero"`
	CreatedBy             string    `json:"created_by"`
	CreatedAt             time.Time `json:"created_at"`
	UpdatedAt             time.Time `json:"updated_at"`
	MonitoringAt          time.Time `json:"monitoring_at,omitzero"`
	ResolvedAt            time.Time `json:"resolved_at,omitzero"`
	// RootCause is the upstream component whose fault the incident's
	// alerts share (see docs/probes.md), nil when none.
	RootCause *RootCause `json:"root_cause" db:"-"`

	// Components maps each affected component's id to the status the
	// incident gives it.
	Components map[string]ComponentStatus `json:"components,omitempty"`
	Updates    []IncidentUpdate           `json:"updates,omitempty"`
}

// RootCause names an incident's cause: the upstream component its
// components depend on. Inferred is true while the upstream has no signal
// of its own (its dependents' alerts point at it: a probable cause) and
// false once it fires or is non-operational itself (a confirmed cause).
type RootCause struct {
	Component RootCauseComponent `json:"component"`
	Inferred  bool               `json:"inferred"`
}

// RootCauseComponent is the component a root cause names.
type RootCauseComponent struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// HumanControlled reports whether support has taken over the incident's words.
func (i *Incident) HumanControlled() bool { return !i.HumanAt.IsZero() }

// IncidentUpdate is one entry of an incident's public timeline.
type IncidentUpdate struct {
	ID                 string              `json:"id"`
	IncidentID         string              `json:"incident_id"`
	Status             IncidentStatus      `json:"status"`
	Body               string              `json:"body"`
	AffectedComponents []AffectedComponent `json:"affected_components"`
	Notify             bool                `json:"notify"`
	Automated          bool                `json:"automated"`
	Author             string              `json:"author"`
	NextUpdateAt       time.Time           `json:"next_update_at,omitzero"`
	DisplayAt          time.Time           `json:"display_at"`
	CreatedAt          time.Time           `json:"created_at"`
	// IdempotencyKey is the key of the request or form that posted the
	// update ("" for none): one key posts one update on an incident.
	IdempotencyKey string `json:"-"`
}

// AffectedComponent is a component's change as one update reports it
// (Statuspage's affected_components).
type AffectedComponent struct {
	ComponentID string          `json:"component_id"`
	Name        string          `json:"name"`
	OldStatus   ComponentStatus `json:"old_status"`
	NewStatus   ComponentStatus `json:"new_status"`
}

// ValidIncidentStatus reports whether s is valid for an incident of kind.
func ValidIncidentStatus(kind string, s IncidentStatus) bool {
	list := IncidentStatuses
	if kind == KindMaintenance {
		list = MaintenanceStatuses
	}
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
