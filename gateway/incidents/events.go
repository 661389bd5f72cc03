package incidents

import (
	"strings"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// incidentEvent builds the event for an incident update with the snapshot
// every message of it needs: the words of this moment, not of a later edit.
func (s *Service) incidentEvent(typ gateway.EventType, inc *gateway.Incident, u *gateway.IncidentUpdate, actor string, now time.Time) *gateway.Event {
	ev := &gateway.Event{
		Type: typ, IncidentID: inc.ID, Notify: true, Actor: actor, CreatedAt: now,
		Payload: gateway.EventPayload{Page: s.o.Page, Incident: s.snapshot(inc)},
	}
	for id := range inc.Components {
		ev.ComponentIDs = append(ev.ComponentIDs, id)
	}
	if u != nil {
		ev.IncidentUpdateID = u.ID
		ev.Payload.Update = &gateway.UpdateSnapshot{ID: u.ID, Status: u.Status, Body: u.Body, CreatedAt: u.CreatedAt, NextUpdateAt: u.NextUpdateAt}
		ev.Payload.Components = changes(u.AffectedComponents)
	}
	return ev
}

func (s *Service) snapshot(inc *gateway.Incident) *gateway.IncidentSnapshot {
	return &gateway.IncidentSnapshot{
		ID: inc.ID, Kind: inc.Kind, Name: inc.Name, Status: inc.Status, Impact: inc.Impact,
		URL:       strings.TrimRight(s.o.PublicURL, "/") + "/incidents/" + inc.ID,
		CreatedAt: inc.CreatedAt, UpdatedAt: inc.UpdatedAt, ResolvedAt: inc.ResolvedAt,
		ScheduledFor: inc.ScheduledFor, ScheduledUntil: inc.ScheduledUntil, Postmortem: inc.PostmortemBody,
		PostmortemAt: inc.PostmortemPublishedAt, MonitoringAt: inc.MonitoringAt, AutoTransition: inc.AutoTransition,
	}
}

// addEvent captures into ev what its messages need of this moment (see
// capture) and writes it.
func (s *Service) addEvent(tx *store.Tx, ev *gateway.Event) error {
	if err := s.capture(tx, ev); err != nil {
		return err
	}
	return tx.AddEvent(ev)
}

// capture completes ev's snapshot inside the transaction that changed
// things, so that every message of it (a retry hours later included) says
// what was true when it was written: the whole page's status, the
// affected components (ev.ComponentIDs) as the page showed them, and for
// an incident its whole timeline, newest first. Statuspage-format
// webhooks carry all three.
func (s *Service) capture(tx *store.Tx, ev *gateway.Event) error {
	state, err := tx.PageState()
	if err != nil {
		return err
	}
	ev.Payload.Capture(state, ev.ComponentIDs)
	inc := ev.Payload.Incident
	if inc == nil {
		return nil
	}
	ups, err := tx.Updates(inc.ID)
	if err != nil {
		return err
	}
	inc.Updates = make([]gateway.UpdateSnapshot, 0, len(ups))
	for _, u := range ups {
		inc.Updates = append(inc.Updates, gateway.UpdateSnapshot{ID: u.ID, Status: u.Status, Body: u.Body,
			CreatedAt: u.CreatedAt, NextUpdateAt: u.NextUpdateAt, DisplayAt: u.DisplayAt, Notify: u.Notify,
			AffectedComponents: changes(u.AffectedComponents)})
	}
	return nil
}

// changes are an update's affected components as messages show them.
func changes(ac []gateway.AffectedComponent) []gateway.ComponentChange {
	var out []gateway.ComponentChange
	for _, a := range ac {
		out = append(out, gateway.ComponentChange{ID: a.ComponentID, Name: a.Name, OldStatus: a.OldStatus, NewStatus: a.NewStatus})
	}
	return out
}

// componentEvent announces a component's change that no incident covers.
func (s *Service) componentEvent(c gateway.Component, old, new gateway.ComponentStatus, now time.Time) *gateway.Event {
	return &gateway.Event{
		Type: gateway.EventComponentStatus, ComponentID: c.ID, ComponentIDs: []string{c.ID}, Notify: true,
		Actor: "automation", CreatedAt: now,
		Payload: gateway.EventPayload{Page: s.o.Page, Components: []gateway.ComponentChange{{ID: c.ID, Name: c.Name, OldStatus: old, NewStatus: new}}},
	}
}

func maintenanceEventType(st gateway.IncidentStatus) gateway.EventType {
	switch st {
	case gateway.MaintenanceInProgress, gateway.MaintenanceVerifying:
		return gateway.EventMaintenanceStarted
	case gateway.MaintenanceCompleted:
		return gateway.EventMaintenanceCompleted
	}
	return gateway.EventMaintenanceScheduled
}
