package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jmoiron/sqlx"
	"modernc.org/sqlite"

	"github.com/heraldstatus/herald/gateway"
)

// alertQueries are the statements of queries/alerts.sql.
type alertQueries struct {
	LockAlerts         string `query:"lock-alerts"`
	AlertComponentsOf  string `query:"alert-components-of"`
	InsertAlerts       string `query:"insert-alerts"`
	UpdateAlerts       string `query:"update-alerts"`
	DeleteAlertComps   string `query:"delete-alert-components"`
	InsertAlertComps   string `query:"insert-alert-components"`
	TouchSourceLastAlt string `query:"touch-source-last-alert"`
	ListAlerts         string `query:"list-alerts"`
	GetAlert           string `query:"get-alert"`
	InsertNewAlerts    string `query:"insert-new-alerts"`

	// These are not queries but state of the store's life: SQLite's
	// prepared statements (see bulkOn); per source id, when this store
	// last set its last_alert_at (see touchSource) and how many requests
	// skip the one-statement path (see alerts_new.go); and how many
	// requests took that path.
	prepared   stmtCache
	touched    sync.Map
	newSkips   sync.Map
	newCommits atomic.Int64
}

// AlertRecord is an alert as stored: the domain alert plus the bookkeeping
// ingest keeps for it.
type AlertRecord struct {
	gateway.Alert
	SourceName string // filled by Alerts and Alert
	// StateChanges counts firing↔resolved transitions since
	// StateChangesSince (the first of them); the incidents stage reads them
	// to detect flapping.
	StateChanges      int
	StateChangesSince time.Time
	// Components are the components the alert's rule routes it to, with
	// the status it gives each; none for an alert no rule matched.
	Components []AlertComponent
}

// AlertComponent is one component an alert affects and the status it gives it.
type AlertComponent struct {
	ComponentID string
	Status      gateway.ComponentStatus
}

// MergeFunc decides, inside UpsertAlerts' transaction, what to write of a
// part of the request's fingerprints: given that part (sorted, no
// duplicates) and the stored records of its fingerprints (absent ones are
// new; their Raw is not read, and a record written with an empty Raw keeps
// it), it returns the records to write, new ones with ID 0, all of them of
// fingerprints of the part. UpsertAlerts calls it for each part in order,
// and again for every part when a transaction that lost a race is retried,
// so it must derive everything from its arguments and may modify what it
// is given.
type MergeFunc func(fingerprints []string, stored map[string]*AlertRecord) ([]*AlertRecord, error)

// upsertPart is how many fingerprints UpsertAlerts reads, merges and writes
// at a time, so that what a large request holds in memory besides its own
// alerts is one part's stored and merged records, not all of them (a
// request of 60,000 alerts, known ones, held about 2 KB more per alert
// when it read them all at once). 1024 is eight of the multi-row
// statements SQLite prepares (maxCachedBulk) and about two of
// PostgreSQL's (maxBulkRows); a group commit (up to 1,000 alerts) is one
// part.
const upsertPart = 1024

// maxUpsertAttempts bounds retries of a transaction that lost a race.
const maxUpsertAttempts = 5

// errRace says that another transaction inserted one of our new alerts
// first; the retry will find it stored.
var errRace = errors.New("store: concurrent insert of the same alert")

// UpsertAlerts writes one ingest request's alerts of one source in one
// transaction: it reads the stored records of fingerprints (locking them on
// PostgreSQL), lets merge decide, and writes the result with a few
// multi-row statements, then notes the source's last alert time. Either
// everything is committed or nothing is. On PostgreSQL a request of new
// alerts only is first tried in one statement (see alerts_new.go). A
// database that cannot be reached is EUNAVAILABLE.
func (s *Store) UpsertAlerts(ctx context.Context, sourceID string, fingerprints []string, at time.Time, merge MergeFunc) error {
	fps := slices.Clone(fingerprints)
	slices.Sort(fps)
	fps = slices.Compact(fps)
	at = storedTime(at)
	if s.dialect == SQLite {
		for n := 1; n <= min(len(fps), maxCachedBulk); n *= 2 { // the sizes writeChunks makes
			s.prepareWrites(ctx, n, s.q.LockAlerts, s.q.AlertComponentsOf, s.q.InsertAlerts, s.q.UpdateAlerts,
				s.q.DeleteAlertComps, s.q.InsertAlertComps)
		}
	}
	s.prepared(ctx, true, s.q.TouchSourceLastAlt, true)
	if s.dialect == Postgres && len(fps) <= upsertPart && s.q.tryNew(sourceID) {
		if done, err := s.upsertNew(ctx, sourceID, fps, at, merge); done || err != nil {
			return err
		}
	}
	var err error
	var touched bool
	for attempt := 1; attempt <= maxUpsertAttempts; attempt++ {
		err = s.tx(ctx, func(tx *sqlx.Tx) error {
			for part := range slices.Chunk(fps, upsertPart) {
				if err := s.upsertPart(ctx, tx, sourceID, part, merge); err != nil {
					return err
				}
			}
			var err error
			touched, err = s.touchSource(ctx, sourceID, at, func(ctx context.Context, q string, args ...any) (sql.Result, error) {
				return s.stmtOn(ctx, tx, q).exec(ctx, args...)
			})
			return err
		})
		if err == nil && touched {
			s.q.touched.Store(sourceID, at)
		}
		if !retryable(err) {
			break
		}
		s.log.Debug("retrying alert upsert", "err", err, "attempt", attempt)
	}
	if errors.Is(err, errRace) {
		return &gateway.Error{Code: gateway.EUNAVAILABLE, Message: "Too many concurrent updates of the same alerts; retry.",
			RetryAfter: time.Second, Err: err}
	}
	return ingestError("upsert alerts", err)
}

// upsertPart reads, merges and writes the alerts of part, sorted
// fingerprints, inside tx.
func (s *Store) upsertPart(ctx context.Context, tx *sqlx.Tx, sourceID string, part []string, merge MergeFunc) error {
	stored, err := s.lockAlerts(ctx, tx, sourceID, part)
	if err != nil {
		return err
	}
	before := make(map[string][]AlertComponent, len(stored))
	for fp, r := range stored {
		before[fp] = r.Components
	}
	writes, err := merge(part, stored)
	if err != nil {
		return err
	}
	return s.writeAlerts(ctx, tx, sourceID, before, writes)
}

// touchSource advances the source's last_alert_at to at, at most once a
// second. A statement that cannot change anything is not sent at all: this
// store remembers when it last wrote the time, which is all it takes to
// know, and saves a round trip on most requests. (Another replica's
// writes only make the time newer, which the statement would skip too.)
func (s *Store) touchSource(ctx context.Context, sourceID string, at time.Time,
	exec func(ctx context.Context, q string, args ...any) (sql.Result, error)) (bool, error) {
	if last, ok := s.q.touched.Load(sourceID); ok && at.Before(last.(time.Time).Add(time.Second)) {
		return false, nil
	}
	res, err := exec(ctx, s.q.TouchSourceLastAlt, at, sourceID, at.Add(-time.Second))
	if err != nil {
		return false, wrap("touch source", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("touch source", err)
}

// retryable reports a failure that a new transaction will not meet again:
// a lost insert race, or PostgreSQL's deadlock and serialization errors.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.Is(err, errRace) || errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// alertRow is an alerts row as scanned; JSON and NULL columns stay raw.
type alertRow struct {
	ID                int64
	SourceID          string
	SourceName        string
	Fingerprint       string
	Status            gateway.AlertStatus
	Severity          gateway.Severity
	Summary           string
	Labels            string
	Annotations       string
	GeneratorURL      string
	Raw               string
	StartsAt          time.Time
	EndsAt            optTime
	ReceivedAt        time.Time
	LastSeenAt        time.Time
	RuleID            string
	IncidentID        string
	Flapping          bool
	StateChanges      int
	StateChangesSince optTime
}

func (r *alertRow) record() (*AlertRecord, error) {
	rec := &AlertRecord{
		Alert: gateway.Alert{ID: r.ID, SourceID: r.SourceID, Fingerprint: r.Fingerprint, Status: r.Status,
			Severity: r.Severity, Summary: r.Summary, GeneratorURL: r.GeneratorURL,
			StartsAt: r.StartsAt.UTC(), EndsAt: r.EndsAt.Time, ReceivedAt: r.ReceivedAt.UTC(), LastSeenAt: r.LastSeenAt.UTC(),
			RuleID: r.RuleID, IncidentID: r.IncidentID, Flapping: r.Flapping},
		SourceName: r.SourceName, StateChanges: r.StateChanges, StateChangesSince: r.StateChangesSince.Time,
	}
	if r.Raw != "" {
		rec.Raw = json.RawMessage(r.Raw)
	}
	if err := json.Unmarshal([]byte(r.Labels), &rec.Labels); err != nil {
		return nil, fmt.Errorf("store: alert %d labels: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(r.Annotations), &rec.Annotations); err != nil {
		return nil, fmt.Errorf("store: alert %d annotations: %w", r.ID, err)
	}
	return rec, nil
}

// lockAlerts reads the stored records of fps (sorted), with their components.
func (s *Store) lockAlerts(ctx context.Context, tx *sqlx.Tx, sourceID string, fps []string) (map[string]*AlertRecord, error) {
	stored := make(map[string]*AlertRecord, len(fps))
	byID := map[int64]*AlertRecord{}
	for chunk := range writeChunks(s, fps, 1) {
		var rows []alertRow
		args := append(anySlice(chunk), sourceID)
		if err := s.bulkOn(ctx, tx, s.q.LockAlerts, len(chunk)).selectInto(ctx, &rows, args...); err != nil {
			return nil, wrap("lock alerts", err)
		}
		for i := range rows {
			rec, err := rows[i].record()
			if err != nil {
				return nil, err
			}
			rec.SourceID = sourceID
			stored[rec.Fingerprint], byID[rec.ID] = rec, rec
		}
	}
	ids := make([]any, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	for chunk := range writeChunks(s, ids, 1) {
		var links []alertLink
		if err := s.bulkOn(ctx, tx, s.q.AlertComponentsOf, len(chunk)).selectInto(ctx, &links, chunk...); err != nil {
			return nil, wrap("alert components", err)
		}
		addComponents(byID, links)
	}
	return stored, nil
}

// alertLink is an alert_components row.
type alertLink struct {
	AlertID     int64
	ComponentID string
	Status      gateway.ComponentStatus
}

func addComponents(byID map[int64]*AlertRecord, links []alertLink) {
	for _, l := range links {
		r := byID[l.AlertID]
		r.Components = append(r.Components, AlertComponent{ComponentID: l.ComponentID, Status: l.Status})
	}
}

// loadComponents fills the Components of the records in byID, outside
// any transaction (for lists).
func (s *Store) loadComponents(ctx context.Context, byID map[int64]*AlertRecord) error {
	ids := make([]any, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	for chunk := range slices.Chunk(ids, maxBulkRows) {
		var links []alertLink
		if err := s.db.SelectContext(ctx, &links, s.bulk(s.q.AlertComponentsOf, len(chunk)), chunk...); err != nil {
			return wrap("alert components", err)
		}
		addComponents(byID, links)
	}
	return nil
}

// writeAlerts inserts the new records and updates the known ones, each
// with multi-row statements in fingerprint order, then rewrites the
// components of those whose components changed. before holds the stored
// components by fingerprint.
func (s *Store) writeAlerts(ctx context.Context, tx *sqlx.Tx, sourceID string, before map[string][]AlertComponent, writes []*AlertRecord) error {
	var fresh, known []*AlertRecord
	for _, r := range writes {
		r.SourceID = sourceID
		if r.ID == 0 {
			fresh = append(fresh, r)
		} else {
			known = append(known, r)
		}
	}
	byFingerprint := func(a, b *AlertRecord) int { return strings.Compare(a.Fingerprint, b.Fingerprint) }
	slices.SortFunc(fresh, byFingerprint)
	slices.SortFunc(known, byFingerprint)
	if err := s.insertAlerts(ctx, tx, fresh); err != nil {
		return err
	}
	for chunk := range writeChunks(s, known, 1) {
		args := make([]any, 0, len(chunk)*17)
		for _, r := range chunk {
			args = appendAlertArgs(append(args, r.ID), r)
		}
		if _, err := s.bulkOn(ctx, tx, s.q.UpdateAlerts, len(chunk)).exec(ctx, args...); err != nil {
			return wrap("update alerts", err)
		}
	}
	return s.writeComponents(ctx, tx, before, writes)
}

func (s *Store) insertAlerts(ctx context.Context, tx *sqlx.Tx, fresh []*AlertRecord) error {
	for chunk := range writeChunks(s, fresh, 1) {
		args := make([]any, 0, len(chunk)*16)
		byFP := make(map[string]*AlertRecord, len(chunk))
		for _, r := range chunk {
			args = appendAlertArgs(args, r)
			byFP[r.Fingerprint] = r
		}
		rows, err := s.bulkOn(ctx, tx, s.q.InsertAlerts, len(chunk)).query(ctx, args...)
		if err != nil {
			return wrap("insert alerts", err)
		}
		n := 0
		for rows.Next() {
			var id int64
			var fp string
			if err := rows.Scan(&id, &fp); err != nil {
				rows.Close()
				return wrap("insert alerts: scan", err)
			}
			if r := byFP[fp]; r != nil {
				r.ID = id
				n++
			}
		}
		if err := rows.Close(); err != nil {
			return wrap("insert alerts", err)
		}
		if err := rows.Err(); err != nil {
			return wrap("insert alerts", err)
		}
		if n != len(chunk) {
			return errRace
		}
	}
	return nil
}

// writeChunks splits xs, per values a row, into the rows of the
// multi-row statements of a write transaction. On SQLite every chunk has a
// size the store prepares (a power of two up to maxCachedBulk; see
// UpsertAlerts): its driver parses a statement it has not prepared anew
// every time, and parsing a multi-row statement costs about as much as
// running it, so that 380 alerts (several requests sharing a transaction)
// go as statements of 128, 128, 64, 32, 16, 8 and 4 rows, all prepared
// once, not as one 380-row statement parsed every time. PostgreSQL's
// driver prepares whatever text it runs, so it takes chunks of
// maxBulkRows: fewer round trips.
func writeChunks[T any](s *Store, xs []T, per int) iter.Seq[[]T] {
	return func(yield func([]T) bool) {
		for rows := len(xs) / per; rows > 0; rows = len(xs) / per {
			n := min(rows, maxBulkRows)
			if s.dialect == SQLite {
				n = 1 << (bits.Len(uint(min(rows, maxCachedBulk))) - 1)
			}
			if !yield(xs[:n*per]) {
				return
			}
			xs = xs[n*per:]
		}
	}
}

// appendAlertArgs appends r's columns in the order of insert-alerts.
func appendAlertArgs(args []any, r *AlertRecord) []any {
	raw := string(r.Raw)
	return append(args, r.SourceID, r.Fingerprint, r.Status, r.Severity, r.Summary,
		jsonMap(r.Labels), jsonMap(r.Annotations), r.GeneratorURL, raw,
		storedTime(r.StartsAt), nullable(r.EndsAt), storedTime(r.ReceivedAt), storedTime(r.LastSeenAt),
		r.RuleID, r.StateChanges, nullable(r.StateChangesSince))
}

// jsonMap encodes labels or annotations; a map of strings always encodes.
func jsonMap(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// writeComponents replaces the components of every written record whose
// components differ from what was stored.
func (s *Store) writeComponents(ctx context.Context, tx *sqlx.Tx, before map[string][]AlertComponent, writes []*AlertRecord) error {
	var stale []any
	var links []any
	for _, r := range writes {
		old, had := before[r.Fingerprint]
		if sameComponents(old, r.Components) {
			continue
		}
		if had && len(old) > 0 {
			stale = append(stale, r.ID)
		}
		for _, c := range r.Components {
			links = append(links, r.ID, c.ComponentID, c.Status)
		}
	}
	for chunk := range writeChunks(s, stale, 1) {
		if _, err := s.bulkOn(ctx, tx, s.q.DeleteAlertComps, len(chunk)).exec(ctx, chunk...); err != nil {
			return wrap("delete alert components", err)
		}
	}
	for chunk := range writeChunks(s, links, 3) {
		if _, err := s.bulkOn(ctx, tx, s.q.InsertAlertComps, len(chunk)/3).exec(ctx, chunk...); err != nil {
			return wrap("insert alert components", err)
		}
	}
	return nil
}

func sameComponents(a, b []AlertComponent) bool {
	if len(a) != len(b) {
		return false
	}
	cmp := func(x, y AlertComponent) int { return strings.Compare(x.ComponentID, y.ComponentID) }
	a, b = slices.Clone(a), slices.Clone(b)
	slices.SortFunc(a, cmp)
	slices.SortFunc(b, cmp)
	return slices.Equal(a, b)
}

// AlertFilter selects alerts; zero fields match everything.
type AlertFilter struct {
	Status      gateway.AlertStatus
	SourceID    string
	ComponentID string
	Fingerprint string
	// Before is the cursor: only alerts with a smaller id (0: from the newest).
	Before int64
	Limit  int
}

// Alerts lists alerts newest first, with their components; Raw is left
// out (see Alert).
func (s *Store) Alerts(ctx context.Context, f AlertFilter) ([]*AlertRecord, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var rows []alertRow
	err := s.db.SelectContext(ctx, &rows, s.q.ListAlerts, f.Status, f.Status, f.SourceID, f.SourceID,
		f.Fingerprint, f.Fingerprint, f.ComponentID, f.ComponentID, f.Before, f.Before, f.Limit)
	if err != nil {
		return nil, wrap("list alerts", err)
	}
	out := make([]*AlertRecord, 0, len(rows))
	byID := make(map[int64]*AlertRecord, len(rows))
	for i := range rows {
		rec, err := rows[i].record()
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
		byID[rec.ID] = rec
	}
	return out, s.loadComponents(ctx, byID)
}

// Alert finds one alert by id, with its raw payload and components;
// ENOTFOUND when none.
func (s *Store) Alert(ctx context.Context, id int64) (*AlertRecord, error) {
	var row alertRow
	if err := s.db.GetContext(ctx, &row, s.q.GetAlert, id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("Alert", fmt.Sprint(id))
		}
		return nil, wrap("get alert", err)
	}
	rec, err := row.record()
	if err != nil {
		return nil, err
	}
	return rec, s.loadComponents(ctx, map[int64]*AlertRecord{rec.ID: rec})
}

// ingestError maps errors as wrap does, and also treats as EUNAVAILABLE
// what ingest must answer 503 to rather than 500: a closed pool, a
// database busy beyond its timeout, a deadline that ran out waiting for it.
func ingestError(op string, err error) error {
	if err == nil {
		return nil
	}
	err = wrap(op, err)
	if c := gateway.ErrorCode(err); c != gateway.EINTERNAL {
		return err
	}
	var se *sqlite.Error
	busy := errors.As(err, &se) && (se.Code()&0xff == 5 || se.Code()&0xff == 6) // SQLITE_BUSY, SQLITE_LOCKED
	if busy || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sql.ErrConnDone) ||
		strings.Contains(err.Error(), "sql: database is closed") {
		return &gateway.Error{Code: gateway.EUNAVAILABLE, Message: "The database is unavailable.", Err: err}
	}
	return err
}
