package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/heraldstatus/herald/gateway"
)

// outcomeQueries are the statements of queries/deliveries.sql that record
// what happened to claimed deliveries (embedded in deliveryQueries).
type outcomeQueries struct {
	CompleteDeliveries string `query:"complete-deliveries"`
	CompleteAndLog     string `query:"complete-and-log-deliveries"`
	InsertAttempts     string `query:"insert-attempts"`
	ResetFailures      string `query:"reset-permanent-failures"`
	CountFailure       string `query:"count-permanent-failure"`
	DisableSubscriber  string `query:"disable-subscriber"`
	SuppressSubscriber string `query:"suppress-subscriber"`
}

// SubscriberChange is what one outcome does to its subscriber, as the
// subscriber-failure policy decided it (gateway/notify: FailurePolicy).
// The store decides nothing: it carries the change out in the outcome's
// transaction, where the count of failures in a row is kept exact however
// many workers record outcomes of one subscriber at once.
type SubscriberChange struct {
	// ClearFailures ends the subscriber's permanent failures in a row.
	ClearFailures bool
	// CountFailure adds one to them.
	CountFailure bool
	// Disable, when set, is asked with the count after this failure (0
	// when none is counted) and says whether to disable the subscriber
	// now, with the reason an email address is suppressed for and the
	// detail kept on the subscriber and the suppression.
	Disable func(failures int) (reason, detail string, ok bool)
}

// changes reports whether the change touches the subscriber at all.
func (c SubscriberChange) changes() bool {
	return c.ClearFailures || c.CountFailure || c.Disable != nil
}

// Completion is the outcome of one claimed delivery.
type Completion struct {
	DeliveryID int64
	// Owner is the lease owner the delivery was claimed with.
	Owner        string
	SubscriberID string
	// Status is the delivery's next status: sent, retrying (at
	// NextAttemptAt), dead, suppressed or cancelled.
	Status        gateway.DeliveryStatus
	NextAttemptAt time.Time
	// Attempt is the try that was made, nil when none was (a suppressed or
	// cancelled delivery); Note then says why.
	Attempt *gateway.Attempt
	Note    string
	// Subscriber is what the outcome does to the subscriber.
	Subscriber SubscriberChange
	// Uncounted gives the attempt back: it was made but says nothing about
	// the delivery (the channel itself was down), so the delivery returns
	// to Status (queued or retrying) with its attempt count as before the
	// claim. The attempt is still logged.
	Uncounted bool
}

// CompleteDelivery records one outcome; see CompleteDeliveries. When the
// lease is no longer c.Owner's it records nothing and returns ECONFLICT.
func (s *Store) CompleteDelivery(ctx context.Context, c Completion) error {
	lost, err := s.CompleteDeliveries(ctx, []Completion{c})
	if err != nil {
		return err
	}
	if len(lost) > 0 {
		return gateway.Errorf(gateway.ECONFLICT, "Delivery %d is no longer leased to %s; its outcome was not recorded.", c.DeliveryID, c.Owner)
	}
	return nil
}

// The rows of complete-deliveries and insert-attempts, passed as one JSON
// array each: a group costs a few statements whatever its size.
type outcomeRow struct {
	ID            int64                  `json:"id"`
	Owner         string                 `json:"owner"`
	Status        gateway.DeliveryStatus `json:"status"`
	NextAttemptAt string                 `json:"next_attempt_at"`
	Code          int                    `json:"code"`
	Error         string                 `json:"error"`
	SentAt        *string                `json:"sent_at"`
	UpdatedAt     string                 `json:"updated_at"`
	Uncount       int                    `json:"uncount"`
	// The attempt that sent it, kept on the row (see attemptRow).
	DurationMs int64  `json:"duration_ms"`
	Response   string `json:"response"`
}

// Caps on what an attempt keeps: enough to diagnose, not a copy of every
// receiver's error page.
const (
	maxResponse = 2048
	maxError    = 1000
)

type attemptJSON struct {
	DeliveryID  int64                  `json:"delivery_id"`
	AttemptedAt string                 `json:"attempted_at"`
	DurationMs  int64                  `json:"duration_ms"`
	Outcome     gateway.AttemptOutcome `json:"outcome"`
	Code        int                    `json:"code"`
	Error       string                 `json:"error"`
	Response    string                 `json:"response"`
}

// jsonTime writes a time into JSON the way the dialect stores it: SQLite
// compares times as text, so it must be the driver's own layout.
func (s *Store) jsonTime(t time.Time) string {
	t = storedTime(t)
	if s.dialect == SQLite {
		return t.Format("2006-01-02 15:04:05.999999999-07:00")
	}
	return t.Format(time.RFC3339Nano)
}

// CompleteDeliveries records outcomes in one transaction: per delivery the
// new status and its attempt (error and response capped: a failed attempt
// as a row of delivery_attempts, the one that sent it on the delivery
// row), and its SubscriberChange (a count cleared or added to, the
// subscriber disabled and suppressed). A delivery whose lease its owner no
// longer holds (it expired and another worker claimed the row) is left
// alone, attempt and all, and its id is returned in lost. Writing a group set-wise is what
// lets the dispatcher record thousands of outcomes a second.
func (s *Store) CompleteDeliveries(ctx context.Context, cs []Completion) (lost []int64, err error) {
	if len(cs) == 0 {
		return nil, nil
	}
	now := s.now()
	rows := make([]outcomeRow, len(cs))
	for i, c := range cs {
		r := outcomeRow{ID: c.DeliveryID, Owner: c.Owner, Status: c.Status, NextAttemptAt: s.jsonTime(now),
			Error: c.Note, UpdatedAt: s.jsonTime(now)}
		if (c.Status == gateway.DeliveryRetrying || c.Status == gateway.DeliveryQueued) && !c.NextAttemptAt.IsZero() {
			r.NextAttemptAt = s.jsonTime(c.NextAttemptAt)
		}
		if a := c.Attempt; a != nil {
			r.Code, r.Error = a.Code, a.Error
		}
		r.Error = truncate(r.Error, maxError)
		if c.Uncounted {
			r.Uncount = 1
		}
		if c.Status == gateway.DeliverySent {
			at := now
			if a := c.Attempt; a != nil && !a.AttemptedAt.IsZero() {
				at = a.AttemptedAt.Add(a.Duration)
			}
			sent := s.jsonTime(at)
			r.SentAt = &sent
			if a := c.Attempt; a != nil {
				r.DurationMs, r.Response = a.Duration.Milliseconds(), truncate(a.Response, maxResponse)
			}
		}
		rows[i] = r
	}
	payload, err := json.Marshal(rows)
	if err != nil {
		return nil, fmt.Errorf("store: outcomes: %w", err)
	}
	if s.dialect == Postgres && !changesSubscribers(cs) {
		return s.completeAndLog(ctx, cs, string(payload), now)
	}
	// Prepared outside the transaction, which holds SQLite's one writer.
	s.prepared(ctx, true, s.q.CompleteDeliveries, true)
	s.prepared(ctx, true, s.q.InsertAttempts, true)
	err = s.tx(ctx, func(tx *sqlx.Tx) error {
		var ours []int64
		if err := s.stmtOn(ctx, tx, s.q.CompleteDeliveries).selectInto(ctx, &ours, string(payload)); err != nil {
			return wrap("complete deliveries", err)
		}
		mine := idSet(ours)
		lost = lost[:0]
		var attempts []attemptJSON
		var cleared []string
		var failed []Completion
		for _, c := range cs {
			if !mine[c.DeliveryID] {
				lost = append(lost, c.DeliveryID)
				continue
			}
			if a, ok := s.attemptRow(c, now); ok {
				attempts = append(attempts, a)
			}
			if c.Subscriber.ClearFailures {
				cleared = append(cleared, c.SubscriberID)
			}
			if c.Subscriber.CountFailure || c.Subscriber.Disable != nil {
				failed = append(failed, c)
			}
		}
		if err := s.execJSON(ctx, tx, s.q.InsertAttempts, attempts); err != nil {
			return wrap("insert attempts", err)
		}
		if err := s.execJSON(ctx, tx, s.q.ResetFailures, cleared); err != nil {
			return wrap("reset permanent failures", err)
		}
		for _, c := range failed {
			if err := s.subscriberFailure(ctx, tx, c, now); err != nil {
				return err
			}
		}
		return nil
	})
	return lost, err
}

// changesSubscribers reports whether recording cs touches subscribers too
// (a failure to count, a count to clear, a subscriber to disable): those
// groups need a transaction of several statements.
func changesSubscribers(cs []Completion) bool {
	for _, c := range cs {
		if c.Subscriber.changes() {
			return true
		}
	}
	return false
}

// completeAndLog records a group that changes no subscriber in one
// statement on PostgreSQL: one round trip, committed on its own, which
// keeps short the moment between a receiver's acceptance and the commit
// (what a crash would send again).
func (s *Store) completeAndLog(ctx context.Context, cs []Completion, payload string, now time.Time) ([]int64, error) {
	attempts := make([]attemptJSON, 0, len(cs))
	for _, c := range cs {
		if a, ok := s.attemptRow(c, now); ok {
			attempts = append(attempts, a)
		}
	}
	ab, err := json.Marshal(attempts)
	if err != nil {
		return nil, fmt.Errorf("store: attempts: %w", err)
	}
	var ours []int64
	if err := s.wdb.SelectContext(ctx, &ours, s.q.CompleteAndLog, payload, string(ab)); err != nil {
		return nil, wrap("complete deliveries", err)
	}
	mine := idSet(ours)
	var lost []int64
	for _, c := range cs {
		if !mine[c.DeliveryID] {
			lost = append(lost, c.DeliveryID)
		}
	}
	return lost, nil
}

func idSet(ids []int64) map[int64]bool {
	m := make(map[int64]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// attemptRow is c's attempt as insert-attempts takes it; ok is false when
// no attempt was made, or when it sent the delivery.
func (s *Store) attemptRow(c Completion, now time.Time) (attemptJSON, bool) {
	a := c.Attempt
	if a == nil || c.Status == gateway.DeliverySent {
		// The attempt that sent it lives on the delivery row (sent_at,
		// last_code, sent_duration_ms, sent_response): one write per
		// message less, and Deliveries lists it with the others.
		return attemptJSON{}, false
	}
	at := a.AttemptedAt
	if at.IsZero() {
		at = now
	}
	return attemptJSON{DeliveryID: c.DeliveryID, AttemptedAt: s.jsonTime(at),
		DurationMs: a.Duration.Milliseconds(), Outcome: a.Outcome, Code: a.Code,
		Error: truncate(a.Error, maxError), Response: truncate(a.Response, maxResponse)}, true
}

// execJSON runs a statement over a JSON array of rows, unless there are none.
func (s *Store) execJSON(ctx context.Context, tx *sqlx.Tx, query string, rows any) error {
	b, err := json.Marshal(rows)
	if err != nil || string(b) == "null" || string(b) == "[]" {
		return err
	}
	_, err = s.stmtOn(ctx, tx, query).exec(ctx, string(b))
	return err
}

// subscriberFailure carries out what the policy decided a failed delivery
// does to its subscriber: the failure counted, then the subscriber
// disabled if Disable says so for the new count.
func (s *Store) subscriberFailure(ctx context.Context, tx *sqlx.Tx, c Completion, now time.Time) error {
	var n int
	if c.Subscriber.CountFailure {
		if err := tx.GetContext(ctx, &n, s.q.CountFailure, now, c.SubscriberID); err != nil {
			return wrap("count permanent failure", err)
		}
	}
	if c.Subscriber.Disable == nil {
		return nil
	}
	if reason, detail, ok := c.Subscriber.Disable(n); ok {
		return s.disable(ctx, tx, c.SubscriberID, reason, detail, now)
	}
	return nil
}

// disable stops sending to a subscriber, saying why, and puts an email
// address on the suppression list so no later subscription reaches it
// either.
func (s *Store) disable(ctx context.Context, tx *sqlx.Tx, id, reason, detail string, now time.Time) error {
	detail = truncate(detail, 500)
	if _, err := tx.ExecContext(ctx, s.q.DisableSubscriber, detail, now, id); err != nil {
		return wrap("disable subscriber", err)
	}
	_, err := tx.ExecContext(ctx, s.q.SuppressSubscriber, reason, detail, now, id)
	return wrap("suppress subscriber", err)
}

// truncate cuts s to at most n bytes on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
