package incidents

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/correlate"
	"github.com/heraldstatus/herald/gateway/store"
)

// MaxBody bounds an update's or postmortem's text.
const MaxBody = 20000

// NewIncident is support's incident, opened by hand.
type NewIncident struct {
	Name   string
	Status gateway.IncidentStatus
	Impact gateway.Impact // derived from the components when empty
	Body   string
	// Components maps a component's id or exact name to the status the
	// incident gives it (support's manual status, which wins over alerts).
	Components   map[string]gateway.ComponentStatus
	Notify       bool
	Draft        bool
	NextUpdateAt time.Time
	// IdempotencyKey, when set, declares the incident once: the same key
	// again answers the incident it declared and writes nothing.
	IdempotencyKey string
}

// NewUpdate is support's update to an incident or maintenance.
type NewUpdate struct {
	Status       gateway.IncidentStatus
	Body         string
	Components   map[string]gateway.ComponentStatus
	Notify       bool
	NextUpdateAt time.Time
	// IdempotencyKey, when set, makes the update post once: the same key
	// on the same incident again changes nothing and sends nothing (a
	// double click, a resubmitted form, a client's retry).
	IdempotencyKey string
}

// Create opens an incident by hand: support writes its words from the
// first update on, and its components take the given statuses at once.
func (s *Service) Create(ctx context.Context, who gateway.Principal, in NewIncident) (*gateway.Incident, error) {
	if err := gateway.ValidateName("name", in.Name); err != nil {
		return nil, err
	}
	if !gateway.ValidIncidentStatus(gateway.KindIncident, in.Status) || in.Status == gateway.Postmortem {
		return nil, gateway.FieldError("status", "must be investigating, identified, monitoring or resolved")
	}
	if in.Impact != "" && (!in.Impact.Valid() || in.Impact == gateway.ImpactMaintenance) {
		return nil, gateway.FieldError("impact", "must be none, minor, major or critical")
	}
	if err := checkBody("body", in.Body); err != nil {
		return nil, err
	}
	if err := checkIdempotencyKey(in.IdempotencyKey); err != nil {
		return nil, err
	}
	var inc *gateway.Incident
	var wrote bool
	err := s.o.Store.InTx(ctx, func(tx *store.Tx) error {
		now := s.o.Store.Now()
		if in.IdempotencyKey != "" {
			id, err := tx.IncidentByIdempotencyKey(in.IdempotencyKey)
			if err != nil || id != "" {
				inc = &gateway.Incident{ID: id} // declared already: answer it, write nothing
				return err
			}
		}
		comps, err := resolveComponents(tx, in.Components)
		if err != nil {
			return err
		}
		worst := gateway.Operational
		for _, st := range comps {
			worst = worst.Worse(st)
		}
		if in.Impact == "" {
			in.Impact = correlate.Impact(worst)
		}
		inc = &gateway.Incident{Kind: gateway.KindIncident, Name: in.Name, Status: in.Status, Impact: in.Impact,
			HumanAt: now, Published: !in.Draft, NextUpdateAt: in.NextUpdateAt, CreatedBy: who.Name, Components: comps}
		if in.Status == gateway.Resolved {
			inc.ResolvedAt = now
		}
		if err := tx.CreateIncident(inc); err != nil {
			return err
		}
		if in.IdempotencyKey != "" {
			if err := tx.SetIncidentIdempotencyKey(inc.ID, in.IdempotencyKey); err != nil {
				return err
			}
		}
		wrote, err = s.human(tx, who, inc, NewUpdate{Status: in.Status, Body: in.Body, Notify: in.Notify, NextUpdateAt: in.NextUpdateAt}, comps, now)
		if err != nil {
			return err
		}
		return tx.Audit(who, "incident.create", "incident", inc.ID, map[string]any{"name": inc.Name, "status": inc.Status})
	})
	if in.IdempotencyKey != "" {
		inc, wrote, err = s.declaredConcurrently(ctx, in.IdempotencyKey, inc, wrote, err)
	}
	return s.done(ctx, inc, wrote, err)
}

// declaredConcurrently turns the unique key's refusal into the answer of
// the request that won: the same key may have declared the incident (or
// scheduled the maintenance) at the same moment in another transaction
// (PostgreSQL), and a retry must get that one, not a conflict. Any other
// outcome passes through.
func (s *Service) declaredConcurrently(ctx context.Context, key string, inc *gateway.Incident, wrote bool, err error) (*gateway.Incident, bool, error) {
	if gateway.ErrorCode(err) != gateway.ECONFLICT {
		return inc, wrote, err
	}
	var id string
	if e := s.o.Store.InTx(ctx, func(tx *store.Tx) (e error) { id, e = tx.IncidentByIdempotencyKey(key); return e }); e == nil && id != "" {
		return &gateway.Incident{ID: id}, false, nil
	}
	return inc, wrote, err
}

// PostUpdate adds support's update. From the first one on, automation
// never again writes the incident's status or words; it still tracks
// alerts and component statuses.
func (s *Service) PostUpdate(ctx context.Context, who gateway.Principal, id string, in NewUpdate) (*gateway.Incident, error) {
	if err := checkUpdate(in); err != nil {
		return nil, err
	}
	return s.change(ctx, id, func(tx *store.Tx, inc *gateway.Incident, now time.Time) (bool, error) {
		return s.postUpdate(tx, who, inc, in, now)
	})
}

// Resolve posts in as the update that resolves an incident, unless the
// incident is closed already: resolving is a state, so a retry, a double
// click or two people resolving at once answer the incident and send
// nothing again (other words on a closed incident are an update).
func (s *Service) Resolve(ctx context.Context, who gateway.Principal, id string, in NewUpdate) (*gateway.Incident, error) {
	in.Status = gateway.Resolved
	if err := checkUpdate(in); err != nil {
		return nil, err
	}
	return s.change(ctx, id, func(tx *store.Tx, inc *gateway.Incident, now time.Time) (bool, error) {
		if !inc.Status.Open() {
			return false, nil
		}
		return s.postUpdate(tx, who, inc, in, now)
	})
}

// errDryRun rolls back PreviewUpdate's transaction.
var errDryRun = errors.New("incidents: dry run")

// PreviewUpdate returns the event PostUpdate would write for in, as if the
// incident were published and in.Notify set, and how many subscribers it
// would reach now; it writes nothing: it runs PostUpdate's own steps
// (reconcile included, so component changes are the ones the update would
// make) and counts the planner's selection over the event in a
// transaction it rolls back. The console and the API's dry run preview an
// update from it, so what support sees cannot drift from what subscribers
// get.
func (s *Service) PreviewUpdate(ctx context.Context, who gateway.Principal, id string, in NewUpdate) (*gateway.Event, int, error) {
	in.Notify, in.IdempotencyKey = true, ""
	if err := checkUpdate(in); err != nil {
		return nil, 0, err
	}
	var ev *gateway.Event
	var recipients int
	err := s.withIncident(ctx, id, func(tx *store.Tx, inc *gateway.Incident, now time.Time) error {
		inc.Published = true
		if _, err := s.postUpdate(tx, who, inc, in, now); err != nil {
			return err
		}
		// The update's announcement, not an event the reconcile pass
		// wrote on the way (another incident's, a component's).
		ups, err := tx.Updates(id)
		if err != nil {
			return err
		}
		for _, e := range tx.AddedEvents() {
			if len(ups) > 0 && e.IncidentUpdateID == ups[0].ID {
				ev = e
			}
		}
		if ev == nil {
			return fmt.Errorf("incidents: the update of %s announced nothing", id)
		}
		if recipients, err = tx.CountRecipients(ev.ID); err != nil {
			return err
		}
		return errDryRun
	})
	if !errors.Is(err, errDryRun) {
		return nil, 0, err
	}
	return ev, recipients, nil
}

func checkUpdate(in NewUpdate) error {
	if err := checkBody("body", in.Body); err != nil {
		return err
	}
	return checkIdempotencyKey(in.IdempotencyKey)
}

// checkIdempotencyKey bounds a key as the column that keeps it does.
func checkIdempotencyKey(k string) error {
	if len(k) > 255 {
		return gateway.FieldError("idempotency_key", "is longer than 255 characters")
	}
	return nil
}

// postUpdate is PostUpdate inside its transaction.
func (s *Service) postUpdate(tx *store.Tx, who gateway.Principal, inc *gateway.Incident, in NewUpdate, now time.Time) (bool, error) {
	if in.IdempotencyKey != "" {
		done, err := tx.UpdateByIdempotencyKey(inc.ID, in.IdempotencyKey)
		switch {
		case err != nil:
			return false, err
		case done != nil && (done.Status != in.Status || done.Body != in.Body):
			return false, gateway.Errorf(gateway.ECONFLICT, "This idempotency key already posted a different update on this incident; post a new one with a new key (reload the page).")
		case done != nil:
			return false, nil // posted already: the incident as it is now, nothing sent again
		}
	}
	if !gateway.ValidIncidentStatus(inc.Kind, in.Status) || in.Status == gateway.Postmortem {
		return false, gateway.FieldError("status", "is not a status for this "+inc.Kind)
	}
	comps, err := resolveComponents(tx, in.Components)
	if err != nil {
		return false, err
	}
	if err := s.takeOver(tx, inc, now); err != nil {
		return false, err
	}
	inc.Status, inc.NextUpdateAt = in.Status, in.NextUpdateAt
	for cid, st := range comps {
		inc.Components[cid] = st
	}
	if !in.Status.Open() {
		inc.ResolvedAt, inc.CorrelationKey = now, ""
		// Alerts that still fire are in no incident now: their episode
		// is correlated again (a new incident, after group_wait), since a
		// closed incident explains no red component.
		if err := tx.DetachFiringAlerts(inc.ID); err != nil {
			return false, err
		}
	}
	if err := tx.SaveIncident(inc); err != nil {
		return false, err
	}
	wrote, err := s.human(tx, who, inc, in, comps, now)
	if err != nil {
		return false, err
	}
	return wrote, tx.Audit(who, "incident.update", "incident", inc.ID, map[string]any{"status": inc.Status, "notify": in.Notify})
}

// takeOver marks inc as support's from now on, if it was not yet:
// automation stops writing its status and words (the caller saves it).
func (s *Service) takeOver(tx *store.Tx, inc *gateway.Incident, now time.Time) error {
	if !inc.HumanAt.IsZero() {
		return nil
	}
	inc.HumanAt = now
	return tx.CancelTimer(timerResolve, inc.ID)
}

// human records support's update: component statuses (manual ones while the
// incident is open, cleared when it closes), the update with its affected
// components, the update-due reminder, and its announcement.
func (s *Service) human(tx *store.Tx, who gateway.Principal, inc *gateway.Incident, in NewUpdate, comps map[string]gateway.ComponentStatus, now time.Time) (bool, error) {
	before, names, err := componentStatuses(tx)
	if err != nil {
		return false, err
	}
	for cid, st := range comps {
		if err := tx.SetIncidentComponent(inc.ID, cid, st); err != nil {
			return false, err
		}
	}
	if inc.Kind == gateway.KindIncident {
		closing := !in.Status.Open()
		for cid := range inc.Components {
			manual := comps[cid]
			if closing {
				manual = "" // back to what alerts say
			} else if manual == "" {
				continue
			}
			if err := tx.SetManualStatus(cid, manual); err != nil {
				return false, err
			}
		}
	}
	// The update announces what happens to the incident's components:
	// none of them sends a message of its own.
	if err := s.settle(tx, now, inc.Components); err != nil {
		return false, err
	}
	current, _, err := componentStatuses(tx)
	if err != nil {
		return false, err
	}
	after := map[string]gateway.ComponentStatus{}
	for cid := range inc.Components {
		if comps[cid] != "" || current[cid] != before[cid] {
			after[cid] = current[cid]
			if st := comps[cid]; st != "" && !inc.Published && in.Status.Open() {
				// A draft holds its components where they are (see
				// heldByDraft): the update says what publishing shows.
				after[cid] = st
			}
		}
	}
	u := &gateway.IncidentUpdate{IncidentID: inc.ID, Status: in.Status, Body: in.Body, Notify: in.Notify, IdempotencyKey: in.IdempotencyKey,
		Author: who.Name, NextUpdateAt: in.NextUpdateAt, AffectedComponents: affected(names, before, after)}
	if err := tx.AddUpdate(u); err != nil {
		return false, err
	}
	if in.NextUpdateAt.IsZero() || !in.Status.Open() {
		err = tx.CancelTimer(timerUpdateDue, inc.ID)
	} else {
		err = tx.SetTimer(timerUpdateDue, inc.ID, in.NextUpdateAt)
	}
	if err != nil || !inc.Published || !in.Notify {
		return false, err
	}
	return s.announce(tx, inc, now)
}

// Edit changes an incident's title or impact (no notification). Support
// writing either takes the incident's words over from automation, as an
// update does: automation no longer retitles it or moves its status.
func (s *Service) Edit(ctx context.Context, who gateway.Principal, id string, name *string, impact *gateway.Impact) (*gateway.Incident, error) {
	return s.change(ctx, id, func(tx *store.Tx, inc *gateway.Incident, now time.Time) (bool, error) {
		if err := s.takeOver(tx, inc, now); err != nil {
			return false, err
		}
		if name != nil {
			if err := gateway.ValidateName("name", *name); err != nil {
				return false, err
			}
			inc.Name = *name
		}
		if impact != nil {
			if !impact.Valid() {
				return false, gateway.FieldError("impact", "must be none, minor, major, critical or maintenance")
			}
			inc.Impact = *impact
		}
		if err := tx.SaveIncident(inc); err != nil {
			return false, err
		}
		return false, tx.Audit(who, "incident.edit", "incident", id, map[string]any{"name": inc.Name, "impact": inc.Impact})
	})
}

// Publish makes a draft public and announces it: its components take the
// statuses it held back, inside its announcement.
func (s *Service) Publish(ctx context.Context, who gateway.Principal, id string) (*gateway.Incident, error) {
	return s.change(ctx, id, func(tx *store.Tx, inc *gateway.Incident, now time.Time) (bool, error) {
		if inc.Published {
			return false, nil
		}
		return s.publish(tx, who, inc, now)
	})
}

// Postmortem publishes the postmortem (Markdown) of a resolved incident.
func (s *Service) Postmortem(ctx context.Context, who gateway.Principal, id, body string, notify bool) (*gateway.Incident, error) {
	if err := checkBody("body", body); err != nil {
		return nil, err
	}
	return s.change(ctx, id, func(tx *store.Tx, inc *gateway.Incident, now time.Time) (bool, error) {
		if inc.Kind != gateway.KindIncident || (inc.Status != gateway.Resolved && inc.Status != gateway.Postmortem) {
			return false, gateway.Errorf(gateway.EUNPROCESSABLE, "Resolve the incident before publishing its postmortem.")
		}
		if inc.Status == gateway.Postmortem && inc.PostmortemBody == body {
			return false, nil // published already (a double click, a retry): nothing sent twice
		}
		inc.PostmortemBody, inc.PostmortemPublishedAt, inc.Status = body, now, gateway.Postmortem
		if inc.HumanAt.IsZero() {
			inc.HumanAt = now
		}
		if err := tx.SaveIncident(inc); err != nil {
			return false, err
		}
		if err := tx.Audit(who, "incident.postmortem", "incident", id, nil); err != nil {
			return false, err
		}
		if !notify || !inc.Published {
			return false, nil
		}
		return true, s.addEvent(tx, s.incidentEvent(gateway.EventIncidentPostmortem, inc, nil, who.Name, now))
	})
}

// SetComponentStatus sets support's manual status of a component, or
// clears it ("") so that alerts decide again.
func (s *Service) SetComponentStatus(ctx context.Context, who gateway.Principal, idOrName string, st gateway.ComponentStatus) error {
	if st != "" && !st.Valid() {
		return gateway.FieldError("status", "is not a component status")
	}
	var wrote bool
	err := s.o.Store.InTx(ctx, func(tx *store.Tx) error {
		comps, err := resolveComponents(tx, map[string]gateway.ComponentStatus{idOrName: gateway.Operational})
		if err != nil {
			return err
		}
		for id := range comps {
			if err := tx.SetManualStatus(id, st); err != nil {
				return err
			}
			if err := tx.Audit(who, "component.status", "component", id, map[string]any{"manual_status": st}); err != nil {
				return err
			}
		}
		wrote, err = s.reconcile(tx, s.o.Store.Now(), nil, 0)
		return err
	})
	_, err = s.done(ctx, nil, wrote, err)
	return err
}

// change runs fn on incident id in one transaction and returns the
// incident as stored after it, waking the dispatcher when fn wrote events.
func (s *Service) change(ctx context.Context, id string, fn func(tx *store.Tx, inc *gateway.Incident, now time.Time) (wrote bool, err error)) (*gateway.Incident, error) {
	var inc *gateway.Incident
	var wrote bool
	err := s.withIncident(ctx, id, func(tx *store.Tx, locked *gateway.Incident, now time.Time) (err error) {
		inc = locked
		wrote, err = fn(tx, inc, now)
		return err
	})
	return s.done(ctx, inc, wrote, err)
}

// withIncident runs fn on incident id, locked, in one write transaction
// (committed when fn returns nil). Changes to one incident run one after
// the other (see lock-incident): each reads what the one before wrote.
//
// The reconcile lock is taken first, as a reconcile pass takes it: a pass
// holds it while it writes incidents, and most changes here reconcile
// (an update settles its components). Taken in the other order, a change
// holding the incident's row and waiting for the lock, and a pass holding
// the lock and writing that row, deadlock on PostgreSQL, and the change
// fails.
func (s *Service) withIncident(ctx context.Context, id string, fn func(tx *store.Tx, inc *gateway.Incident, now time.Time) error) error {
	return s.o.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.LockReconcile(); err != nil {
			return err
		}
		if err := tx.LockIncident(id); err != nil {
			return err
		}
		inc, err := tx.Incident(id)
		if err != nil {
			return err
		}
		return fn(tx, inc, s.o.Store.Now())
	})
}

// done wakes the dispatcher after events were committed.
func (s *Service) done(ctx context.Context, inc *gateway.Incident, wrote bool, err error) (*gateway.Incident, error) {
	if err != nil {
		return nil, err
	}
	if wrote && s.o.EventWritten != nil {
		s.o.EventWritten()
	}
	if inc == nil {
		return nil, nil
	}
	return s.o.Store.Incident(ctx, inc.ID)
}

// resolveComponents maps ids or names to component ids, checking statuses;
// errors name the field components.<key>.
func resolveComponents(tx *store.Tx, in map[string]gateway.ComponentStatus) (map[string]gateway.ComponentStatus, error) {
	out := map[string]gateway.ComponentStatus{}
	if len(in) == 0 {
		return out, nil
	}
	all, err := tx.Components()
	if err != nil {
		return nil, err
	}
	for key, st := range in {
		if !st.Valid() {
			return nil, gateway.FieldError("components."+key, "is not a component status")
		}
		found := ""
		for _, c := range all {
			if c.ID == key || c.Name == key {
				found = c.ID
				break
			}
		}
		if found == "" {
			return nil, gateway.FieldError("components."+key, "no component with this id or name")
		}
		out[found] = st
	}
	return out, nil
}

func checkBody(field, body string) error {
	switch {
	case len(body) == 0:
		return gateway.FieldError(field, "is required")
	case utf8.RuneCountInString(body) > MaxBody:
		return gateway.FieldError(field, "is longer than 20000 characters")
	case !utf8.ValidString(body):
		return gateway.FieldError(field, "is not valid UTF-8")
	}
	return nil
}
