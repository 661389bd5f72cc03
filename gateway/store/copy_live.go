package store

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"
)

// How a copy knows that a Herald is running on a database: every
// `herald serve` keeps its reconcile pass scheduled as a row of the timers
// table and moves it every second (the pass fires, deletes its row and
// schedules the next one), and claims and renews the leases of the other
// timers. No other writer touches the timers table so steadily, so a
// timers table that changes while it is watched for a few seconds has a
// running Herald behind it; one that stays still has none (a stopped
// Herald leaves its rows behind, unchanged). A database without a timers
// table, or with no timers at all, has never been served.

// checkIdle watches each store for a running Herald, both at once, and
// refuses if either has one.
func checkIdle(ctx context.Context, watch time.Duration, stores ...*Store) error {
	errs := make(chan error, len(stores))
	names := []string{"source", "target"}
	for i, s := range stores {
		go func() {
			moving, err := s.timersMoving(ctx, watch)
			switch {
			case err != nil:
				errs <- err
			case moving:
				errs <- refuse("a running Herald is writing to the %s (its timers moved while watched for %s): stop every herald serve on it first, or --force (dangerous: rows written during the copy are lost)", names[i], watch)
			default:
				errs <- nil
			}
		}()
	}
	var first error
	for range stores {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// timersMoving reports whether the timers table changes within watch.
func (s *Store) timersMoving(ctx context.Context, watch time.Duration) (bool, error) {
	has, err := s.hasTable(ctx, "timers")
	if err != nil || !has {
		return false, err
	}
	first, n, err := s.timersFingerprint(ctx)
	if err != nil || n == 0 {
		return false, err
	}
	deadline := time.Now().Add(watch)
	tick := time.NewTicker(min(200*time.Millisecond, watch))
	defer tick.Stop()
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-tick.C:
		}
		now, _, err := s.timersFingerprint(ctx)
		if err != nil {
			return false, err
		}
		if now != first {
			return true, nil
		}
	}
	return false, nil
}

// timersFingerprint hashes the timers table (a few rows per open
// incident and maintenance) and counts its rows.
func (s *Store) timersFingerprint(ctx context.Context) ([32]byte, int, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, kind, ref_id, due_at, lease_until, lease_owner FROM timers ORDER BY id")
	if err != nil {
		return [32]byte{}, 0, fmt.Errorf("store: read timers: %w", err)
	}
	defer rows.Close()
	h := sha256.New()
	n := 0
	for rows.Next() {
		var id, kind, ref, due, until, owner any
		if err := rows.Scan(&id, &kind, &ref, &due, &until, &owner); err != nil {
			return [32]byte{}, 0, err
		}
		fmt.Fprintf(h, "%v|%v|%v|%v|%v|%v\n", id, kind, ref, due, until, owner)
		n++
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, n, rows.Err()
}
