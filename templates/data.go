package templates

import (
	"strings"
	"time"

	"github.com/heraldstatus/herald/gateway"
)

// EmailData is what every message template renders from: the event's
// snapshot (so a retry hours later sends the words of that moment) and the
// recipient's personal links. Templates reach the snapshot's parts as
// .Page, .Incident, .Update, .Components, .Broadcast and .ConfirmURL;
// Incident, Update and Broadcast are nil when the event has none.
type EmailData struct {
	Type      gateway.EventType
	EventID   string
	CreatedAt time.Time

	Page       gateway.PageInfo
	Incident   *gateway.IncidentSnapshot
	Update     *gateway.UpdateSnapshot
	Components []gateway.ComponentChange
	Broadcast  *gateway.BroadcastMessage
	// ConfirmURL is set for subscriber.confirm only.
	ConfirmURL string

	// ManageURL and UnsubscribeURL carry the recipient's tokens; either may
	// be empty (a confirmation mail to an address not yet subscribed), and
	// the templates then leave the link out.
	ManageURL      string
	UnsubscribeURL string
}

// NewEmailData returns the template data for ev sent to a recipient whose
// links are manageURL and unsubscribeURL. It copies nothing deeply: the
// result shares the event's snapshot, which templates only read.
func NewEmailData(ev *gateway.Event, manageURL, unsubscribeURL string) EmailData {
	p := ev.Payload
	return EmailData{
		Type:           ev.Type,
		EventID:        ev.ID,
		CreatedAt:      ev.CreatedAt,
		Page:           p.Page,
		Incident:       p.Incident,
		Update:         p.Update,
		Components:     p.Components,
		Broadcast:      p.Broadcast,
		ConfirmURL:     p.ConfirmURL,
		ManageURL:      manageURL,
		UnsubscribeURL: unsubscribeURL,
	}
}

// slackEscaped returns a copy of d in which every text a person wrote (names,
// bodies, subjects) has Slack's control characters escaped, so an update
// body cannot forge a link or a mention in a Slack message. URLs, which
// Herald builds itself, are left as they are.
func slackEscaped(d EmailData) EmailData {
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace
	d.Page.Name = esc(d.Page.Name)
	if d.Incident != nil {
		in := *d.Incident
		in.Name, in.Postmortem = esc(in.Name), esc(in.Postmortem)
		d.Incident = &in
	}
	if d.Update != nil {
		up := *d.Update
		up.Body = esc(up.Body)
		d.Update = &up
	}
	if d.Broadcast != nil {
		b := *d.Broadcast
		b.Subject, b.Body = esc(b.Subject), esc(b.Body)
		d.Broadcast = &b
	}
	if d.Components != nil {
		cs := make([]gateway.ComponentChange, len(d.Components))
		for i, c := range d.Components {
			c.Name, c.Group = esc(c.Name), esc(c.Group)
			cs[i] = c
		}
		d.Components = cs
	}
	return d
}
