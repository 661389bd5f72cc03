package templates

import (
	"fmt"
	"time"

	"github.com/heraldstatus/herald/gateway"
)

// The sample page, links and incident: the Eptura Workplace outage of
// 2021-09-16 (docs/examples/herald.yml), the scenario Herald is built around.
const (
	samplePage       = "Eptura Workplace"
	samplePageURL    = "https://status.example.com"
	sampleIncidentID = "k7n3d9w2q5r8t1v4"
	sampleManageURL  = samplePageURL + "/subscriptions/sample-token"
	sampleUnsubURL   = samplePageURL + "/unsubscribe/sample-token"
	sampleConfirmURL = samplePageURL + "/subscribe/confirm/sample-token"
	sampleIncident   = "iOFFICE is currently investigating an issue with customers site access."
)

var sampleModules = []string{
	"Space Module", "Move Module", "Reservation Module", "Service Request Module", "Asset Module",
	"Inventory Module", "Mail Module", "Copy Module", "Visitor Module", "Insights Module",
}

func at(day, hour, min int) time.Time { return time.Date(2021, 9, day, hour, min, 0, 0, time.UTC) }

// sampleComponents returns the seed's eleven components, each going from
// old to new; the Hummingbird App (group Apps) goes from appOld to appNew.
func sampleComponents(old, new, appOld, appNew gateway.ComponentStatus) []gateway.ComponentChange {
	var cs []gateway.ComponentChange
	for i, name := range sampleModules {
		cs = append(cs, gateway.ComponentChange{
			ID: fmt.Sprintf("c%015d", i+1), Name: name, Group: "Eptura Workplace Modules",
			OldStatus: old, NewStatus: new,
		})
	}
	return append(cs, gateway.ComponentChange{
		ID: fmt.Sprintf("c%015d", len(sampleModules)+1), Name: "Hummingbird App", Group: "Apps",
		OldStatus: appOld, NewStatus: appNew,
	})
}

func sampleIncidentAt(status gateway.IncidentStatus, updated time.Time) *gateway.IncidentSnapshot {
	return &gateway.IncidentSnapshot{
		ID: sampleIncidentID, Kind: "incident", Name: sampleIncident, Status: status,
		Impact: gateway.ImpactCritical, URL: samplePageURL + "/incidents/" + sampleIncidentID,
		CreatedAt: at(16, 13, 54), UpdatedAt: updated,
	}
}

const samplePostmortem = `Root Cause:
iOFFICE investigation has pointed to a degradation caused by server node(s) not resolving correctly to DNS.

Remediation:
iOFFICE received system alerts notifying both the Customer Support and Engineering teams of nodes becoming unstable. Once identified, they began restart sequences to bring services back online. These restarts initially failed due to a service becoming out of sequence, which required a production change of DNS configurations before engineering team could restart the services successfully.

Preventative Action and Analysis:
The prolonged downtime was preceded by a lack of restart sequence documentation as well as required configuration changes needed to bring systems back online. iOFFICE engineering is conducting a review and enhancing our system restart documentation.`

// SampleEvent returns a realistic event of type t, built from the seed
// outage (ten modules and the Hummingbird App down for seven hours), for
// template previews and tests. Times and ids are fixed, so renders of it
// are stable. Like the events Herald writes, it carries what it captured
// of the page (its status, the affected components, the incident's
// timeline up to the event). The error wraps ErrUnknown for a type
// without templates.
func SampleEvent(t gateway.EventType) (*gateway.Event, error) {
	ev, err := sampleEvent(t)
	if err != nil {
		return nil, err
	}
	p := &ev.Payload
	if p.Incident != nil {
		for i := len(sampleChains[t]) - 1; i >= 0; i-- {
			prev, err := sampleEvent(sampleChains[t][i])
			if err != nil {
				return nil, err
			}
			u := *prev.Payload.Update
			u.Notify, u.AffectedComponents = true, prev.Payload.Components
			p.Incident.Updates = append(p.Incident.Updates, u)
		}
	}
	state := samplePageState(ev)
	ids := ev.ComponentIDs
	if ev.AllSubscribers || ev.SubscriberID != "" && len(ids) == 0 {
		ids = state.ComponentIDs() // the sample subscriber follows the whole page
	}
	p.Capture(state, ids)
	return ev, nil
}

// sampleChains lists, for an incident's or maintenance's event type, the
// events whose updates its timeline holds, oldest first.
var sampleChains = map[gateway.EventType][]gateway.EventType{
	gateway.EventIncidentCreated:      {gateway.EventIncidentCreated},
	gateway.EventIncidentUpdated:      {gateway.EventIncidentCreated, gateway.EventIncidentUpdated},
	gateway.EventIncidentUpdateDue:    {gateway.EventIncidentCreated, gateway.EventIncidentUpdated, gateway.EventIncidentUpdateDue},
	gateway.EventIncidentResolved:     {gateway.EventIncidentCreated, gateway.EventIncidentUpdated, gateway.EventIncidentUpdateDue, gateway.EventIncidentResolved},
	gateway.EventIncidentPostmortem:   {gateway.EventIncidentCreated, gateway.EventIncidentUpdated, gateway.EventIncidentUpdateDue, gateway.EventIncidentResolved},
	gateway.EventComponentStatus:      {gateway.EventIncidentCreated, gateway.EventIncidentUpdated, gateway.EventIncidentUpdateDue},
	gateway.EventMaintenanceScheduled: {gateway.EventMaintenanceScheduled},
	gateway.EventMaintenanceStarted:   {gateway.EventMaintenanceScheduled, gateway.EventMaintenanceStarted},
	gateway.EventMaintenanceCompleted: {gateway.EventMaintenanceScheduled, gateway.EventMaintenanceStarted, gateway.EventMaintenanceCompleted},
}

// samplePageState is the sample page as ev found it: the eleven
// components in their groups, at the statuses the event left them, and
// the sample incident while it is open.
func samplePageState(ev *gateway.Event) *gateway.PageState {
	p := &ev.Payload
	st := &gateway.PageState{Groups: []gateway.ComponentGroup{
		{ID: "g000000000000001", Name: "Eptura Workplace Modules", CreatedAt: at(1, 9, 0), UpdatedAt: at(1, 9, 0)},
		{ID: "g000000000000002", Name: "Apps", Position: 1, CreatedAt: at(1, 9, 0), UpdatedAt: at(1, 9, 0)},
	}}
	for i, c := range sampleComponents(gateway.Operational, gateway.Operational, gateway.Operational, gateway.Operational) {
		comp := gateway.Component{ID: c.ID, Name: c.Name, GroupID: st.Groups[0].ID, Position: i, Status: c.NewStatus,
			CreatedAt: at(1, 9, 0), UpdatedAt: at(1, 9, 0)}
		if i == len(sampleModules) {
			comp.GroupID, comp.Position, comp.Description = st.Groups[1].ID, 0, "The mobile app for booking desks and rooms."
		}
		for _, ch := range p.Components {
			if ch.ID == c.ID {
				comp.Status, comp.UpdatedAt = ch.NewStatus, ev.CreatedAt
			}
		}
		st.Components = append(st.Components, comp)
	}
	if i := p.Incident; i != nil && ev.Type != gateway.EventComponentStatus && i.Status.Open() {
		st.Open = append(st.Open, gateway.Incident{ID: i.ID, Kind: i.Kind, Status: i.Status, Impact: i.Impact})
	}
	return st
}

func sampleEvent(t gateway.EventType) (*gateway.Event, error) {
	ev := &gateway.Event{
		ID: "e" + sampleIncidentID[1:], Type: t, Notify: true, Actor: "support@example.com",
		Payload: gateway.EventPayload{Page: gateway.PageInfo{Name: samplePage, URL: samplePageURL}},
	}
	p := &ev.Payload
	maint := func(status gateway.IncidentStatus, updated time.Time) *gateway.IncidentSnapshot {
		return &gateway.IncidentSnapshot{
			ID: "m2x8c4v6b1n3k5j7", Kind: "maintenance", Name: "DNS configuration change on the application nodes",
			Status: status, Impact: gateway.ImpactMaintenance, URL: samplePageURL + "/incidents/m2x8c4v6b1n3k5j7",
			CreatedAt: at(20, 15, 0), UpdatedAt: updated,
			ScheduledFor: at(23, 2, 0), ScheduledUntil: at(23, 4, 0), AutoTransition: true,
		}
	}
	up := func(id string, status gateway.IncidentStatus, when time.Time, body string) *gateway.UpdateSnapshot {
		return &gateway.UpdateSnapshot{ID: id, Status: status, Body: body, CreatedAt: when}
	}
	op, major, maintenance := gateway.Operational, gateway.MajorOutage, gateway.UnderMaintenance
	switch t {
	case gateway.EventIncidentCreated:
		ev.CreatedAt = at(16, 13, 54)
		p.Incident = sampleIncidentAt(gateway.Investigating, ev.CreatedAt)
		p.Update = up("u000000000000001", gateway.Investigating, ev.CreatedAt, "iOFFICE is currently investigating an issue with customers site access.")
		p.Components = sampleComponents(op, major, op, major)
	case gateway.EventIncidentUpdated:
		ev.CreatedAt = at(16, 14, 51)
		p.Incident = sampleIncidentAt(gateway.Identified, ev.CreatedAt)
		p.Update = up("u000000000000002", gateway.Identified, ev.CreatedAt, "Our incident response team has identified the issue and is working hard to bring services back online.\nOur next update will be at 10:50am CST or as new information comes available.")
		p.Update.NextUpdateAt = at(16, 15, 50)
		p.Components = sampleComponents(major, major, major, major)
	case gateway.EventIncidentResolved:
		ev.CreatedAt = at(16, 21, 7)
		p.Incident = sampleIncidentAt(gateway.Resolved, ev.CreatedAt)
		p.Incident.ResolvedAt = ev.CreatedAt
		p.Update = up("u000000000000009", gateway.Resolved, ev.CreatedAt, "All systems have returned to a stable state and customers should experience a return to regular functionality. We appreciate your patience as our team worked to identify a resolution.\n\nReminder, As per our standard procedure we will continue to monitor operations, and will conduct a Root Cause Analysis and distribute the findings.")
		p.Components = sampleComponents(major, op, op, op)
	case gateway.EventIncidentPostmortem:
		ev.CreatedAt = at(24, 16, 29)
		p.Incident = sampleIncidentAt(gateway.Postmortem, ev.CreatedAt)
		p.Incident.ResolvedAt = at(16, 21, 7)
		p.Incident.Postmortem = samplePostmortem
		p.Components = sampleComponents(op, op, op, op)
	case gateway.EventIncidentUpdateDue:
		ev.CreatedAt = at(16, 17, 50)
		p.Incident = sampleIncidentAt(gateway.Identified, at(16, 16, 50))
		p.Update = up("u000000000000004", gateway.Identified, at(16, 16, 50), "Our Engineering team is still working to get services back to a functioning state. The issue is identified and we're working diligently for the next update at 12:50 PM CST")
		p.Update.NextUpdateAt = at(16, 17, 50)
		p.Components = sampleComponents(major, major, major, major)
	case gateway.EventComponentStatus:
		ev.CreatedAt = at(16, 20, 1)
		ev.ComponentID = fmt.Sprintf("c%015d", len(sampleModules)+1)
		p.Incident = sampleIncidentAt(gateway.Monitoring, ev.CreatedAt)
		p.Components = sampleComponents(op, op, major, op)[len(sampleModules):]
	case gateway.EventMaintenanceScheduled:
		ev.CreatedAt = at(20, 15, 0)
		p.Incident = maint(gateway.MaintenanceScheduled, ev.CreatedAt)
		p.Update = up("u000000000000011", gateway.MaintenanceScheduled, ev.CreatedAt, "To prevent a repeat of the September 16 outage, we will roll out a corrected DNS configuration and restart the application nodes in a tested sequence.\nThe modules may be unavailable for a few minutes during the window.")
		p.Components = sampleComponents(op, op, op, op)[:len(sampleModules)]
	case gateway.EventMaintenanceStarted:
		ev.CreatedAt = at(23, 2, 0)
		p.Incident = maint(gateway.MaintenanceInProgress, ev.CreatedAt)
		p.Update = up("u000000000000012", gateway.MaintenanceInProgress, ev.CreatedAt, "Scheduled maintenance is currently in progress. We will provide updates as necessary.")
		p.Components = sampleComponents(op, maintenance, op, op)[:len(sampleModules)]
	case gateway.EventMaintenanceCompleted:
		ev.CreatedAt = at(23, 3, 12)
		p.Incident = maint(gateway.MaintenanceCompleted, ev.CreatedAt)
		p.Update = up("u000000000000013", gateway.MaintenanceCompleted, ev.CreatedAt, "The scheduled maintenance has been completed.")
		p.Components = sampleComponents(maintenance, op, op, op)[:len(sampleModules)]
	case gateway.EventBroadcast:
		ev.CreatedAt = at(24, 16, 45)
		ev.AllSubscribers = true
		p.Broadcast = &gateway.BroadcastMessage{
			Subject: "Root Cause Analysis of the September 16 outage",
			Body:    "The Root Cause Analysis of the September 16 outage is now published on our status page.\n\nIn short: server nodes stopped resolving DNS correctly, and restarts failed until a corrected DNS configuration was released.\nWe are documenting our restart sequence and adding monitoring so this does not happen again.",
		}
	case gateway.EventSubscriberConfirm:
		ev.CreatedAt = at(16, 13, 40)
		ev.SubscriberID = "s000000000000001"
		p.ConfirmURL = sampleConfirmURL
	case gateway.EventTest:
		ev.CreatedAt = at(16, 13, 30)
		ev.SubscriberID = "s000000000000001"
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnknown, t)
	}
	for _, c := range p.Components {
		ev.ComponentIDs = append(ev.ComponentIDs, c.ID)
	}
	if p.Incident != nil {
		ev.IncidentID = p.Incident.ID
	}
	if p.Update != nil {
		ev.IncidentUpdateID = p.Update.ID
	}
	return ev, nil
}

// Sample returns the template data of SampleEvent(t) for a subscriber with
// sample manage and unsubscribe links (none for subscriber.confirm, sent
// before the address is subscribed). The error wraps ErrUnknown for a type
// without templates.
func Sample(t gateway.EventType) (EmailData, error) {
	ev, err := SampleEvent(t)
	if err != nil {
		return EmailData{}, err
	}
	if t == gateway.EventSubscriberConfirm {
		return NewEmailData(ev, "", ""), nil
	}
	return NewEmailData(ev, sampleManageURL, sampleUnsubURL), nil
}
