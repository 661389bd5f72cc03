package incidents

import (
	"context"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// NewMaintenance is a scheduled maintenance window.
type NewMaintenance struct {
	Name           string
	Body           string
	Components     []string // ids or names
	ScheduledFor   time.Time
	ScheduledUntil time.Time
	// AutoTransition starts and completes the maintenance at its times.
	AutoTransition bool
	Notify         bool
	// IdempotencyKey, when set, schedules the maintenance once: the same
	// key again answers the maintenance it scheduled and writes nothing
	// (a double click, a resubmitted form, a client's retry).
	IdempotencyKey string
}

// maintenanceKey keeps a maintenance's idempotency keys apart from an
// incident's: a client reusing a key across the two gets each its own.
func maintenanceKey(k string) string { return "maintenance:" + k }

// Schedule creates a maintenance. With AutoTransition it starts at
// ScheduledFor (its components go under_maintenance, and alerts on them
// open no incident) and completes at ScheduledUntil, by itself.
func (s *Service) Schedule(ctx context.Context, who gateway.Principal, in NewMaintenance) (*gateway.Incident, error) {
	if err := gateway.ValidateName("name", in.Name); err != nil {
		return nil, err
	}
	if err := checkBody("body", in.Body); err != nil {
		return nil, err
	}
	if in.ScheduledFor.IsZero() {
		return nil, gateway.FieldError("scheduled_for", "is required")
	}
	if !in.ScheduledUntil.After(in.ScheduledFor) {
		return nil, gateway.FieldError("scheduled_until", "must be after scheduled_for")
	}
	if len(in.Components) == 0 {
		return nil, gateway.FieldError("components", "name at least one component")
	}
	if err := checkIdempotencyKey(in.IdempotencyKey); err != nil {
		return nil, err
	}
	var inc *gateway.Incident
	var wrote bool
	err := s.o.Store.InTx(ctx, func(tx *store.Tx) error {
		now := s.o.Store.Now()
		if in.IdempotencyKey != "" {
			id, err := tx.IncidentByIdempotencyKey(maintenanceKey(in.IdempotencyKey))
			if err != nil || id != "" {
				inc = &gateway.Incident{ID: id} // scheduled already: answer it, write nothing
				return err
			}
		}
		want := map[string]gateway.ComponentStatus{}
		for _, c := range in.Components {
			want[c] = gateway.UnderMaintenance
		}
		comps, err := resolveComponents(tx, want)
		if err != nil {
			return err
		}
		inc = &gateway.Incident{Kind: gateway.KindMaintenance, Name: in.Name, Status: gateway.MaintenanceScheduled,
			Impact: gateway.ImpactMaintenance, HumanAt: now, Published: true, ScheduledFor: in.ScheduledFor,
			ScheduledUntil: in.ScheduledUntil, AutoTransition: in.AutoTransition, CreatedBy: who.Name, Components: comps}
		if err := tx.CreateIncident(inc); err != nil {
			return err
		}
		if in.IdempotencyKey != "" {
			if err := tx.SetIncidentIdempotencyKey(inc.ID, maintenanceKey(in.IdempotencyKey)); err != nil {
				return err
			}
		}
		if err := s.scheduleWindow(tx, inc); err != nil {
			return err
		}
		u := &gateway.IncidentUpdate{IncidentID: inc.ID, Status: inc.Status, Body: in.Body, Notify: in.Notify, Author: who.Name}
		if err := tx.AddUpdate(u); err != nil {
			return err
		}
		if err := tx.Audit(who, "maintenance.schedule", "incident", inc.ID, map[string]any{"name": inc.Name}); err != nil {
			return err
		}
		if in.Notify {
			wrote, err = s.announce(tx, inc, now)
		}
		return err
	})
	if in.IdempotencyKey != "" {
		inc, wrote, err = s.declaredConcurrently(ctx, maintenanceKey(in.IdempotencyKey), inc, wrote, err)
	}
	return s.done(ctx, inc, wrote, err)
}

// Reschedule moves a maintenance that has not completed.
func (s *Service) Reschedule(ctx context.Context, who gateway.Principal, id string, from, until time.Time) (*gateway.Incident, error) {
	if !until.After(from) {
		return nil, gateway.FieldError("scheduled_until", "must be after scheduled_for")
	}
	return s.change(ctx, id, func(tx *store.Tx, inc *gateway.Incident, _ time.Time) (bool, error) {
		if inc.Kind != gateway.KindMaintenance || inc.Status == gateway.MaintenanceCompleted {
			return false, gateway.Errorf(gateway.EUNPROCESSABLE, "Only a maintenance that has not completed can be rescheduled.")
		}
		inc.ScheduledFor, inc.ScheduledUntil = from, until
		if err := tx.SaveIncident(inc); err != nil {
			return false, err
		}
		if err := s.scheduleWindow(tx, inc); err != nil {
			return false, err
		}
		return false, tx.Audit(who, "maintenance.reschedule", "incident", id, map[string]any{"scheduled_for": from, "scheduled_until": until})
	})
}

// Cancel ends a maintenance early (or before it began).
func (s *Service) Cancel(ctx context.Context, who gateway.Principal, id string, notify bool) (*gateway.Incident, error) {
	return s.change(ctx, id, func(tx *store.Tx, inc *gateway.Incident, now time.Time) (bool, error) {
		if inc.Kind != gateway.KindMaintenance {
			return false, gateway.Errorf(gateway.ENOTFOUND, "Maintenance %q not found.", id)
		}
		if inc.Status == gateway.MaintenanceCompleted {
			return false, nil
		}
		wrote, err := s.finish(tx, inc, "This maintenance has been cancelled.", who.Name, notify, now)
		if err != nil {
			return false, err
		}
		return wrote, tx.Audit(who, "maintenance.cancel", "incident", id, nil)
	})
}

func (s *Service) scheduleWindow(tx *store.Tx, inc *gateway.Incident) error {
	if !inc.AutoTransition {
		if err := tx.CancelTimer(timerMaintStart, inc.ID); err != nil {
			return err
		}
		return tx.CancelTimer(timerMaintEnd, inc.ID)
	}
	if inc.Status == gateway.MaintenanceScheduled {
		if err := tx.SetTimer(timerMaintStart, inc.ID, inc.ScheduledFor); err != nil {
			return err
		}
	}
	return tx.SetTimer(timerMaintEnd, inc.ID, inc.ScheduledUntil)
}

func (s *Service) maintenanceStart(tx *store.Tx, id string, now time.Time) (bool, error) {
	inc, err := tx.Incident(id)
	if err != nil || inc.Status != gateway.MaintenanceScheduled {
		return false, err
	}
	inc.Status = gateway.MaintenanceInProgress
	if err := tx.SaveIncident(inc); err != nil {
		return false, err
	}
	u := &gateway.IncidentUpdate{IncidentID: id, Status: inc.Status, Notify: true, Automated: true, Author: "automation",
		Body: "Scheduled maintenance is now in progress. We will provide updates as necessary."}
	if err := s.settleWith(tx, inc, u, now); err != nil {
		return false, err
	}
	return s.announce(tx, inc, now)
}

// settleWith runs a reconcile pass for a maintenance that starts or ends
// and adds its update u, which reports what the pass did to the
// maintenance's components: the maintenance's message carries those
// changes, and none of them sends one of its own.
func (s *Service) settleWith(tx *store.Tx, inc *gateway.Incident, u *gateway.IncidentUpdate, now time.Time) error {
	before, names, err := componentStatuses(tx)
	if err != nil {
		return err
	}
	if err := s.settle(tx, now, inc.Components); err != nil {
		return err
	}
	after, _, err := componentStatuses(tx)
	if err != nil {
		return err
	}
	changed := map[string]gateway.ComponentStatus{}
	for id := range inc.Components {
		if after[id] != before[id] {
			changed[id] = after[id]
		}
	}
	u.AffectedComponents = affected(names, before, changed)
	return tx.AddUpdate(u)
}

// componentStatuses returns every component's status and name.
func componentStatuses(tx *store.Tx) (status map[string]gateway.ComponentStatus, names map[string]string, err error) {
	all, err := tx.Components()
	if err != nil {
		return nil, nil, err
	}
	status, names = map[string]gateway.ComponentStatus{}, map[string]string{}
	for _, c := range all {
		status[c.ID], names[c.ID] = c.Status, c.Name
	}
	return status, names, nil
}

func (s *Service) maintenanceEnd(tx *store.Tx, id string, now time.Time) (bool, error) {
	inc, err := tx.Incident(id)
	if err != nil || inc.Status == gateway.MaintenanceCompleted || inc.Status == gateway.MaintenanceScheduled && now.Before(inc.ScheduledUntil) {
		return false, err
	}
	return s.finish(tx, inc, "The scheduled maintenance has been completed.", "automation", true, now)
}

// finish completes a maintenance: its components leave under_maintenance.
func (s *Service) finish(tx *store.Tx, inc *gateway.Incident, body, author string, notify bool, now time.Time) (bool, error) {
	inc.Status, inc.ResolvedAt = gateway.MaintenanceCompleted, now
	if err := tx.SaveIncident(inc); err != nil {
		return false, err
	}
	for _, k := range []string{timerMaintStart, timerMaintEnd} {
		if err := tx.CancelTimer(k, inc.ID); err != nil {
			return false, err
		}
	}
	u := &gateway.IncidentUpdate{IncidentID: inc.ID, Status: inc.Status, Body: body, Notify: notify, Automated: author == "automation", Author: author}
	if err := s.settleWith(tx, inc, u, now); err != nil {
		return false, err
	}
	if !notify {
		return false, nil
	}
	return s.announce(tx, inc, now)
}
