package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldstatus/herald/gateway"
)

// deliveryQueries are the statements of queries/deliveries.sql: the queue.
type deliveryQueries struct {
	outcomeQueries
	ClaimDeliveries     string `query:"claim-deliveries"`
	ExtendLeases        string `query:"extend-leases"`
	ReleaseDeliveries   string `query:"release-deliveries"`
	BatchRecipients     string `query:"batch-recipients"`
	BatchEvents         string `query:"batch-events"`
	BatchEventComps     string `query:"batch-event-components"`
	ListDeliveries      string `query:"list-deliveries"`
	ListAttempts        string `query:"list-delivery-attempts"`
	DeliveryStatus      string `query:"delivery-status"`
	RetryDelivery       string `query:"retry-delivery"`
	RetryDead           string `query:"retry-dead"`
	CancelEventDelivers string `query:"cancel-event-deliveries"`
	EventDeliveryCounts string `query:"event-delivery-counts"`
	QueueDepth          string `query:"queue-depth"`
	OldestDue           string `query:"oldest-due-delivery"`
}

// ClaimDeliveries leases up to n deliveries of one channel to owner until
// now+lease and returns them, marked sending with their attempt counted:
// first rows whose lease expired (their sender died), then due rows
// (queued or retrying, next_attempt_at <= now) in due order. Two claimers,
// in one process or many, never get the same row: PostgreSQL skips rows
// another transaction has locked, SQLite has a single writer. The returned
// deliveries carry ids, event, subscriber, channel and attempts.
//
// owner names this batch (the dispatcher uses "<process id>:<channel>:<n>"):
// completions must present it, and a heartbeat extends the leases of every
// batch of a process by the common prefix (ExtendLeases).
func (s *Store) ClaimDeliveries(ctx context.Context, owner string, ch gateway.Channel, n int, lease time.Duration, now time.Time) ([]gateway.Delivery, error) {
	return s.claim(ctx, owner, ch, n, n, lease, now)
}

// ClaimDue is ClaimDeliveries without the search for expired leases: due
// rows only. On PostgreSQL that search reads the partial index of sending
// rows, which keeps an entry for every row claimed since the last vacuum,
// and the entries of rows sent long ago have their old lease_until, so
// each search steps over all of them: during a million-message fan-out the
// claims slowed from thousands of rows a second to hundreds. Leases expire
// only when a process stops, so the dispatcher looks for them now and then
// (ClaimDeliveries) and otherwise claims due rows (ClaimDue).
func (s *Store) ClaimDue(ctx context.Context, owner string, ch gateway.Channel, n int, lease time.Duration, now time.Time) ([]gateway.Delivery, error) {
	return s.claim(ctx, owner, ch, n, 0, lease, now)
}

// claim takes up to expired rows whose lease expired, then due rows, n in
// all. A LIMIT of 0 never reads its index.
func (s *Store) claim(ctx context.Context, owner string, ch gateway.Channel, n, expired int, lease time.Duration, now time.Time) ([]gateway.Delivery, error) {
	now = storedTime(now)
	var out []gateway.Delivery
	err := s.selectWriter(ctx, &out, s.q.ClaimDeliveries, now.Add(lease), owner, now,
		now, ch, expired, ch, now, n, n)
	if err != nil {
		return nil, wrap("claim deliveries", err)
	}
	until := now.Add(lease)
	for i := range out {
		out[i].Status, out[i].LeaseUntil = gateway.DeliverySending, until
	}
	return out, nil
}

// ExtendLeases moves the lease of every delivery still sending under an
// owner starting with ownerPrefix to until: a live dispatcher keeps its
// slow sends, a dead one's leases run out. It returns how many it extended.
func (s *Store) ExtendLeases(ctx context.Context, ownerPrefix string, until time.Time) (int, error) {
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(ownerPrefix)
	return execCount(ctx, s.wdb, "extend leases", s.q.ExtendLeases, storedTime(until), esc+"%")
}

// ReleaseDeliveries gives back the deliveries of a batch that were claimed
// but not sent (their attempt uncounted), so another worker takes them at
// once rather than after the lease.
func (s *Store) ReleaseDeliveries(ctx context.Context, owner string) (int, error) {
	return execCount(ctx, s.wdb, "release deliveries", s.q.ReleaseDeliveries, s.now(), owner)
}

// Recipient is a subscriber as the dispatcher needs it to send.
type Recipient struct {
	gateway.Subscriber
	// Suppressed is true when the (email) address is on the suppression
	// list now, whatever it was at planning.
	Suppressed bool
}

type recipientRow struct {
	gateway.Subscriber
	ConfirmedAt    sql.NullTime
	UnsubscribedAt sql.NullTime
	Suppressed     int
}

// Batch loads what sending claimed deliveries needs: their events (by id,
// with their components) and their recipients (by subscriber id), in one
// query each whatever the batch size. Webhook secrets are returned opened
// (plain), by the SecretBox installed with SetSecretBox.
func (s *Store) Batch(ctx context.Context, ds []gateway.Delivery) (map[string]*gateway.Event, map[string]*Recipient, error) {
	eventIDs, subIDs := map[string]bool{}, map[string]bool{}
	for _, d := range ds {
		eventIDs[d.EventID], subIDs[d.SubscriberID] = true, true
	}
	evIDs, err := jsonKeys(eventIDs)
	if err != nil {
		return nil, nil, err
	}
	sIDs, err := jsonKeys(subIDs)
	if err != nil {
		return nil, nil, err
	}
	var evs []eventRow
	if err := s.selectReader(ctx, &evs, s.q.BatchEvents, evIDs); err != nil {
		return nil, nil, wrap("batch events", err)
	}
	events := make(map[string]*gateway.Event, len(evs))
	for _, r := range evs {
		e, err := r.event()
		if err != nil {
			return nil, nil, err
		}
		events[e.ID] = e
	}
	var comps []struct{ EventID, ComponentID string }
	if err := s.selectReader(ctx, &comps, s.q.BatchEventComps, evIDs); err != nil {
		return nil, nil, wrap("batch event components", err)
	}
	for _, c := range comps {
		if e := events[c.EventID]; e != nil {
			e.ComponentIDs = append(e.ComponentIDs, c.ComponentID)
		}
	}
	var subs []recipientRow
	if err := s.selectReader(ctx, &subs, s.q.BatchRecipients, sIDs); err != nil {
		return nil, nil, wrap("batch recipients", err)
	}
	recipients := make(map[string]*Recipient, len(subs))
	for _, r := range subs {
		rec := &Recipient{Subscriber: r.Subscriber, Suppressed: r.Suppressed != 0}
		rec.ConfirmedAt, rec.UnsubscribedAt = r.ConfirmedAt.Time, r.UnsubscribedAt.Time
		rec.Secret = s.openSecret(rec.ID, rec.Secret)
		recipients[rec.ID] = rec
	}
	return events, recipients, nil
}

// selectWriter and selectReader run the queue's hot queries (thousands a
// second in a fan-out) as statements prepared once on SQLite, whose driver
// would otherwise parse each anew; elsewhere they run the text.
func (s *Store) selectWriter(ctx context.Context, dest any, text string, args ...any) error {
	if st := s.prepared(ctx, true, text, true); st != nil {
		return st.SelectContext(ctx, dest, args...)
	}
	return sqlx.SelectContext(ctx, s.wdb, dest, text, args...)
}

func (s *Store) selectReader(ctx context.Context, dest any, text string, args ...any) error {
	if st := s.prepared(ctx, false, text, true); st != nil {
		return st.SelectContext(ctx, dest, args...)
	}
	return s.db.SelectContext(ctx, dest, text, args...)
}

// DeliveryFilter selects deliveries for the operations list; empty fields
// match everything. After is the id of the last delivery of the previous
// page (0 for the first).
type DeliveryFilter struct {
	EventID      string
	SubscriberID string
	Status       gateway.DeliveryStatus
	After        int64
	Limit        int
}

// DeliveryLog is a delivery with every attempt made, oldest first.
type DeliveryLog struct {
	gateway.Delivery
	Log []gateway.Attempt
}

type deliveryRow struct {
	gateway.Delivery
	LeaseUntil     sql.NullTime
	SentAt         sql.NullTime
	SentDurationMs int64
	SentResponse   string
}

// sentAttempt is the attempt that sent r, kept on the row rather than in
// delivery_attempts (migration 00007); ok is false for a delivery not
// sent.
func (r deliveryRow) sentAttempt() (gateway.Attempt, bool) {
	if r.Status != gateway.DeliverySent || !r.SentAt.Valid {
		return gateway.Attempt{}, false
	}
	took := time.Duration(r.SentDurationMs) * time.Millisecond
	return gateway.Attempt{DeliveryID: r.ID, AttemptedAt: r.SentAt.Time.Add(-took), Duration: took,
		Outcome: gateway.AttemptSent, Code: r.LastCode, Response: r.SentResponse}, true
}

type attemptRow struct {
	gateway.Attempt
	DurationMs int64
}

// Deliveries lists deliveries in id order with their attempts: two
// queries per page, whatever its size.
func (s *Store) Deliveries(ctx context.Context, f DeliveryFilter) ([]DeliveryLog, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	args := []any{f.EventID, f.EventID, f.SubscriberID, f.SubscriberID, f.Status, f.Status, f.After, f.Limit}
	var rows []deliveryRow
	if err := s.db.SelectContext(ctx, &rows, s.q.ListDeliveries, args...); err != nil {
		return nil, wrap("list deliveries", err)
	}
	var attempts []attemptRow
	if len(rows) > 0 {
		if err := s.db.SelectContext(ctx, &attempts, s.q.ListAttempts, args...); err != nil {
			return nil, wrap("list delivery attempts", err)
		}
	}
	byID := make(map[int64]*DeliveryLog, len(rows))
	out := make([]DeliveryLog, len(rows))
	for i, r := range rows {
		out[i].Delivery = r.Delivery
		out[i].LeaseUntil, out[i].SentAt = r.LeaseUntil.Time, r.SentAt.Time
		out[i].Log = []gateway.Attempt{}
		byID[r.ID] = &out[i]
	}
	for _, a := range attempts {
		if d := byID[a.DeliveryID]; d != nil {
			a.Duration = time.Duration(a.DurationMs) * time.Millisecond
			d.Log = append(d.Log, a.Attempt)
		}
	}
	for i, r := range rows {
		// Deliveries sent before migration 00007 have their sent attempt
		// logged as a row already.
		if a, ok := r.sentAttempt(); ok && !slices.ContainsFunc(out[i].Log, isSent) {
			out[i].Log = append(out[i].Log, a)
		}
	}
	return out, nil
}

func isSent(a gateway.Attempt) bool { return a.Outcome == gateway.AttemptSent }

// RetryDelivery queues a dead delivery again, due now, with a fresh retry
// schedule. ENOTFOUND when it does not exist, ECONFLICT when it is not dead.
func (s *Store) RetryDelivery(ctx context.Context, id int64) error {
	now := s.now()
	res, err := s.wdb.ExecContext(ctx, s.q.RetryDelivery, now, now, id)
	if err != nil {
		return wrap("retry delivery", err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return wrap("retry delivery", err)
	}
	var status string
	if err := s.db.GetContext(ctx, &status, s.q.DeliveryStatus, id); err != nil {
		if gateway.ErrorCode(mapError(err)) == gateway.ENOTFOUND {
			return notFound("Delivery", fmt.Sprint(id))
		}
		return wrap("delivery status", err)
	}
	return gateway.Errorf(gateway.ECONFLICT, "Delivery %d is %s; only dead deliveries can be retried.", id, status)
}

// RetryDead queues again every delivery that went dead at or after since
// and returns how many.
func (s *Store) RetryDead(ctx context.Context, since time.Time) (int, error) {
	now := s.now()
	return execCount(ctx, s.wdb, "retry dead deliveries", s.q.RetryDead, now, now, storedTime(since))
}

// CancelEvent cancels an event's deliveries that have not gone out (queued
// or retrying; one being sent finishes) and, if the event is not planned
// yet, marks it planned so it never will be. It returns how many it
// cancelled; ENOTFOUND when the event does not exist.
func (s *Store) CancelEvent(ctx context.Context, eventID string) (int, error) {
	var cancelled int
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		var exists int
		if err := tx.GetContext(ctx, &exists, s.q.EventExists, eventID); err != nil {
			return wrap("event exists", err)
		}
		if exists == 0 {
			return notFound("Event", eventID)
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, s.q.MarkEventPlanned, now, eventID); err != nil {
			return wrap("mark event planned", err)
		}
		var err error
		cancelled, err = execCount(ctx, tx, "cancel deliveries", s.q.CancelEventDelivers, now, eventID)
		return err
	})
	return cancelled, err
}

// statusCounts is one row of counts by delivery status.
type statusCounts struct {
	Queued, Sending, Sent, Retrying, Dead, Suppressed, Cancelled int
}

// live returns the counts of the statuses of deliveries not finished yet,
// zeros included (what queue-depth counts).
func (c statusCounts) live() map[gateway.DeliveryStatus]int {
	return map[gateway.DeliveryStatus]int{
		gateway.DeliveryQueued: c.Queued, gateway.DeliverySending: c.Sending, gateway.DeliveryRetrying: c.Retrying,
	}
}

// present returns the counts of every status that has deliveries.
func (c statusCounts) present() map[gateway.DeliveryStatus]int {
	m := c.live()
	m[gateway.DeliverySent], m[gateway.DeliveryDead] = c.Sent, c.Dead
	m[gateway.DeliverySuppressed], m[gateway.DeliveryCancelled] = c.Suppressed, c.Cancelled
	maps.DeleteFunc(m, func(_ gateway.DeliveryStatus, n int) bool { return n == 0 })
	return m
}

// DeliveryCounts returns how many of an event's deliveries are in each
// status: the progress of a fan-out.
func (s *Store) DeliveryCounts(ctx context.Context, eventID string) (map[gateway.DeliveryStatus]int, error) {
	var c statusCounts
	if err := s.db.GetContext(ctx, &c, s.q.EventDeliveryCounts, eventID); err != nil {
		return nil, wrap("event delivery counts", err)
	}
	return c.present(), nil
}

// QueueStats is the state of the queue, for metrics.
type QueueStats struct {
	// Depth counts the live statuses: queued, retrying, sending.
	Depth map[gateway.DeliveryStatus]int
	// OldestDue is when the longest-waiting due delivery of the channels
	// asked about became due; zero when none is waiting.
	OldestDue time.Time
}

// QueueStats reads the queue's depth, and its lag over chans (the
// channels the caller sends on: one query each, since each reads the
// partial index deliveries_due_channel at its channel); both use the
// partial indexes on live rows, so it stays cheap however many deliveries
// are done.
func (s *Store) QueueStats(ctx context.Context, now time.Time, chans []gateway.Channel) (QueueStats, error) {
	var c statusCounts
	if err := s.db.GetContext(ctx, &c, s.q.QueueDepth); err != nil {
		return QueueStats{}, wrap("queue depth", err)
	}
	// Every live status, zeros included: a gauge that reads 0, not one
	// that vanishes.
	st := QueueStats{Depth: c.live()}
	for _, ch := range chans {
		var oldest []time.Time
		if err := s.db.SelectContext(ctx, &oldest, s.q.OldestDue, ch, storedTime(now)); err != nil {
			return QueueStats{}, wrap("oldest due delivery", err)
		}
		if len(oldest) > 0 && (st.OldestDue.IsZero() || oldest[0].Before(st.OldestDue)) {
			st.OldestDue = oldest[0]
		}
	}
	return st, nil
}

// jsonKeys returns a set's keys as a JSON array: the portable way to pass
// a list to one prepared statement (json_each on SQLite, jsonb on
// PostgreSQL).
func jsonKeys(set map[string]bool) (string, error) {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	b, err := json.Marshal(keys)
	if err != nil {
		return "", fmt.Errorf("store: ids: %w", err)
	}
	return string(b), nil
}

// execCount runs a statement and returns how many rows it changed.
func execCount(ctx context.Context, db execer, op, query string, args ...any) (int, error) {
	res, err := db.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, wrap(op, err)
	}
	n, err := res.RowsAffected()
	return int(n), wrap(op, err)
}
