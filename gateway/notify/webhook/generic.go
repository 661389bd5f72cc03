package webhook

import (
	"time"
)

// GenericVersion is the version of Herald's own webhook body. A change
// that removes or retypes a field makes a new version; adding a field
// does not.
const GenericVersion = "1"

// genericV1 is the generic format: Herald's event as it is, with the
// subscriber's links. Every key is always present; a part the event does
// not have is null (components is [] then).
type genericV1 struct {
	Version        string             `json:"version"`
	Type           string             `json:"type"`
	EventID        string             `json:"event_id"`
	CreatedAt      time.Time          `json:"created_at"`
	Page           genericPage        `json:"page"`
	Incident       *genericIncident   `json:"incident"`
	Update         *genericUpdate     `json:"update"`
	Components     []genericComponent `json:"components"`
	Broadcast      *genericBroadcast  `json:"broadcast"`
	ManageURL      string             `json:"manage_url"`
	UnsubscribeURL string             `json:"unsubscribe_url"`
}

type genericPage struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

type genericIncident struct {
	ID             string     `json:"id"`
	Kind           string     `json:"kind"` // incident | maintenance
	Name           string     `json:"name"`
	Status         string     `json:"status"`
	Impact         string     `json:"impact"`
	URL            string     `json:"url"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	ResolvedAt     *time.Time `json:"resolved_at"`
	ScheduledFor   *time.Time `json:"scheduled_for"`
	ScheduledUntil *time.Time `json:"scheduled_until"`
	Postmortem     *string    `json:"postmortem"`
}

type genericUpdate struct {
	ID           string     `json:"id"`
	Status       string     `json:"status"`
	Body         string     `json:"body"`
	CreatedAt    time.Time  `json:"created_at"`
	NextUpdateAt *time.Time `json:"next_update_at"`
}

type genericComponent struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Group     string `json:"group"`
	OldStatus string `json:"old_status"`
	NewStatus string `json:"new_status"`
}

type genericBroadcast struct {
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func generic(in *input) genericV1 {
	ev, p := in.m.Event, in.m.Event.Payload
	g := genericV1{
		Version: GenericVersion, Type: string(ev.Type), EventID: ev.ID, CreatedAt: ev.CreatedAt.UTC(),
		Page:      genericPage{Name: p.Page.Name, URL: p.Page.URL},
		ManageURL: in.m.ManageURL, UnsubscribeURL: in.m.UnsubscribeURL,
		Components: []genericComponent{},
	}
	if i := p.Incident; i != nil {
		g.Incident = &genericIncident{
			ID: i.ID, Kind: i.Kind, Name: i.Name, Status: string(i.Status), Impact: string(i.Impact), URL: i.URL,
			CreatedAt: i.CreatedAt.UTC(), UpdatedAt: i.UpdatedAt.UTC(), ResolvedAt: timePtr(i.ResolvedAt),
			ScheduledFor: timePtr(i.ScheduledFor), ScheduledUntil: timePtr(i.ScheduledUntil),
		}
		if i.Postmortem != "" {
			g.Incident.Postmortem = &i.Postmortem
		}
	}
	if u := p.Update; u != nil {
		g.Update = &genericUpdate{ID: u.ID, Status: string(u.Status), Body: u.Body, CreatedAt: u.CreatedAt.UTC(), NextUpdateAt: timePtr(u.NextUpdateAt)}
	}
	for _, c := range p.Components {
		g.Components = append(g.Components, genericComponent{ID: c.ID, Name: c.Name, Group: c.Group, OldStatus: string(c.OldStatus), NewStatus: string(c.NewStatus)})
	}
	if b := p.Broadcast; b != nil {
		g.Broadcast = &genericBroadcast{Subject: b.Subject, Body: b.Body}
	}
	return g
}
