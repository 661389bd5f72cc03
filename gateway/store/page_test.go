package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// pageClock is a store clock the page tests move by hand.
type pageClock struct{ now time.Time }

func (c *pageClock) Now() time.Time { return c.now }

// addPageIncident creates an incident of kind with updates (oldest first)
// and the component statuses it gives.
func addPageIncident(t *testing.T, s *store.Store, clock *pageClock, kind, name string, published bool,
	comps map[string]gateway.ComponentStatus, statuses ...gateway.IncidentStatus) *gateway.Incident {
	t.Helper()
	inc := &gateway.Incident{Kind: kind, Name: name, Status: statuses[0], Impact: gateway.ImpactMajor,
		Published: published, CreatedBy: "support", Components: comps}
	must(t, s.InTx(context.Background(), func(tx *store.Tx) error { return tx.CreateIncident(inc) }))
	for _, st := range statuses {
		clock.now = clock.now.Add(time.Minute)
		inc.Status = st
		if !st.Open() {
			inc.ResolvedAt = clock.now
		}
		must(t, s.InTx(context.Background(), func(tx *store.Tx) error {
			if err := tx.SaveIncident(inc); err != nil {
				return err
			}
			return tx.AddUpdate(&gateway.IncidentUpdate{IncidentID: inc.ID, Status: st, Body: string(st) + " words", Author: "support"})
		}))
	}
	return inc
}

func TestPageSnapshotSelectsPublishedIncidents(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := &pageClock{now: time.Date(2021, 9, 16, 13, 0, 0, 0, time.UTC)}
		s.Now = clock.Now
		empty, err := s.PageVersion(ctx)
		must(t, err)
		if !empty.UpdatedAt.IsZero() || !empty.FirstIncidentAt.IsZero() {
			t.Errorf("empty page version = %+v, want zero times", empty)
		}

		g := addGroup(t, s, "Eptura Workplace Modules")
		space := addComponent(t, s, "Space Module", g)
		app := addComponent(t, s, "Hummingbird App", "")
		old := addPageIncident(t, s, clock, gateway.KindIncident, "Old outage", true,
			map[string]gateway.ComponentStatus{app: gateway.PartialOutage}, gateway.Investigating, gateway.Resolved)
		clock.now = clock.now.Add(48 * time.Hour)
		open := addPageIncident(t, s, clock, gateway.KindIncident, "Site access", true,
			map[string]gateway.ComponentStatus{space: gateway.MajorOutage, app: gateway.DegradedPerformance},
			gateway.Investigating, gateway.Identified)
		addPageIncident(t, s, clock, gateway.KindIncident, "A draft", false, nil, gateway.Investigating)
		addPageIncident(t, s, clock, gateway.KindMaintenance, "Database upgrade", true,
			map[string]gateway.ComponentStatus{space: gateway.UnderMaintenance}, gateway.MaintenanceScheduled)
		must(t, s.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.SetComponentStatus(space, gateway.Operational, gateway.MajorOutage, "incident", open.ID)
			return err
		}))

		v, err := s.PageVersion(ctx)
		must(t, err)
		if v.Stamp == empty.Stamp || !v.UpdatedAt.Equal(clock.now) || !v.FirstIncidentAt.Equal(old.CreatedAt) {
			t.Errorf("page version = %+v, want a new stamp, updated at %v, first incident at %v", v, clock.now, old.CreatedAt)
		}
		again, err := s.PageVersion(ctx)
		must(t, err)
		if again != v {
			t.Errorf("version changed without a change: %+v then %+v", v, again)
		}

		tests := []struct {
			name string
			sel  store.PageSelection
			want []string
		}{
			{"everything published", store.PageSelection{}, []string{"Database upgrade", "Site access", "Old outage"}},
			{"open incidents", store.PageSelection{Kind: gateway.KindIncident, OpenOnly: true}, []string{"Site access"}},
			{"maintenances", store.PageSelection{Kind: gateway.KindMaintenance}, []string{"Database upgrade"}},
			{"closed since yesterday", store.PageSelection{Kind: gateway.KindIncident, ClosedSince: clock.now.Add(-24 * time.Hour)},
				[]string{"Site access"}},
			{"created in a range", store.PageSelection{From: old.CreatedAt, To: old.CreatedAt.Add(time.Hour)}, []string{"Old outage"}},
			{"limit", store.PageSelection{Limit: 1}, []string{"Database upgrade"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				snap, err := s.PageSnapshot(ctx, tt.sel, time.Time{})
				must(t, err)
				var got []string
				for _, inc := range snap.Incidents {
					got = append(got, inc.Name)
				}
				if len(got) != len(tt.want) {
					t.Fatalf("incidents = %q, want %q", got, tt.want)
				}
				for i := range got {
					if got[i] != tt.want[i] {
						t.Errorf("incidents = %q, want %q", got, tt.want)
					}
				}
				if snap.Queries != 5 || len(snap.Components) != 2 || len(snap.Groups) != 1 {
					t.Errorf("snapshot: %d queries, %d components, %d groups; want 5, 2, 1", snap.Queries, len(snap.Components), len(snap.Groups))
				}
			})
		}

		snap, err := s.PageSnapshot(ctx, store.PageSelection{Kind: gateway.KindIncident, OpenOnly: true}, clock.now.Add(-90*24*time.Hour))
		must(t, err)
		inc := snap.Incidents[0]
		if len(inc.Updates) != 2 || inc.Updates[0].Status != gateway.Identified || inc.Updates[1].Status != gateway.Investigating {
			t.Errorf("updates = %+v, want identified then investigating", inc.Updates)
		}
		if inc.Components[space] != gateway.MajorOutage || inc.Components[app] != gateway.DegradedPerformance || len(inc.Components) != 2 {
			t.Errorf("components = %v", inc.Components)
		}
		if snap.Queries != 6 || len(snap.Changes) != 1 || snap.Changes[0].NewStatus != gateway.MajorOutage ||
			snap.Changes[0].IncidentID != open.ID || !snap.Changes[0].ChangedAt.Equal(clock.now) {
			t.Errorf("history: %d queries, changes %+v", snap.Queries, snap.Changes)
		}

		feed, err := s.FeedUpdates(ctx, 3)
		must(t, err)
		if len(feed) != 3 || feed[0].IncidentName != "Database upgrade" || feed[0].IncidentKind != gateway.KindMaintenance ||
			feed[1].IncidentName != "Site access" || feed[1].Status != gateway.Identified || feed[1].DisplayAt.IsZero() {
			t.Errorf("feed = %+v, want the newest three published updates", feed)
		}
		for _, f := range feed {
			if f.IncidentName == "A draft" {
				t.Error("the feed shows a draft")
			}
		}
	})
}
