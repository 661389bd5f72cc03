package incidents

import (
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/correlate"
	"github.com/heraldstatus/herald/gateway/store"
)

// componentStatuses derives every component's status from its active
// alerts, support's manual status and maintenance, and records each change.
// A change that no open incident or maintenance covers is announced on its
// own; a covered one rides along in its incident's (or maintenance's)
// next update, and so does one the caller's own event carries (see
// pass.carried). It also records why a component alerts made
// non-operational is in no open incident (see hold).
func (p *pass) componentStatuses() error {
	var active []store.ActiveStatus
	checked := p.ahead == nil || p.ahead.flapped // read under the write lock: no need to check again
	if checked {
		var err error
		if active, err = p.tx.ActiveComponentStatuses(); err != nil {
			return err
		}
	} else {
		active = p.ahead.active
	}
	maint, err := p.tx.ComponentsUnderMaintenance()
	if err != nil {
		return err
	}
	covering, err := p.tx.OpenIncidentsByComponent()
	if err != nil {
		return err
	}
	drafts, err := p.tx.OpenDrafts()
	if err != nil {
		return err
	}
	firing := map[string][]gateway.ComponentStatus{}
	for _, a := range active {
		firing[a.ComponentID] = append(firing[a.ComponentID], a.Status)
	}
	grew := map[string]bool{} // incidents whose components got worse
	for id, c := range p.comps {
		want := correlate.ComponentStatus(c.ManualStatus, firing[id], maint[id])
		if want != c.Status && !checked && c.ManualStatus == "" {
			// Read ahead of the write lock: an alert may have resolved
			// (or fired) since. What this component's alerts say now
			// decides.
			if firing[id], err = p.tx.ComponentActiveStatuses(id); err != nil {
				return err
			}
			want = correlate.ComponentStatus(c.ManualStatus, firing[id], maint[id])
		}
		if err := p.hold(c, want, len(covering[id]) > 0, maint[id]); err != nil {
			return err
		}
		if want == c.Status {
			continue
		}
		if heldByDraft(covering[id], drafts) {
			continue // nothing public changes until support publishes
		}
		reason := "alert"
		switch {
		case c.ManualStatus != "":
			reason = "manual"
		case maint[id] && len(firing[id]) == 0:
			reason = "maintenance"
		}
		incID := ""
		if len(covering[id]) > 0 {
			incID = covering[id][0]
		}
		changed, err := p.tx.SetComponentStatus(id, c.Status, want, reason, incID)
		if err != nil || !changed {
			return err
		}
		old := c.Status
		c.Status = want
		p.comps[id] = c
		for _, inc := range covering[id] {
			if err := p.tx.SetIncidentComponent(inc, id, want); err != nil {
				return err
			}
			if want.Rank() > old.Rank() {
				grew[inc] = true
			}
		}
		if len(covering[id]) == 0 && !maint[id] && !p.carried[id] {
			if err := p.s.addEvent(p.tx, p.s.componentEvent(c, old, want, p.now)); err != nil {
				return err
			}
			p.wrote = true
		}
	}
	return p.retitleGrown(grew)
}

// hold records why component c, which will show want, is held outside
// incidents: a status alerts made non-operational that no open incident
// covers is held by a maintenance in progress, by flapping alerts (which
// open no incident), or else by min_alerts (too few alerts to open one).
func (p *pass) hold(c gateway.Component, want gateway.ComponentStatus, covered, maint bool) error {
	var held gateway.Held
	if c.ManualStatus == "" && !covered && want != gateway.Operational && want != gateway.UnderMaintenance {
		held = gateway.HeldMaintenance
		if !maint {
			steady, err := p.tx.HasSteadyAlert(c.ID)
			if err != nil {
				return err
			}
			held = gateway.HeldFlapping
			if steady {
				held = gateway.HeldMinAlerts
			}
		}
	}
	if held == c.Held {
		return nil
	}
	c.Held = held
	p.comps[c.ID] = c
	return p.tx.SetComponentHeld(c.ID, held)
}

// retitleGrown lets the title and impact of the automatic incidents
// whose components got worse follow (see retitle).
func (p *pass) retitleGrown(ids map[string]bool) error {
	for id := range ids {
		inc, err := p.tx.Incident(id)
		if err != nil {
			return err
		}
		if !inc.Automated || inc.HumanControlled() {
			continue
		}
		name, impact := inc.Name, inc.Impact
		if p.retitle(inc); inc.Name == name && inc.Impact == impact {
			continue
		}
		if err := p.tx.SaveIncident(inc); err != nil {
			return err
		}
	}
	return nil
}

// lifecycle moves automatic incidents on: every alert resolved → monitoring
// (and resolve_after later, resolved); an alert firing again while
// monitoring → investigating again, the same incident. Incidents support
// has taken over keep their status and words. Whether an incident's alerts
// are quiet is asked of each incident under the write lock (a probe of an
// index), not read from every active alert.
func (p *pass) lifecycle() error {
	open, err := p.tx.CorrelatingIncidents()
	if err != nil {
		return err
	}
	for _, c := range open {
		if !c.HumanAt.IsZero() {
			continue
		}
		settling := c.Status == gateway.Investigating || c.Status == gateway.Identified
		if !settling && c.Status != gateway.Monitoring {
			continue
		}
		active, err := p.tx.IncidentActive(c.ID)
		if err != nil {
			return err
		}
		switch {
		case !active && settling:
			if err := p.toMonitoring(c.ID); err != nil {
				return err
			}
		case active && c.Status == gateway.Monitoring:
			if err := p.reopen(c.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *pass) toMonitoring(id string) error {
	inc, err := p.tx.Incident(id)
	if err != nil {
		return err
	}
	before := map[string]gateway.ComponentStatus{}
	after := map[string]gateway.ComponentStatus{}
	for cid, st := range inc.Components {
		before[cid], after[cid] = st, p.comps[cid].Status
	}
	inc.Status, inc.MonitoringAt = gateway.Monitoring, p.now
	if err := p.tx.SaveIncident(inc); err != nil {
		return err
	}
	if err := p.autoUpdate(inc, say("monitoring", wordsData{Components: p.sortedNames(inc.Components)}), affected(p.names, before, after)); err != nil {
		return err
	}
	return p.tx.SetTimer(timerResolve, inc.ID, p.now.Add(p.s.o.Settings.ResolveAfter))
}

func (p *pass) reopen(id string) error {
	inc, err := p.tx.Incident(id)
	if err != nil {
		return err
	}
	inc.Status, inc.MonitoringAt = gateway.Investigating, time.Time{}
	if err := p.tx.SaveIncident(inc); err != nil {
		return err
	}
	if err := p.tx.CancelTimer(timerResolve, inc.ID); err != nil {
		return err
	}
	return p.autoUpdate(inc, say("reopened", wordsData{Components: p.sortedNames(inc.Components)}), nil)
}

// notify announces an incident's newest update, if it has one that was not
// announced yet: the end of group_wait (the first message) or of
// group_interval (the next).
func (s *Service) notify(tx *store.Tx, id string, now time.Time) (bool, error) {
	inc, err := tx.Incident(id)
	if err != nil {
		return false, err
	}
	if !inc.Published {
		return false, nil // a draft: support publishes it
	}
	return s.announce(tx, inc, now)
}

// announce writes the event for the incident's newest update unless it was
// announced already or support chose not to notify.
func (s *Service) announce(tx *store.Tx, inc *gateway.Incident, now time.Time) (bool, error) {
	last, err := tx.LastNotified(inc.ID)
	if err != nil {
		return false, err
	}
	ups, err := tx.Updates(inc.ID)
	if err != nil || len(ups) == 0 {
		return false, err
	}
	latest := ups[0]
	done, err := tx.Announced(latest.ID)
	if err != nil || done || !latest.Notify {
		return false, err
	}
	typ := gateway.EventIncidentUpdated
	switch {
	case inc.Kind == gateway.KindMaintenance:
		typ = maintenanceEventType(inc.Status)
	case last.IsZero():
		typ = gateway.EventIncidentCreated
	case inc.Status == gateway.Resolved:
		typ = gateway.EventIncidentResolved
	}
	return true, s.addEvent(tx, s.incidentEvent(typ, inc, &latest, latest.Author, now))
}

// autoResolve resolves an automatic incident that stayed quiet in
// monitoring for resolve_after.
func (s *Service) autoResolve(tx *store.Tx, id string, now time.Time) (bool, error) {
	inc, err := tx.Incident(id)
	if err != nil {
		return false, err
	}
	if inc.Status != gateway.Monitoring || inc.HumanControlled() {
		return false, nil
	}
	active, err := tx.IncidentActive(id)
	if err != nil || active {
		return false, err // it fired again; the reconcile pass reopens it
	}
	inc.Status, inc.ResolvedAt, inc.CorrelationKey = gateway.Resolved, now, ""
	if err := tx.SaveIncident(inc); err != nil {
		return false, err
	}
	names := make([]string, 0, len(inc.Components))
	comps, err := tx.Components()
	if err != nil {
		return false, err
	}
	for _, c := range comps {
		if _, ok := inc.Components[c.ID]; ok {
			names = append(names, c.Name)
		}
	}
	u := &gateway.IncidentUpdate{IncidentID: id, Status: gateway.Resolved, Automated: true, Notify: true, Author: "automation",
		Body: say("resolved", wordsData{Components: names, Quiet: s.o.Settings.ResolveAfter.String()})}
	if err := tx.AddUpdate(u); err != nil {
		return false, err
	}
	if err := tx.Audit(gateway.Automation, "incident.resolve", "incident", id, nil); err != nil {
		return false, err
	}
	if !inc.Published {
		return false, nil
	}
	return s.announce(tx, inc, now)
}

// updateDue reminds support that an update it promised (next_update_at) has
// not been posted.
func (s *Service) updateDue(tx *store.Tx, id string, now time.Time) (bool, error) {
	inc, err := tx.Incident(id)
	if err != nil {
		return false, err
	}
	if !inc.Status.Open() || inc.NextUpdateAt.IsZero() || inc.NextUpdateAt.After(now) {
		return false, nil
	}
	ups, err := tx.Updates(id)
	if err != nil {
		return false, err
	}
	if len(ups) > 0 && !ups[0].CreatedAt.Before(inc.NextUpdateAt) {
		return false, nil // an update came in time
	}
	if s.o.UpdateDue != nil {
		s.o.UpdateDue()
	}
	var latest *gateway.IncidentUpdate
	if len(ups) > 0 {
		latest = &ups[0]
	}
	ev := s.incidentEvent(gateway.EventIncidentUpdateDue, inc, latest, "automation", now)
	if err := s.capture(tx, ev); err != nil {
		return false, err
	}
	ev.ComponentIDs, ev.SubscriberID = nil, s.o.SupportSubscriberID
	return true, tx.AddEvent(ev)
}
