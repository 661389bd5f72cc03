package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// TestClaimTimersGivesADueTimerToOne lets replicas claim one due timer at
// the same moment, round after round: each round exactly one gets it.
func TestClaimTimersGivesADueTimerToOne(t *testing.T) {
	tests := []struct {
		name     string
		claimers int
	}{
		{"two replicas", 2},
		{"eight replicas", 8},
	}
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2021, 9, 16, 13, 15, 0, 0, time.UTC)
		s.Now = func() time.Time { return now }
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				for round := 0; round < 20; round++ {
					// As the reconcile pass reschedules itself: due now, no lease.
					if err := s.SetTimer(ctx, "reconcile", "page", now, false); err != nil {
						t.Fatal(err)
					}
					got := make([][]store.Timer, tt.claimers)
					start := make(chan struct{})
					var wg sync.WaitGroup
					for i := range got {
						wg.Add(1)
						go func() {
							defer wg.Done()
							<-start
							var err error
							if got[i], err = s.ClaimTimers(ctx, fmt.Sprintf("replica-%d", i), 100, time.Minute); err != nil {
								t.Error(err)
							}
						}()
					}
					close(start)
					wg.Wait()
					winners := 0
					for _, tms := range got {
						winners += len(tms)
					}
					if winners != 1 {
						t.Fatalf("round %d: the due timer was claimed %d times, want 1", round, winners)
					}
				}
			})
		}
	})
}

// TestClaimedTimerOutlivesItsReplica claims a timer for a replica that then
// dies: nobody else takes it while the lease lasts, another replica takes
// it when the lease ends, and only that one fires it.
func TestClaimedTimerOutlivesItsReplica(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2021, 9, 16, 13, 15, 0, 0, time.UTC)
		s.Now = func() time.Time { return now }
		const lease = time.Minute
		if err := s.SetTimer(ctx, "reconcile", "page", now, false); err != nil {
			t.Fatal(err)
		}
		dead, err := s.ClaimTimers(ctx, "dead", 100, lease)
		if err != nil || len(dead) != 1 {
			t.Fatalf("first claim: %v, %v; want the timer", dead, err)
		}
		if got, err := s.ClaimTimers(ctx, "other", 100, lease); err != nil || len(got) != 0 {
			t.Fatalf("claim during the lease: %v, %v; want nothing", got, err)
		}
		now = now.Add(lease + time.Second)
		taken, err := s.ClaimTimers(ctx, "other", 100, lease)
		if err != nil || len(taken) != 1 || taken[0].ID != dead[0].ID {
			t.Fatalf("claim after the lease: %v, %v; want the dead replica's timer", taken, err)
		}
		fired := 0
		effect := func(*store.Tx) error { fired++; return nil }
		// The first replica was only slow, not dead: it has lost the timer.
		if err := s.FireTimer(ctx, dead[0], "dead", effect); !errors.Is(err, store.ErrTimerMoved) {
			t.Errorf("fire by the replica whose lease ended: %v, want ErrTimerMoved", err)
		}
		if err := s.FireTimer(ctx, taken[0], "other", effect); err != nil {
			t.Fatal(err)
		}
		if fired != 1 {
			t.Errorf("the timer's effect ran %d times, want 1", fired)
		}
		if _, err := s.Timer(ctx, "reconcile", "page"); gateway.ErrorCode(err) != gateway.ENOTFOUND {
			t.Errorf("after firing: %v, want the timer gone", err)
		}
	})
}

// TestAHeldTimerWaitsForItsOwner fires a timer whose effect re-schedules it
// held, as a reconcile pass does while it runs its further parts: no other
// replica claims it, though it is due, until its owner releases it, then at
// once; or, when the owner dies, until the lease ends (the last renewal's,
// if it renewed), and then the owner's late release does not take it from
// the replica that claimed it.
func TestAHeldTimerWaitsForItsOwner(t *testing.T) {
	const lease = time.Minute
	tests := []struct {
		name    string
		renew   bool          // the owner renews the lease, as each part of a pass does, at half the lease
		release bool          // the owner finishes and releases the timer
		takenAt time.Duration // from the hold until another replica claims it
	}{
		{"released at the end of the work", false, true, time.Second},
		{"owner died", false, false, lease + time.Second},
		{"owner renewed, then died", true, false, lease/2 + lease + time.Second},
	}
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				held := time.Date(2021, 9, 16, 13, 15, 0, 0, time.UTC)
				now := held
				s.Now = func() time.Time { return now }
				claim := func(owner string) []store.Timer {
					t.Helper()
					got, err := s.ClaimTimers(ctx, owner, 100, lease)
					if err != nil {
						t.Fatal(err)
					}
					return got
				}
				if err := s.SetTimer(ctx, "reconcile", "page", now, false); err != nil {
					t.Fatal(err)
				}
				claimed := claim("owner")
				if len(claimed) != 1 {
					t.Fatalf("the owner's claim: %v, want the timer", claimed)
				}
				err := s.FireTimer(ctx, claimed[0], "owner", func(tx *store.Tx) error {
					return tx.HoldTimer("reconcile", "page", now.Add(time.Second), "owner", lease)
				})
				if err != nil {
					t.Fatal(err)
				}
				now = held.Add(time.Second) // due
				if got := claim("other"); len(got) != 0 {
					t.Fatalf("claim of the held timer at its due time: %v, want nothing", got)
				}
				if tt.renew {
					now = held.Add(lease / 2)
					err := s.InTx(ctx, func(tx *store.Tx) error {
						if err := tx.RenewTimer("reconcile", "page", "other", now.Add(10*lease)); err != nil {
							return err // not other's: changes nothing
						}
						return tx.RenewTimer("reconcile", "page", "owner", now.Add(lease))
					})
					if err != nil {
						t.Fatal(err)
					}
				}
				if tt.release {
					if err := s.ReleaseTimer(ctx, claimed[0], "owner"); err != nil {
						t.Fatal(err)
					}
				}
				if tt.takenAt > time.Second {
					now = held.Add(tt.takenAt - time.Second)
					if got := claim("other"); len(got) != 0 {
						t.Fatalf("claim a second before %v: %v, want nothing", tt.takenAt, got)
					}
				}
				now = held.Add(tt.takenAt)
				taken := claim("other")
				if len(taken) != 1 || taken[0].Kind != "reconcile" || !taken[0].DueAt.Equal(held.Add(time.Second)) {
					t.Fatalf("claim at %v: %v, want the held timer", tt.takenAt, taken)
				}
				if err := s.ReleaseTimer(ctx, claimed[0], "owner"); err != nil { // late, or again
					t.Fatal(err)
				}
				if got := claim("third"); len(got) != 0 {
					t.Errorf("claim after the owner's late release: %v, want nothing (the timer is other's)", got)
				}
			})
		}
	})
}
