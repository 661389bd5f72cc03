package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/jmoiron/sqlx"
	"modernc.org/sqlite"

	"github.com/heraldstatus/herald/gateway"
)

// eventQueries are the statements of queries/events.sql: events and the
// planner.
type eventQueries struct {
	InsertEvent          string `query:"insert-event"`
	InsertEventComponent string `query:"insert-event-component"`
	GetEvent             string `query:"get-event"`
	EventByKey           string `query:"event-by-idempotency-key"`
	EventComponentIDs    string `query:"event-component-ids"`
	UnplannedEvents      string `query:"unplanned-events"`
	MarkEventPlanned     string `query:"mark-event-planned"`
	EventExists          string `query:"event-exists"`
	PlanEvent            string `query:"plan-event"`
	LockUnplannedEvent   string `query:"lock-unplanned-event"`
	EventPlanState       string `query:"event-plan-state"`
	PlanPartEnd          string `query:"plan-part-end"`
	PlanEventPart        string `query:"plan-event-part"`
	PlanPartsLast        string `query:"plan-parts-last"`
	CountEventRecipients string `query:"count-event-recipients"`
	CountEventDeliveries string `query:"count-event-deliveries"`
}

// registerSQLiteFunctions gives SQLite the functions Herald's SQL uses.
// The planner matches email subscribers against the suppression list in
// SQL, by hash (suppressions keep no address). PostgreSQL gets
// herald_sha256 from migration 00002; SQLite has no SHA-256, so Herald
// registers one with the driver. Functions attach to connections as they
// open, so Open calls this (once per process) before opening any.
var registerSQLiteFunctions = sync.OnceFunc(func() {
	sqlite.MustRegisterDeterministicScalarFunction("herald_sha256", 1,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			var b []byte
			switch v := args[0].(type) {
			case nil:
				return nil, nil
			case string:
				b = []byte(v)
			case []byte:
				b = v
			default:
				return nil, fmt.Errorf("herald_sha256: want text, got %T", v)
			}
			sum := sha256.Sum256(b)
			return hex.EncodeToString(sum[:]), nil
		})
})

// eventRow scans an event: the payload is JSON text, planned_at may be NULL.
type eventRow struct {
	gateway.Event
	Payload   string
	PlannedAt sql.NullTime
}

func (r eventRow) event() (*gateway.Event, error) {
	e := r.Event
	e.PlannedAt = r.PlannedAt.Time
	if err := json.Unmarshal([]byte(r.Payload), &e.Payload); err != nil {
		return nil, fmt.Errorf("store: event %s payload: %w", e.ID, err)
	}
	return &e, nil
}

// CreateEvent writes e with its affected components, filling its id (when
// empty) and creation time. Its deliveries are planned later, by PlanEvent
// or the dispatcher's outbox loop (events with planned_at NULL), so that a
// crash between the two loses nothing. A repeated idempotency key is
// ECONFLICT; an unknown component is EUNPROCESSABLE naming "components".
func (s *Store) CreateEvent(ctx context.Context, e *gateway.Event) error {
	return s.tx(ctx, func(tx *sqlx.Tx) error { return s.insertEvent(ctx, tx, e) })
}

// insertEvent is CreateEvent inside the caller's transaction: the services
// that change incidents, components or subscribers write their event in
// the same transaction as the change it announces.
func (s *Store) insertEvent(ctx context.Context, tx *sqlx.Tx, e *gateway.Event) error {
	if e.ID == "" {
		e.ID = gateway.NewID()
	}
	e.CreatedAt = s.now()
	if e.Actor == "" {
		e.Actor = gateway.Automation.Name
	}
	payload, err := json.Marshal(e.Payload)
	if err != nil {
		return fmt.Errorf("store: event payload: %w", err)
	}
	res, err := tx.ExecContext(ctx, s.q.InsertEvent, e.ID, e.Type, e.IncidentID, e.IncidentUpdateID, e.ComponentID,
		e.SubscriberID, e.AllSubscribers, e.Notify, string(payload), e.IdempotencyKey, e.Actor, e.CreatedAt)
	if err != nil {
		return wrap("insert event", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap("insert event", err)
	} else if n == 0 {
		return &gateway.Error{Code: gateway.ECONFLICT, Message: "An event with this idempotency key exists already.",
			Fields: map[string]string{"idempotency_key": "was used before"}}
	}
	seen := make(map[string]bool, len(e.ComponentIDs))
	for _, id := range e.ComponentIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		if _, err := tx.ExecContext(ctx, s.q.InsertEventComponent, e.ID, id); err != nil {
			if gateway.ErrorCode(mapError(err)) == gateway.EUNPROCESSABLE {
				return gateway.FieldError("components", fmt.Sprintf("no component %q", id))
			}
			return wrap("insert event component", err)
		}
	}
	return nil
}

// CreateEventOnce writes e unless an event with its idempotency key exists;
// then it returns that first event and created=false, and writes nothing.
// Concurrent calls with one key create one event between them.
func (s *Store) CreateEventOnce(ctx context.Context, e *gateway.Event) (*gateway.Event, bool, error) {
	err := s.CreateEvent(ctx, e)
	if err == nil {
		return e, true, nil
	}
	if e.IdempotencyKey == "" || gateway.ErrorCode(err) != gateway.ECONFLICT {
		return nil, false, err
	}
	var id string
	if err := s.db.GetContext(ctx, &id, s.q.EventByKey, e.IdempotencyKey); err != nil {
		return nil, false, wrap("event by idempotency key", err)
	}
	first, err := s.Event(ctx, id)
	return first, false, err
}

// Event returns an event with its component ids; ENOTFOUND when none.
func (s *Store) Event(ctx context.Context, id string) (*gateway.Event, error) {
	var r eventRow
	if err := s.db.GetContext(ctx, &r, s.q.GetEvent, id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("Event", id)
		}
		return nil, wrap("get event", err)
	}
	e, err := r.event()
	if err != nil {
		return nil, err
	}
	if err := s.db.SelectContext(ctx, &e.ComponentIDs, s.q.EventComponentIDs, id); err != nil {
		return nil, wrap("event components", err)
	}
	return e, nil
}

// planPart is how many subscribers, at most, one part of planning
// selects. Planning an event to everyone in one INSERT … SELECT held the
// whole statement's work at once (on SQLite, partly in memory: its
// temporary storage is kept there), so a broadcast's peak memory grew with
// the subscriber count; parts of this size bound it. Tests make it small
// (SetPlanPart, in export_test.go) to plan in several parts.
const planPart = 10000

// PlanEvent inserts the event's deliveries, one per (subscriber, channel),
// and marks the event planned. An event is planned once: planning it again
// (a retried request, two replicas racing on the outbox) inserts nothing
// and returns 0. An event with notify off is marked planned with no
// deliveries. ENOTFOUND when the event does not exist.
//
// An event to one subscriber is planned in one transaction. Any other is
// planned in parts of at most planPart subscribers, by ranges of subscriber
// id, each part its own transaction, and marked planned only after the
// last: a process stopped in between leaves the event unplanned, in the
// outbox, and planning it again inserts only what is missing (the unique
// (event, subscriber, channel) key), so nobody is missed and nobody gets
// two messages. Each part first takes the event's row while it is
// unplanned, so a cancellation waits for the part and then cancels what it
// planned, and no part runs after it.
func (s *Store) PlanEvent(ctx context.Context, eventID string) (int, error) {
	defer s.planningLock(eventID)()
	var st struct {
		Notify       bool
		SubscriberID string `db:"subscriber_id"`
		Planned      bool
	}
	if err := s.db.GetContext(ctx, &st, s.q.EventPlanState, eventID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return 0, notFound("Event", eventID)
		}
		return 0, wrap("event plan state", err)
	}
	if st.Planned {
		return 0, nil
	}
	if !st.Notify || st.SubscriberID != "" {
		return s.planWhole(ctx, eventID)
	}
	var last string
	if err := s.db.GetContext(ctx, &last, s.q.PlanPartsLast); err != nil {
		return 0, wrap("plan parts last", err)
	}
	planned, from := 0, ""
	for {
		to, err := s.planPartEnd(ctx, from, last)
		if err != nil {
			return planned, err
		}
		var n int
		locked := true
		err = s.tx(ctx, func(tx *sqlx.Tx) error {
			l, err := execCount(ctx, tx, "lock unplanned event", s.q.LockUnplannedEvent, eventID)
			if err != nil || l == 0 {
				locked = false
				return err
			}
			now := s.now()
			n, err = execCount(ctx, tx, "plan event part", s.q.PlanEventPart, eventID, from, to, now, now, now)
			return err
		})
		if err != nil {
			return planned, err
		}
		if !locked {
			return planned, nil // planned or cancelled meanwhile
		}
		planned += n
		if to == last {
			break
		}
		from = to
	}
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		_, err := execCount(ctx, tx, "mark event planned", s.q.MarkEventPlanned, s.now(), eventID)
		return err
	})
	return planned, err
}

// planningLock serializes the planning of one event within this process
// and returns its unlock. Planning in parts leaves an event unplanned for
// as long as its parts take, and the outbox loop would meanwhile plan it
// too, part for part, only to insert nothing: it waits instead, then finds
// the event planned. (Other processes may still plan it at the same time;
// each part's row lock and the unique key keep that to wasted work.)
func (s *Store) planningLock(eventID string) func() {
	v, _ := s.planning.LoadOrStore(eventID, new(sync.Mutex))
	mu := v.(*sync.Mutex)
	mu.Lock()
	return func() {
		// Deleted before unlocking: a waiter on this mutex still gets it; a
		// caller arriving after the delete makes another and reads the event
		// planned, or at worst plans parts that insert nothing.
		s.planning.CompareAndDelete(eventID, mu)
		mu.Unlock()
	}
}

// planPartEnd returns the last subscriber id of the part after from: last
// when the part runs to the end.
func (s *Store) planPartEnd(ctx context.Context, from, last string) (string, error) {
	size := s.planPart
	if size <= 0 {
		size = planPart
	}
	var to string
	err := s.db.GetContext(ctx, &to, s.q.PlanPartEnd, from, size-1)
	if errors.Is(err, sql.ErrNoRows) {
		return last, nil
	}
	return to, wrap("plan part end", err)
}

// planWhole plans an event in one INSERT … SELECT, in the transaction that
// marks it planned: for an event to one subscriber (a confirmation, a
// test), where parts would only cost queries.
func (s *Store) planWhole(ctx context.Context, eventID string) (int, error) {
	var planned int
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		now := s.now()
		n, err := execCount(ctx, tx, "mark event planned", s.q.MarkEventPlanned, now, eventID)
		if err != nil {
			return err
		}
		if n == 0 {
			var exists int
			if err := tx.GetContext(ctx, &exists, s.q.EventExists, eventID); err != nil {
				return wrap("event exists", err)
			}
			if exists == 0 {
				return notFound("Event", eventID)
			}
			return nil // planned before
		}
		planned, err = execCount(ctx, tx, "plan event", s.q.PlanEvent, eventID, now, now, now)
		return err
	})
	return planned, err
}

// PlanPending plans up to limit events that have none planned yet (the
// outbox: events written by other transactions), oldest first, and
// returns how many deliveries it inserted. An event that fails to plan is
// skipped and reported in the error; the others still get planned.
func (s *Store) PlanPending(ctx context.Context, limit int) (events, deliveries int, err error) {
	var ids []string
	if err := s.db.SelectContext(ctx, &ids, s.q.UnplannedEvents, limit); err != nil {
		return 0, 0, wrap("unplanned events", err)
	}
	var errs []error
	for _, id := range ids {
		n, err := s.PlanEvent(ctx, id)
		if err != nil {
			errs = append(errs, fmt.Errorf("event %s: %w", id, err))
			continue
		}
		events++
		deliveries += n
	}
	return events, deliveries, errors.Join(errs...)
}

// CountRecipients returns how many deliveries planning e would insert now,
// without writing anything: what a broadcast's dry run reports. It runs the
// planner's own selection over e, written in a transaction that is rolled
// back.
func (s *Store) CountRecipients(ctx context.Context, e gateway.Event) (int, error) {
	e.ID, e.IdempotencyKey = gateway.NewID(), ""
	tx, err := s.wdb.BeginTxx(ctx, nil)
	if err != nil {
		return 0, wrap("begin", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := s.insertEvent(ctx, tx, &e); err != nil {
		return 0, err
	}
	return s.countRecipients(ctx, tx, e.ID)
}

// CountRecipients returns how many deliveries planning the event written
// in this transaction would insert: a dry run that wrote the event through
// AddEvent counts it where it stands, before rolling back.
func (t *Tx) CountRecipients(eventID string) (int, error) {
	return t.s.countRecipients(t.ctx, t.tx, eventID)
}

func (s *Store) countRecipients(ctx context.Context, tx *sqlx.Tx, eventID string) (int, error) {
	var n int
	err := tx.GetContext(ctx, &n, s.q.CountEventRecipients, eventID)
	return n, wrap("count recipients", err)
}

// CountEventDeliveries returns how many deliveries an event has.
func (s *Store) CountEventDeliveries(ctx context.Context, eventID string) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, s.q.CountEventDeliveries, eventID)
	return n, wrap("count event deliveries", err)
}

// AddEvent writes an event in the transaction, so the change it announces
// and the announcement commit together; the dispatcher plans it.
func (t *Tx) AddEvent(e *gateway.Event) error {
	if err := t.s.insertEvent(t.ctx, t.tx, e); err != nil {
		return err
	}
	t.added = append(t.added, e)
	return nil
}
