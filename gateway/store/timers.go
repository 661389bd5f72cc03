package store

import (
	"context"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"
)

// timerQueries are the statements of queries/timers.sql.
type timerQueries struct {
	SetTimer        string `query:"set-timer"`
	HoldTimer       string `query:"hold-timer"`
	RenewTimer      string `query:"renew-timer"`
	SetTimerEarlier string `query:"set-timer-earlier"`
	DeleteTimer     string `query:"delete-timer"`
	GetTimer        string `query:"get-timer"`
	ClaimTimers     string `query:"claim-timers"`
	FireTimer       string `query:"fire-timer"`
	ReleaseTimer    string `query:"release-timer"`
}

// Timer is a persisted timer: kind and ref name what it is for (e.g.
// "notify" of incident X), DueAt when it fires.
type Timer struct {
	ID    int64
	Kind  string
	RefID string
	DueAt time.Time
}

// ErrTimerMoved is returned by FireTimer when the timer was rescheduled,
// cancelled or claimed by another process meanwhile: the effect was rolled
// back and the timer will fire again at its new time, if any.
var ErrTimerMoved = errors.New("store: timer moved or taken")

// SetTimer schedules kind/ref at due, replacing an earlier schedule.
func (t *Tx) SetTimer(kind, ref string, due time.Time) error {
	_, err := t.exec("set timer", t.s.q.SetTimer, kind, ref, storedTime(due), t.s.now())
	return err
}

// HoldTimer schedules kind/ref at due, already claimed by owner for lease:
// no replica claims it, due or not, until owner gives it back with
// ReleaseTimer or the lease ends (owner died). A timer whose effect goes on
// after its transaction (a reconcile pass's further parts) re-schedules
// itself with it, so that its next run waits for the end of this one.
func (t *Tx) HoldTimer(kind, ref string, due time.Time, owner string, lease time.Duration) error {
	now := t.s.now()
	_, err := t.exec("hold timer", t.s.q.HoldTimer, kind, ref, storedTime(due), now, now.Add(lease), owner)
	return err
}

// RenewTimer moves the lease of kind/ref to until if owner holds it still
// (see HoldTimer): a long piece of work keeps what it holds, while its
// lease can stay short enough that a dead owner's is soon taken over.
func (t *Tx) RenewTimer(kind, ref, owner string, until time.Time) error {
	_, err := t.exec("renew timer", t.s.q.RenewTimer, storedTime(until), kind, ref, owner)
	return err
}

// SetTimerEarlier schedules kind/ref at due unless it is already due sooner.
func (t *Tx) SetTimerEarlier(kind, ref string, due time.Time) error {
	_, err := t.exec("set timer earlier", t.s.q.SetTimerEarlier, kind, ref, storedTime(due), t.s.now())
	return err
}

// CancelTimer removes kind/ref if it is scheduled.
func (t *Tx) CancelTimer(kind, ref string) error {
	_, err := t.exec("cancel timer", t.s.q.DeleteTimer, kind, ref)
	return err
}

// SetTimer schedules kind/ref at due outside any other transaction.
func (s *Store) SetTimer(ctx context.Context, kind, ref string, due time.Time, earlierOnly bool) error {
	q := s.q.SetTimer
	if earlierOnly {
		q = s.q.SetTimerEarlier
	}
	_, err := s.wdb.ExecContext(ctx, q, kind, ref, storedTime(due), s.now())
	return wrap("set timer", err)
}

// Timer returns the scheduled timer kind/ref, or ENOTFOUND.
func (s *Store) Timer(ctx context.Context, kind, ref string) (*Timer, error) {
	var t Timer
	if err := s.db.GetContext(ctx, &t, s.q.GetTimer, kind, ref); err != nil {
		return nil, wrap("get timer", err)
	}
	return &t, nil
}

// ClaimTimers leases up to n due timers for owner. A timer whose lease has
// expired (its process died) is due again.
func (s *Store) ClaimTimers(ctx context.Context, owner string, n int, lease time.Duration) ([]Timer, error) {
	now := s.now()
	var out []Timer
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		return tx.SelectContext(ctx, &out, s.q.ClaimTimers, now.Add(lease), owner, now, now, n)
	})
	return out, wrap("claim timers", err)
}

// FireTimer runs fn, the timer's effect, and deletes the timer in the same
// transaction, only if it is still ours and still due at the time we
// claimed it; otherwise everything is rolled back and ErrTimerMoved is
// returned. So a timer's effect happens exactly once, whichever replica
// fires it and whenever a process dies.
func (s *Store) FireTimer(ctx context.Context, tm Timer, owner string, fn func(tx *Tx) error) error {
	return s.InTx(ctx, func(tx *Tx) error {
		n, err := tx.exec("fire timer", s.q.FireTimer, tm.ID, owner, storedTime(tm.DueAt))
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrTimerMoved
		}
		return fn(tx)
	})
}

// ReleaseTimer gives timer tm.Kind/tm.RefID back at once if owner holds
// it, so that it is claimable at its due time: a claimed timer whose effect
// failed (whoever comes next retries it), or one that HoldTimer scheduled
// when the work it waited for is done. A lease that ended and was taken by
// another replica stays theirs.
func (s *Store) ReleaseTimer(ctx context.Context, tm Timer, owner string) error {
	_, err := s.wdb.ExecContext(ctx, s.q.ReleaseTimer, tm.Kind, tm.RefID, owner)
	return wrap("release timer", err)
}
