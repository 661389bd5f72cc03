package webhook

import (
	"time"

	"github.com/heraldstatus/herald/gateway"
)

// The statuspage format is Atlassian Statuspage's subscriber webhook, key
// for key and type for type (webhooktest/testdata holds captures of real
// ones): meta, page, and either incident (incident and maintenance events)
// or component and component_update (component.status_changed). Fields
// Herald has no value for keep their JSON type with Statuspage's empty
// value (false, null). Herald's other events (broadcast, subscriber.confirm,
// test) are incident bodies too, of a closed notice, plus a "notice" object
// with their words, so that a consumer written for Statuspage reads them
// without crashing (docs/webhooks.md).

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
	// Notice is Herald's own: the words of an event that is no incident.
	Notice *spNotice `json:"notice,omitempty"`
}

// spNotice carries the words of a broadcast, confirmation or test; every
// key is always present (confirm_url is null but on subscriber.confirm).
type spNotice struct {
	Type       string  `json:"type"`
	Subject    string  `json:"subject"`
	Body       string  `json:"body"`
	ConfirmURL *string `json:"confirm_url"`
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

func spString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (n *Notifier) statuspage(in *input) spBody {
	ev, p := in.m.Event, &in.m.Event.Payload
	pageID := p.Page.ID()
	status := pageStatus(p)
	b := spBody{
		Meta: spMeta{Unsubscribe: in.m.UnsubscribeURL, Documentation: n.docURL, GeneratedAt: spTime(in.now)},
		Page: spPage{ID: pageID, StatusIndicator: string(status.Indicator), StatusDescription: status.Description},
	}
	switch {
	case ev.Type == gateway.EventComponentStatus && len(p.Components) > 0:
		b.Component, b.ComponentUpdate = spComponentEvent(ev, pageID)
	case p.Incident != nil:
		b.Incident = spIncidentOf(ev, pageID)
	default:
		b.Incident, b.Notice = spNoticeOf(ev, pageID)
	}
	return b
}

// pageStatus is the page's status the event captured; events written
// before Herald captured it fall back to what their components say.
func pageStatus(p *gateway.EventPayload) gateway.PageStatus {
	if p.PageStatus != nil {
		return *p.PageStatus
	}
	var comps []gateway.Component
	for _, c := range p.Components {
		comps = append(comps, gateway.Component{Status: c.NewStatus})
	}
	var open []gateway.Incident
	if i := p.Incident; i != nil {
		open = append(open, gateway.Incident{Kind: i.Kind, Status: i.Status, Impact: i.Impact})
	}
	i := gateway.Overall(comps, open)
	return gateway.PageStatus{Indicator: i, Description: i.Description()}
}

func spComponentEvent(ev *gateway.Event, pageID string) (*spComponent, *spComponentUpdate) {
	p := &ev.Payload
	c := p.Components[0]
	for _, cc := range p.Components {
		if cc.ID == ev.ComponentID {
			c = cc
		}
	}
	comp := spComponentOf(gateway.ComponentSnapshot{ID: c.ID, Name: c.Name, Status: c.NewStatus, CreatedAt: ev.CreatedAt, UpdatedAt: ev.CreatedAt}, pageID)
	for _, a := range p.Affected {
		if a.ID == c.ID {
			comp = spComponentOf(a, pageID)
		}
	}
	return &comp, &spComponentUpdate{
		OldStatus: string(c.OldStatus), NewStatus: string(c.NewStatus), CreatedAt: spTime(ev.CreatedAt),
		ComponentType: "Component", ID: ev.ID, ComponentID: c.ID,
	}
}

// spComponentOf is a component as Statuspage shows it: positions count
// from 1 (Herald's from 0), and an empty description or group is null.
func spComponentOf(c gateway.ComponentSnapshot, pageID string) spComponent {
	return spComponent{
		Status: string(c.Status), Name: c.Name, CreatedAt: spTime(c.CreatedAt), UpdatedAt: spTime(c.UpdatedAt),
		Position: c.Position + 1, Description: spString(c.Description), Showcase: true, ID: c.ID, PageID: pageID,
		GroupID: spString(c.GroupID),
	}
}

func spIncidentOf(ev *gateway.Event, pageID string) *spIncident {
	p := &ev.Payload
	in := p.Incident
	out := &spIncident{
		CreatedAt: spTime(in.CreatedAt), Impact: string(in.Impact), ResolvedAt: spTimePtr(in.ResolvedAt),
		MonitoringAt: spTimePtr(in.MonitoringAt),
		ScheduledFor: spTimePtr(in.ScheduledFor), ScheduledUntil: spTimePtr(in.ScheduledUntil),
		Shortlink: in.URL, Status: string(in.Status), UpdatedAt: spTime(in.UpdatedAt),
		ID: in.ID, PageID: pageID, Name: in.Name,
		IncidentUpdates: []spUpdate{}, Components: []spComponent{},
	}
	if in.Kind == gateway.KindMaintenance {
		out.ScheduledAutoInProgress, out.ScheduledAutoCompleted = in.AutoTransition, in.AutoTransition
	}
	if in.Postmortem != "" {
		at := in.PostmortemAt
		if at.IsZero() {
			at = ev.CreatedAt
		}
		out.PostmortemBody = &in.Postmortem
		out.PostmortemBodyLastUpdatedAt, out.PostmortemPublishedAt = spTimePtr(at), spTimePtr(at)
		out.PostmortemNotifiedSubscribers = ev.Type == gateway.EventIncidentPostmortem
	}
	history := in.Updates
	if len(history) == 0 && p.Update != nil {
		// An event written before Herald captured the timeline: its own
		// update, with what it changed.
		u := *p.Update
		u.Notify, u.AffectedComponents = ev.Notify, p.Components
		history = []gateway.UpdateSnapshot{u}
	}
	for _, u := range history {
		out.IncidentUpdates = append(out.IncidentUpdates, spUpdateOf(u, in.ID))
		if in.MonitoringAt.IsZero() && u.Status == gateway.Monitoring {
			out.MonitoringAt = spTimePtr(u.CreatedAt) // newest first: the first such update wins
		}
	}
	if len(out.IncidentUpdates) == 0 {
		// Nothing to show (an old postmortem event): the incident's state
		// as its one update, so that incident_updates[0] is always there.
		body := in.Postmortem
		if body == "" {
			body = in.Name
		}
		out.IncidentUpdates = append(out.IncidentUpdates, spUpdateOf(gateway.UpdateSnapshot{
			ID: ev.ID, Status: in.Status, Body: body, CreatedAt: ev.CreatedAt, Notify: ev.Notify}, in.ID))
	}
	if len(p.Affected) > 0 {
		for _, c := range p.Affected {
			out.Components = append(out.Components, spComponentOf(c, pageID))
		}
	} else {
		for i, c := range p.Components { // an event written before Herald captured them
			out.Components = append(out.Components, spComponentOf(gateway.ComponentSnapshot{ID: c.ID, Name: c.Name,
				Status: c.NewStatus, Position: i, CreatedAt: ev.CreatedAt, UpdatedAt: ev.CreatedAt}, pageID))
		}
	}
	return out
}

func spUpdateOf(u gateway.UpdateSnapshot, incidentID string) spUpdate {
	display := u.DisplayAt
	if display.IsZero() {
		display = u.CreatedAt
	}
	up := spUpdate{
		Body: u.Body, CreatedAt: spTime(u.CreatedAt), DisplayAt: spTime(display), Status: string(u.Status),
		UpdatedAt: spTime(u.CreatedAt), ID: u.ID, IncidentID: incidentID, DeliverNotifications: u.Notify,
	}
	for _, c := range u.AffectedComponents {
		up.AffectedComponents = append(up.AffectedComponents, spAffected{
			Code: c.ID, Name: c.Name, OldStatus: string(c.OldStatus), NewStatus: string(c.NewStatus),
		})
	}
	return up
}

// spNoticeOf models an event that is no incident (a broadcast, a
// confirmation, a test) as Statuspage would carry a notice: a closed
// incident of no impact, named by the subject, whose one update holds the
// words, over the components the event concerns; its id is the event's.
// The notice object says the same for consumers that know Herald.
func spNoticeOf(ev *gateway.Event, pageID string) (*spIncident, *spNotice) {
	p := &ev.Payload
	page := p.Page.Name
	if page == "" {
		page = "the status page"
	}
	no := &spNotice{Type: string(ev.Type)}
	switch {
	case p.Broadcast != nil:
		no.Subject, no.Body = p.Broadcast.Subject, p.Broadcast.Body
	case ev.Type == gateway.EventSubscriberConfirm:
		no.Subject = "Confirm your subscription to " + page + " status updates"
		no.Body = "Please confirm that you want to receive status updates from " + page + ": " + p.ConfirmURL
		no.ConfirmURL = &p.ConfirmURL
	case ev.Type == gateway.EventTest:
		no.Subject = "Test notification"
		no.Body = "This is a test notification from " + page + ". It confirms that messages reach this address; no action is needed."
	default:
		no.Subject, no.Body = string(ev.Type), string(ev.Type)
	}
	at := spTime(ev.CreatedAt)
	inc := &spIncident{
		CreatedAt: at, UpdatedAt: at, ResolvedAt: &at, Impact: string(gateway.ImpactNone), Status: string(gateway.Resolved),
		Shortlink: p.Page.URL, ID: ev.ID, PageID: pageID, Name: no.Subject,
		IncidentUpdates: []spUpdate{{
			Body: no.Body, CreatedAt: at, DisplayAt: at, UpdatedAt: at, Status: string(gateway.Resolved),
			ID: ev.ID, IncidentID: ev.ID, DeliverNotifications: ev.Notify,
		}},
		Components: []spComponent{},
	}
	for _, c := range p.Affected {
		inc.Components = append(inc.Components, spComponentOf(c, pageID))
	}
	return inc, no
}
