// Package incidents is Herald's brain: it correlates routed alerts into
// incidents, derives component statuses, runs the Statuspage lifecycle
// (investigating → monitoring → resolved), paces notifications
// (group_wait, group_interval), fires persisted timers, and carries out
// support's manual control. Every state change writes its event in the same
// transaction. Decisions that need no I/O live in gateway/correlate; SQL
// lives in gateway/store.
//
// Correlation is level-triggered: a reconcile pass, itself a persisted
// timer, looks at what is firing and brings incidents and components in
// line. Only one process runs it at a time (timers are claimed), it is
// idempotent, and a crash anywhere leaves nothing that the next pass does
// not repair.
package incidents

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/correlate"
	"github.com/heraldstatus/herald/gateway/store"
)

// Timer kinds this service fires.
const (
	timerReconcile  = "reconcile"
	timerNotify     = "notify"
	timerResolve    = "resolve"
	timerUpdateDue  = "update_due"
	timerMaintStart = "maintenance_start"
	timerMaintEnd   = "maintenance_end"
)

// claimLease is how long a claimed timer stays this process's: past it, the
// process is taken for dead and another replica claims the timer.
const claimLease = time.Minute

// holdLease is how long a reconcile pass in parts holds its next run (see
// fire) past its latest part. Each part renews it, so a long pass keeps it,
// and a replica that dies mid-pass delays correlation by this much at most
// rather than by a whole claimLease.
const holdLease = 15 * time.Second

// Options configure a Service.
type Options struct {
	Store    *store.Store
	Settings correlate.Settings
	Page     gateway.PageInfo
	// PublicURL is the base of incident permalinks in messages.
	PublicURL string
	Log       *slog.Logger
	// Owner names this process in timer leases.
	Owner string
	// ReconcileEvery bounds how long a new alert waits before correlation
	// (default 1 s).
	ReconcileEvery time.Duration
	// Poll is how often due timers are looked for (default 250 ms).
	Poll time.Duration
	// SupportSubscriberID, when set, receives incident.update_due reminders.
	SupportSubscriberID string
	// EventWritten, when set, is called after a transaction wrote events,
	// so the dispatcher can plan them at once instead of at its next poll.
	EventWritten func()
	// UpdateDue, when set, counts update-due reminders (a metric).
	UpdateDue func()
	// Fired, when set, counts fired timers by kind (a metric).
	Fired func(kind string)
}

// Service runs correlation and timers and serves support's actions.
type Service struct {
	o Options
}

// New returns a service; call Run to start its loop.
func New(o Options) *Service {
	if o.ReconcileEvery <= 0 {
		o.ReconcileEvery = time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	if o.Owner == "" {
		o.Owner = gateway.NewID()
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Service{o: o}
}

// Run fires due timers until ctx ends. Several processes may run it on one
// PostgreSQL: each timer fires once, on whichever claims it.
func (s *Service) Run(ctx context.Context) error {
	if err := s.Start(ctx); err != nil {
		s.o.Log.Warn("schedule reconcile", "err", err)
	}
	t := time.NewTicker(s.o.Poll)
	defer t.Stop()
	for {
		if _, err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.o.Log.Warn("incident timers", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Start schedules the reconcile pass, which then keeps itself scheduled.
// Run calls it; tests that drive Tick by hand call it first.
func (s *Service) Start(ctx context.Context) error {
	return s.o.Store.SetTimer(ctx, timerReconcile, "page", s.o.Store.Now(), true)
}

// Tick claims and fires the timers due now and reports how many fired.
// Tests drive the service with it, with the store's clock moved by hand.
func (s *Service) Tick(ctx context.Context) (int, error) {
	timers, err := s.o.Store.ClaimTimers(ctx, s.o.Owner, 100, claimLease)
	if err != nil {
		return 0, err
	}
	// The reconcile pass first: timers due at the same moment (a notify at
	// the end of group_wait) must see the alerts that arrived before it.
	sort.SliceStable(timers, func(i, j int) bool { return timers[i].Kind == timerReconcile && timers[j].Kind != timerReconcile })
	fired := 0
	for _, tm := range timers {
		wrote := false
		var ahead *lookahead
		if tm.Kind == timerReconcile {
			s.expire(ctx)
			ahead = s.lookAhead(ctx)
		}
		err := s.o.Store.FireTimer(ctx, tm, s.o.Owner, func(tx *store.Tx) error {
			var err error
			wrote, err = s.fire(tx, tm, ahead)
			return err
		})
		switch {
		case errors.Is(err, store.ErrTimerMoved):
			continue
		case err != nil && ctx.Err() != nil:
			return fired, nil // shutting down: the lease expires and another run fires it
		case err != nil:
			s.o.Log.Error("fire timer", "kind", tm.Kind, "ref", tm.RefID, "err", err)
			_ = s.o.Store.ReleaseTimer(ctx, tm, s.o.Owner)
			continue
		}
		fired++
		if s.o.Fired != nil {
			s.o.Fired(tm.Kind)
		}
		if wrote && s.o.EventWritten != nil {
			s.o.EventWritten()
		}
		if tm.Kind == timerReconcile && ahead.held() {
			// The pass's further parts, before the other timers: a notify
			// due now must see the alerts that arrived before it.
			if err := s.parts(ctx, ahead, 1, true); err != nil && ctx.Err() == nil {
				s.o.Log.Warn("reconcile pass", "err", err) // the next pass takes what is left
			}
			s.release(ctx, tm)
		}
	}
	return fired, nil
}

// fire runs one timer's effect inside its transaction and reports whether
// it wrote events. ahead is what a reconcile pass read before it.
func (s *Service) fire(tx *store.Tx, tm store.Timer, ahead *lookahead) (bool, error) {
	now := s.o.Store.Now()
	switch tm.Kind {
	case timerReconcile:
		ev, err := s.reconcile(tx, now, ahead, 0)
		if err != nil {
			return false, err
		}
		next := now.Add(s.o.ReconcileEvery)
		if ahead.held() {
			// Held until Tick has run the further parts: another replica
			// claiming it meanwhile would read the whole pass ahead again
			// and find its alerts taken, load on the database in a storm.
			return ev, tx.HoldTimer(timerReconcile, "page", next, s.o.Owner, holdLease)
		}
		return ev, tx.SetTimer(timerReconcile, "page", next)
	case timerNotify:
		return s.notify(tx, tm.RefID, now)
	case timerResolve:
		return s.autoResolve(tx, tm.RefID, now)
	case timerUpdateDue:
		return s.updateDue(tx, tm.RefID, now)
	case timerMaintStart:
		return s.maintenanceStart(tx, tm.RefID, now)
	case timerMaintEnd:
		return s.maintenanceEnd(tx, tm.RefID, now)
	}
	s.o.Log.Warn("unknown timer kind; dropped", "kind", tm.Kind, "ref", tm.RefID)
	return false, nil
}

// Reconcile runs a correlation pass now, outside the timer loop (tests, and
// support actions that change what components should show).
func (s *Service) Reconcile(ctx context.Context) error {
	s.expire(ctx)
	return s.parts(ctx, s.lookAhead(ctx), 0, false)
}

// expire resolves the firing alerts whose end has passed, ahead of a
// reconcile pass, which then treats them as the resolved alerts they are:
// the senders that give their alerts an end (Prometheus, and ingest for
// alerts sent without one, see correlation.resolve_timeout) stop sending
// an alert that no longer fires, and no post tells Herald so. In a
// transaction of its own, so that it holds no alert's lock for the pass.
func (s *Service) expire(ctx context.Context) {
	if _, err := s.o.Store.ExpireAlerts(ctx, s.o.Store.Now(), s.o.Settings.FlapWindow); err != nil && ctx.Err() == nil {
		s.o.Log.Warn("resolve alerts whose end passed", "err", err) // the next pass tries again
	}
}

// release gives back the reconcile timer that a pass held (see fire). It
// runs on shutdown too, so that a replica stopped mid-pass (a rolling
// deploy in a storm) does not leave correlation waiting for its lease.
func (s *Service) release(ctx context.Context, tm store.Timer) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.o.Store.ReleaseTimer(ctx, tm, s.o.Owner); err != nil {
		s.o.Log.Warn("release the reconcile timer", "err", err) // its lease ends it
	}
}

// parts runs a pass's parts from the first-th on, each in a transaction of
// its own. held says the pass holds its next run (see fire): each part
// renews the hold, in its own transaction.
func (s *Service) parts(ctx context.Context, ahead *lookahead, first int, held bool) error {
	for part := first; part < ahead.partCount(); part++ {
		wrote := false
		err := s.o.Store.InTx(ctx, func(tx *store.Tx) error {
			now := s.o.Store.Now()
			if held {
				if err := tx.RenewTimer(timerReconcile, "page", s.o.Owner, now.Add(holdLease)); err != nil {
					return err
				}
			}
			var err error
			wrote, err = s.reconcile(tx, now, ahead, part)
			return err
		})
		if err != nil {
			return err
		}
		if wrote && s.o.EventWritten != nil {
			s.o.EventWritten()
		}
	}
	return nil
}
