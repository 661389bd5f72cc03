package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// A request of new alerts only is committed by one statement on
// PostgreSQL, with every column as the transaction writes it; a request
// with a stored alert is merged by the transaction, and the source's next
// requests go straight there. SQLite always takes the transaction.
func TestNewAlertsInOneStatement(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx, src := context.Background(), promSource(t, s)
		comp := &gateway.Component{Name: "API", Position: -1}
		must(t, s.CreateComponent(ctx, comp))
		link := store.AlertComponent{ComponentID: comp.ID, Status: gateway.MajorOutage}
		at := time.Date(2026, 11, 24, 1, 0, 0, 123456000, time.UTC)
		oneStatement := 0
		if s.Dialect() == store.Postgres {
			oneStatement = 1
		}

		merge, fps := newAlerts(src.ID, 3, at, link)
		ends := at.Add(5 * time.Minute)
		withEnd := func(part []string, stored map[string]*store.AlertRecord) ([]*store.AlertRecord, error) {
			recs, err := merge(part, stored)
			for _, r := range recs {
				if r.Fingerprint == "fp-001" {
					r.EndsAt, r.StateChanges, r.StateChangesSince = ends, 2, at
				}
			}
			return recs, err
		}
		must(t, s.UpsertAlerts(ctx, src.ID, fps, at, withEnd))
		if got := s.NewAlertStatements(); got != int64(oneStatement) {
			t.Fatalf("requests committed in one statement = %d, want %d", got, oneStatement)
		}
		stored, err := s.Alerts(ctx, store.AlertFilter{SourceID: src.ID})
		must(t, err)
		if len(stored) != 3 {
			t.Fatalf("%d alerts stored, want 3", len(stored))
		}
		for _, a := range stored {
			full, err := s.Alert(ctx, a.ID)
			must(t, err)
			wantEnd, wantChanges := time.Time{}, 0
			if a.Fingerprint == "fp-001" {
				wantEnd, wantChanges = ends, 2
			}
			if full.Status != gateway.AlertFiring || full.Severity != gateway.SeverityCritical || string(full.Raw) != `{"n":1}` ||
				full.Labels["n"] == "" || full.Annotations == nil || !full.StartsAt.Equal(at) || !full.ReceivedAt.Equal(at) ||
				!full.LastSeenAt.Equal(at) || !full.EndsAt.Equal(wantEnd) || full.StateChanges != wantChanges ||
				full.RuleID != "" || full.IncidentID != "" || len(full.Components) != 1 || full.Components[0] != link {
				t.Errorf("stored alert %s = %+v", a.Fingerprint, full)
			}
		}
		if got, err := s.Source(ctx, src.ID); err != nil {
			t.Fatal(err)
		} else if !got.LastAlertAt.Equal(at) {
			t.Errorf("last_alert_at = %v, want %v", got.LastAlertAt, at)
		}

		// Three stored, two new: merged in the transaction.
		later := at.Add(time.Minute)
		merge, fps = newAlerts(src.ID, 5, later, link)
		must(t, s.UpsertAlerts(ctx, src.ID, fps, later, merge))
		stored, err = s.Alerts(ctx, store.AlertFilter{SourceID: src.ID})
		must(t, err)
		if len(stored) != 5 {
			t.Fatalf("%d alerts after the second request, want 5", len(stored))
		}
		for _, a := range stored {
			if !a.LastSeenAt.Equal(later) || len(a.Components) != 1 {
				t.Errorf("after the second request %s = last seen %v, %d components", a.Fingerprint, a.LastSeenAt, len(a.Components))
			}
		}
		// The next requests of the source skip the statement that just
		// found a stored alert, new alerts or not.
		next := func(part []string, _ map[string]*store.AlertRecord) ([]*store.AlertRecord, error) {
			return []*store.AlertRecord{{Alert: gateway.Alert{Fingerprint: part[0], Status: gateway.AlertFiring,
				Severity: gateway.SeverityWarning, StartsAt: later, ReceivedAt: later, LastSeenAt: later}}}, nil
		}
		must(t, s.UpsertAlerts(ctx, src.ID, []string{"fp-new"}, later, next))
		if got := s.NewAlertStatements(); got != int64(oneStatement) {
			t.Errorf("requests committed in one statement = %d after a stored alert, want still %d", got, oneStatement)
		}
	})
}

// Replicas that insert the same new alerts at once store each alert once:
// a statement that loses the race writes nothing, and its request is
// merged by the transaction.
func TestNewAlertsRaceAcrossReplicas(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			url := storetest.URL(t, d)
			replicas := []*store.Store{storetest.OpenURL(t, url), storetest.OpenURL(t, url)}
			ctx, src := context.Background(), promSource(t, replicas[0])
			comp := &gateway.Component{Name: "API", Position: -1}
			must(t, replicas[0].CreateComponent(ctx, comp))
			link := store.AlertComponent{ComponentID: comp.ID, Status: gateway.MajorOutage}
			at := time.Now()
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for i := range 8 {
				wg.Go(func() {
					merge, fps := newAlerts(src.ID, 50, at, link)
					errs <- replicas[i%2].UpsertAlerts(ctx, src.ID, fps, at, merge)
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("a concurrent request failed: %v", err)
				}
			}
			s := replicas[0]
			if n := storetest.MustCount(t, s, `SELECT COUNT(*) FROM alerts`); n != 50 {
				t.Errorf("%d alerts, want 50", n)
			}
			if n := storetest.MustCount(t, s, `SELECT COUNT(*) FROM alert_components`); n != 50 {
				t.Errorf("%d alert components, want 50", n)
			}
		})
	}
}

// A source's changes made through a store reach its SourceByName at once;
// those of another store over the same database (another replica, the
// CLI) within a second.
func TestSourceByNameFollowsChanges(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			url := storetest.URL(t, d)
			s, other := storetest.OpenURL(t, url), storetest.OpenURL(t, url)
			ctx := context.Background()
			src := &gateway.Source{Name: "prom", Kind: "alertmanager", RateLimit: 5}
			_, err := s.CreateSource(ctx, src)
			must(t, err)
			byName := func(st *store.Store) *gateway.Source {
				t.Helper()
				got, err := st.SourceByName(ctx, "prom")
				must(t, err)
				return got
			}
			byName(s)
			token, err := s.RotateSourceToken(ctx, src.ID)
			must(t, err)
			if got := byName(s); !gateway.SecretMatches(token, got.TokenHash) {
				t.Error("SourceByName right after a rotation: the old token's hash")
			}
			src.RateLimit = 7
			must(t, s.UpdateSource(ctx, src))
			if got := byName(s); got.RateLimit != 7 {
				t.Errorf("SourceByName right after an update: rate %v, want 7", got.RateLimit)
			}
			got := byName(s)
			got.RateLimit = 99 // a caller's copy: the cache keeps its own
			if again := byName(s); again.RateLimit != 7 {
				t.Errorf("a caller changed the cached source: rate %v", again.RateLimit)
			}

			// Another store's change: kept for at most a second.
			start := time.Now()
			byName(other)
			src.RateLimit = 9
			must(t, s.UpdateSource(ctx, src))
			if got := byName(other); got.RateLimit != 7 && time.Since(start) < 500*time.Millisecond {
				t.Errorf("another store's lookup within the second: rate %v, want the kept 7", got.RateLimit)
			}
			storetest.WaitFor(t, 5*time.Second, 50*time.Millisecond, func() bool { return byName(other).RateLimit == 9 },
				"another store's change to reach SourceByName")

			must(t, s.DeleteSource(ctx, src.ID))
			if _, err := s.SourceByName(ctx, "prom"); gateway.ErrorCode(err) != gateway.ENOTFOUND {
				t.Errorf("SourceByName right after a delete: err = %v, want not_found", err)
			}
		})
	}
}
