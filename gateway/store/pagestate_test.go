package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// TestPageState: what an event captures of the page: every component, the
// groups, and only the published incidents still open;
// inside a transaction it sees the transaction's own changes.
func TestPageState(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := &pageClock{now: time.Date(2021, 9, 16, 13, 0, 0, 0, time.UTC)}
		s.Now = clock.Now
		g := addGroup(t, s, "Eptura Workplace Modules")
		space := addComponent(t, s, "Space Module", g)
		addComponent(t, s, "Hummingbird App", "")
		addPageIncident(t, s, clock, gateway.KindIncident, "Old outage", true, nil, gateway.Investigating, gateway.Resolved)
		open := addPageIncident(t, s, clock, gateway.KindIncident, "Site access", true, nil, gateway.Investigating)
		addPageIncident(t, s, clock, gateway.KindIncident, "A draft", false, nil, gateway.Investigating)

		ps, err := s.PageState(ctx)
		must(t, err)
		if len(ps.Components) != 2 || len(ps.Groups) != 1 || ps.Groups[0].ID != g {
			t.Errorf("components %+v, groups %+v", ps.Components, ps.Groups)
		}
		if len(ps.Open) != 1 || ps.Open[0].ID != open.ID || ps.Open[0].Impact != gateway.ImpactMajor || ps.Open[0].Kind != gateway.KindIncident {
			t.Errorf("open incidents %+v, want only %s", ps.Open, open.ID)
		}
		must(t, s.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.SetComponentStatus(space, gateway.Operational, gateway.MajorOutage, "alert", ""); err != nil {
				return err
			}
			in, err := tx.PageState()
			if err != nil {
				return err
			}
			for _, c := range in.Components {
				if c.ID == space && c.Status != gateway.MajorOutage {
					t.Errorf("inside the transaction: %s, want its own change", c.Status)
				}
			}
			return nil
		}))
	})
}
