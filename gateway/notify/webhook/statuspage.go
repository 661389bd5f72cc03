package webhook

import (
	"time"

	"github.com/heraldstatus/herald/gateway"
)

// The statuspage format is Atlassian Statuspage's subscriber webhook, field
// for field (the captured Statuspage bodies in testdata/samples): meta, page, and
// either incident (incident and maintenance events) or component and
// component_update (component.status_changed). Fields Herald has no value
// for keep their JSON type with Statuspage's empty value (false, null).

type spMeta struct {
	Unsubscribe   string `json:"unsubscribe"`
	Documentation string `json:"documentation"`
	GeneratedAt   string `json:"generated_at"`
}

type spPage struct {
	ID                string `json:"id"`
	StatusIndicator   string `json:"status_indicator"`
	StatusDescription string `json:"status_description"`
}

type spIncident struct {
	Backfilled                    bool          `json:"backfilled"`
	CreatedAt                     string        `json:"created_at"`
	Impact                        string        `json:"impact"`
	ImpactOverride                *string       `json:"impact_override"`
	MonitoringAt                  *string       `json:"monitoring_at"`
	PostmortemBody                *string       `json:"postmortem_body"`
	PostmortemBodyLastUpdatedAt   *string       `json:"postmortem_body_last_updated_at"`
	PostmortemIgnored             bool          `json:"postmortem_ignored"`
	PostmortemNotifiedSubscribers bool          `json:"postmortem_notified_subscribers"`
	PostmortemNotifiedTwitter     bool          `json:"postmortem_notified_twitter"`
	PostmortemPublishedAt         *string       `json:"postmortem_published_at"`
	ResolvedAt                    *string       `json:"resolved_at"`
	ScheduledAutoInProgress       bool          `json:"scheduled_auto_in_progress"`
	ScheduledAutoCompleted        bool          `json:"scheduled_auto_completed"`
	ScheduledFor                  *string       `json:"scheduled_for"`
	ScheduledRemindPrior          bool          `json:"scheduled_remind_prior"`
	ScheduledRemindedAt           *string       `json:"scheduled_reminded_at"`
	ScheduledUntil                *string       `json:"scheduled_until"`
	Shortlink                     string        `json:"shortlink"`
	Status                        string        `json:"status"`
	UpdatedAt                     string        `json:"updated_at"`
	ID                            string        `json:"id"`
	PageID                        string        `json:"page_id"`
	IncidentUpdates               []spUpdate    `json:"incident_updates"`
	Components                    []spComponent `json:"components"`
	Name                          string        `json:"name"`
}

type spUpdate struct {
	Body                 string       `json:"body"`
	CreatedAt            string       `json:"created_at"`
	DisplayAt            string       `json:"display_at"`
	Status               string       `json:"status"`
	TwitterUpdatedAt     *string      `json:"twitter_updated_at"`
	UpdatedAt            string       `json:"updated_at"`
	WantsTwitterUpdate   bool         `json:"wants_twitter_update"`
	ID                   string       `json:"id"`
	IncidentID           string       `json:"incident_id"`
	AffectedComponents   []spAffected `json:"affected_components"` // null when none
	DeliverNotifications bool         `json:"deliver_notifications"`
	CustomTweet          *string      `json:"custom_tweet"`
}

type spAffected struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	OldStatus string `json:"old_status"`
	NewStatus string `json:"new_status"`
}

type spComponent struct {
	Status      string  `json:"status"`
	Name        string  `json:"name"`
	CreatedAt   string  `json:"created_at"`
	UpdatedAt   string  `json:"updated_at"`
	Position    int     `json:"position"`
	Description *string `json:"description"`
	Showcase    bool    `json:"showcase"`
	ID          string  `json:"id"`
	PageID      string  `json:"page_id"`
	GroupID     *string `json:"group_id"`
}

type spComponentUpdate struct {
	OldStatus     string `json:"old_status"`
	NewStatus     string `json:"new_status"`
	CreatedAt     string `json:"created_at"`
	ComponentType string `json:"component_type"`
	ID            string `json:"id"`
	ComponentID   string `json:"component_id"`
}

type spBody struct {
	Meta            spMeta             `json:"meta"`
	Page            spPage             `json:"page"`
	Incident        *spIncident        `json:"incident,omitempty"`
	Component       *spComponent       `json:"component,omitempty"`
	ComponentUpdate *spComponentUpdate `json:"component_update,omitempty"`
}

// spTime formats times as Statuspage does (RFC 3339, milliseconds, UTC).
func spTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

func spTimePtr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := spTime(t)
	return &s
}

func (n *Notifier) statuspage(in *input) spBody {
	ev, p := in.m.Event, in.m.Event.Payload
	indicator, description := pageStatus(p.Components)
	b := spBody{
		Meta: spMeta{Unsubscribe: in.m.UnsubscribeURL, Documentation: n.docURL, GeneratedAt: spTime(in.now)},
		Page: spPage{ID: in.pageID, StatusIndicator: indicator, StatusDescription: description},
	}
	if ev.Type == gateway.EventComponentStatus && len(p.Components) > 0 {
		c := p.Components[0]
		for _, cc := range p.Components {
			if cc.ID == ev.ComponentID {
				c = cc
			}
		}
		comp := spComponentOf(c, 1, ev.CreatedAt, in.pageID)
		b.Component = &comp
		b.ComponentUpdate = &spComponentUpdate{
			OldStatus: string(c.OldStatus), NewStatus: string(c.NewStatus), CreatedAt: spTime(ev.CreatedAt),
			ComponentType: "Component", ID: ev.ID, ComponentID: c.ID,
		}
		return b
	}
	if p.Incident != nil {
		b.Incident = spIncidentOf(ev, in.pageID)
	}
	return b
}

func spComponentOf(c gateway.ComponentChange, position int, at time.Time, pageID string) spComponent {
	return spComponent{
		Status: string(c.NewStatus), Name: c.Name, CreatedAt: spTime(at), UpdatedAt: spTime(at),
		Position: position, Showcase: true, ID: c.ID, PageID: pageID,
	}
}

func spIncidentOf(ev *gateway.Event, pageID string) *spIncident {
	p := ev.Payload
	in := p.Incident
	out := &spIncident{
		CreatedAt: spTime(in.CreatedAt), Impact: string(in.Impact), ResolvedAt: spTimePtr(in.ResolvedAt),
		ScheduledFor: spTimePtr(in.ScheduledFor), ScheduledUntil: spTimePtr(in.ScheduledUntil),
		Shortlink: in.URL, Status: string(in.Status), UpdatedAt: spTime(in.UpdatedAt),
		ID: in.ID, PageID: pageID, Name: in.Name,
		IncidentUpdates: []spUpdate{}, Components: []spComponent{},
	}
	if in.Kind == "maintenance" {
		out.ScheduledAutoInProgress, out.ScheduledAutoCompleted = true, true
	}
	if in.Postmortem != "" {
		out.PostmortemBody = &in.Postmortem
		out.PostmortemBodyLastUpdatedAt = spTimePtr(ev.CreatedAt)
		out.PostmortemPublishedAt = spTimePtr(ev.CreatedAt)
		out.PostmortemNotifiedSubscribers = ev.Type == gateway.EventIncidentPostmortem
	}
	if u := p.Update; u != nil {
		if u.Status == gateway.Monitoring {
			out.MonitoringAt = spTimePtr(u.CreatedAt)
		}
		up := spUpdate{
			Body: u.Body, CreatedAt: spTime(u.CreatedAt), DisplayAt: spTime(u.CreatedAt), Status: string(u.Status),
			UpdatedAt: spTime(u.CreatedAt), ID: u.ID, IncidentID: in.ID, DeliverNotifications: ev.Notify,
		}
		for _, c := range p.Components {
			if c.OldStatus != c.NewStatus {
				up.AffectedComponents = append(up.AffectedComponents, spAffected{
					Code: c.ID, Name: c.Name, OldStatus: string(c.OldStatus), NewStatus: string(c.NewStatus),
				})
			}
		}
		out.IncidentUpdates = append(out.IncidentUpdates, up)
	}
	for i, c := range p.Components {
		out.Components = append(out.Components, spComponentOf(c, i+1, ev.CreatedAt, pageID))
	}
	return out
}

// pageStatus is Statuspage's page indicator as the event's components
// show it: the worst new status among them.
func pageStatus(cs []gateway.ComponentChange) (indicator, description string) {
	worst := gateway.Operational
	for _, c := range cs {
		worst = worst.Worse(c.NewStatus)
	}
	switch worst {
	case gateway.MajorOutage:
		return "critical", "Major System Outage"
	case gateway.PartialOutage:
		return "major", "Partial System Outage"
	case gateway.DegradedPerformance:
		return "minor", "Minor Service Outage"
	case gateway.UnderMaintenance:
		return "maintenance", "Service Under Maintenance"
	}
	return "none", "All Systems Operational"
}
