package incidents

import (
	"context"
	"errors"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// A draft (an incident support opened as one, or every automatic incident
// under publish: draft) changes nothing public until it is published: it
// is left out of the page, the API and the feeds (they read published
// incidents only), it announces nothing, and the components it alone
// covers keep the status the page shows. Their derived status waits; the
// reconcile pass that publishing runs applies it, so the change rides in
// the incident's first announcement, not in a component.status_changed
// of its own.

// heldByDraft reports whether drafts are all the open incidents that
// cover a component: its status change then waits for one to be
// published (or for all of them to close).
func heldByDraft(covering []string, drafts map[string]bool) bool {
	if len(covering) == 0 {
		return false
	}
	for _, id := range covering {
		if !drafts[id] {
			return false
		}
	}
	return true
}

// publish is Publish inside its transaction.
func (s *Service) publish(tx *store.Tx, who gateway.Principal, inc *gateway.Incident, now time.Time) (bool, error) {
	inc.Published = true
	if err := tx.SaveIncident(inc); err != nil {
		return false, err
	}
	reconciled, err := s.reconcile(tx, now, nil, 0)
	if err != nil {
		return false, err
	}
	wrote, err := s.announce(tx, inc, now)
	if err != nil {
		return false, err
	}
	return wrote || reconciled, tx.Audit(who, "incident.publish", "incident", inc.ID, nil)
}

// PublishPreview is what publishing a draft will change.
type PublishPreview struct {
	// Changes are the component statuses the page will show differently.
	Changes []gateway.ComponentChange
	// Event is the announcement publishing writes, nil when the latest
	// update notifies nobody; Recipients is how many subscribers it
	// reaches now.
	Event      *gateway.Event
	Recipients int
}

// PreviewPublish runs Publish's own steps on draft id in a transaction it
// rolls back and reports what they changed, so what support is shown is
// what publishing does. A published incident is EUNPROCESSABLE.
func (s *Service) PreviewPublish(ctx context.Context, who gateway.Principal, id string) (*PublishPreview, error) {
	var p PublishPreview
	err := s.withIncident(ctx, id, func(tx *store.Tx, inc *gateway.Incident, now time.Time) error {
		if inc.Published {
			return gateway.Errorf(gateway.EUNPROCESSABLE, "This incident is published already.")
		}
		before, err := tx.Components()
		if err != nil {
			return err
		}
		if _, err := s.publish(tx, who, inc, now); err != nil {
			return err
		}
		after, err := tx.Components()
		if err != nil {
			return err
		}
		was := make(map[string]gateway.ComponentStatus, len(before))
		for _, c := range before {
			was[c.ID] = c.Status
		}
		for _, c := range after { // page order
			if old := was[c.ID]; old != c.Status {
				p.Changes = append(p.Changes, gateway.ComponentChange{ID: c.ID, Name: c.Name, OldStatus: old, NewStatus: c.Status})
			}
		}
		for _, e := range tx.AddedEvents() {
			if e.IncidentID == id {
				p.Event = e
			}
		}
		if p.Event != nil {
			if p.Recipients, err = tx.CountRecipients(p.Event.ID); err != nil {
				return err
			}
		}
		return errDryRun
	})
	if !errors.Is(err, errDryRun) {
		return nil, err
	}
	return &p, nil
}
