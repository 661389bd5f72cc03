package gateway

import "time"

// EventType names a notification-worthy happening.
type EventType string

// Event types, as docs/api.md names them.
const (
	EventIncidentCreated      EventType = "incident.created"
	EventIncidentUpdated      EventType = "incident.updated"
	EventIncidentResolved     EventType = "incident.resolved"
	EventIncidentPostmortem   EventType = "incident.postmortem"
	EventIncidentUpdateDue    EventType = "incident.update_due"
	EventComponentStatus      EventType = "component.status_changed"
	EventMaintenanceScheduled EventType = "maintenance.scheduled"
	EventMaintenanceStarted   EventType = "maintenance.started"
	EventMaintenanceCompleted EventType = "maintenance.completed"
	EventBroadcast            EventType = "broadcast"
	// EventSubscriberConfirm is the double opt-in mail: the one message an
	// unconfirmed address may ever receive, planned to that subscriber only.
	EventSubscriberConfirm EventType = "subscriber.confirm"
	// EventTest is a webhook subscriber's test ping.
	EventTest EventType = "test"
)

// Event is one notification-worthy happening. It is written in the same
// transaction as the change it announces; the planner then turns it into
// one delivery per (subscriber, channel).
type Event struct {
	ID               string    `json:"id"`
	Type             EventType `json:"type"`
	IncidentID       string    `json:"incident_id,omitempty"`
	IncidentUpdateID string    `json:"incident_update_id,omitempty"`
	ComponentID      string    `json:"component_id,omitempty"`
	// ComponentIDs are the affected components: subscribers of any of them
	// (or of the whole page) receive the event.
	ComponentIDs []string `json:"component_ids"`
	// AllSubscribers sends to every confirmed subscriber (a broadcast to
	// everyone); SubscriberID sends to one (a confirmation, a test).
	AllSubscribers bool         `json:"all_subscribers"`
	SubscriberID   string       `json:"subscriber_id,omitempty"`
	Notify         bool         `json:"notify"`
	Payload        EventPayload `json:"payload"`
	IdempotencyKey string       `json:"idempotency_key,omitempty"`
	Actor          string       `json:"actor"`
	CreatedAt      time.Time    `json:"created_at"`
	PlannedAt      time.Time    `json:"planned_at,omitzero"`
}

// EventPayload is the snapshot of everything a message about the event
// needs, taken when the event happened: a retry hours later sends the words
// of that moment, not of a later edit.
type EventPayload struct {
	Page PageInfo `json:"page"`
	// PageStatus is the whole page's status when the event was written
	// (nil on events written before Herald recorded it).
	PageStatus *PageStatus       `json:"page_status,omitempty"`
	Incident   *IncidentSnapshot `json:"incident,omitempty"`
	Update     *UpdateSnapshot   `json:"update,omitempty"`
	Components []ComponentChange `json:"components,omitempty"`
	// Affected are the components the event concerns as the page showed
	// them when it was written, in page order: every component of an
	// incident (whether this update changed it or not), a component
	// event's component, a broadcast's targets (every component when it
	// went to everyone). See Capture.
	Affected  []ComponentSnapshot `json:"affected,omitempty"`
	Broadcast *BroadcastMessage   `json:"broadcast,omitempty"`
	// ConfirmURL is set on subscriber.confirm events only.
	ConfirmURL string `json:"confirm_url,omitempty"`
}

// PageInfo names the status page messages come from.
type PageInfo struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// IncidentSnapshot is an incident (or maintenance) as a message shows it.
type IncidentSnapshot struct {
	ID             string         `json:"id"`
	Kind           string         `json:"kind"` // incident | maintenance
	Name           string         `json:"name"`
	Status         IncidentStatus `json:"status"`
	Impact         Impact         `json:"impact"`
	URL            string         `json:"url"` // the public permalink
	CreatedAt      time.Time      `json:"created_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
	ResolvedAt     time.Time      `json:"resolved_at,omitzero"`
	ScheduledFor   time.Time      `json:"scheduled_for,omitzero"`
	ScheduledUntil time.Time      `json:"scheduled_until,omitzero"`
	Postmortem     string         `json:"postmortem,omitempty"` // Markdown
	// AutoTransition: a maintenance that starts and completes on its own.
	AutoTransition bool `json:"auto_transition,omitempty"`
	// PostmortemAt is when the postmortem was published.
	PostmortemAt time.Time `json:"postmortem_at,omitzero"`
	MonitoringAt time.Time `json:"monitoring_at,omitzero"`
	// Updates is the incident's whole timeline when the event was
	// written, newest first (the event's own update included).
	Updates []UpdateSnapshot `json:"updates,omitempty"`
}

// UpdateSnapshot is one incident update as a message shows it.
type UpdateSnapshot struct {
	ID           string         `json:"id"`
	Status       IncidentStatus `json:"status"`
	Body         string         `json:"body"`
	CreatedAt    time.Time      `json:"created_at"`
	NextUpdateAt time.Time      `json:"next_update_at,omitzero"`
	DisplayAt    time.Time      `json:"display_at,omitzero"`
	// Notify says whether subscribers were told of the update (only
	// filled in an incident's timeline, IncidentSnapshot.Updates).
	Notify bool `json:"notify,omitempty"`
	// AffectedComponents are the components the update reported (only
	// filled in an incident's timeline).
	AffectedComponents []ComponentChange `json:"affected_components,omitempty"`
}

// ComponentChange is a component's status before and after an event.
type ComponentChange struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Group     string          `json:"group,omitempty"`
	OldStatus ComponentStatus `json:"old_status"`
	NewStatus ComponentStatus `json:"new_status"`
}

// ComponentSnapshot is a component as the page showed it when an event was
// written.
type ComponentSnapshot struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Status      ComponentStatus `json:"status"`
	GroupID     string          `json:"group_id,omitempty"`
	Group       string          `json:"group,omitempty"` // the group's name
	Description string          `json:"description,omitempty"`
	Position    int             `json:"position"` // within its group, from 0
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// PageStatus is the whole page's status at one moment, in Statuspage's
// terms (see Overall).
type PageStatus struct {
	Indicator   Indicator `json:"indicator"`
	Description string    `json:"description"`
}

// BroadcastMessage is support's own message to subscribers.
type BroadcastMessage struct {
	Subject string `json:"subject"`
	Body    string `json:"body"`
}
