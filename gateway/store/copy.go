package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/migrations"
)

// CopyOptions tune a copy between two databases (see PlanCopy).
type CopyOptions struct {
	// Restart empties the target's data tables first, in the copy's
	// transaction, instead of refusing a target that has rows (a copy
	// interrupted before it committed leaves none; someone may have
	// started Herald on the target meanwhile).
	Restart bool
	// Force skips the check for a running Herald. Copying from a database
	// that Herald is writing to copies a moment that keeps moving: rows
	// written after a table was read stay behind.
	Force bool
	// Watch is how long each database is watched for a running Herald
	// (default 3 s: a running Herald moves its reconcile timer every
	// second).
	Watch time.Duration
}

// ErrCopyRefused wraps every reason a copy refuses to start.
var ErrCopyRefused = errors.New("copy refused")

func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCopyRefused, fmt.Sprintf(format, args...))
}

// CopyPlan is a copy checked and ready to run: the source is at the
// binary's schema version and idle, the target is migrated and empty (or
// will be emptied, with Restart).
type CopyPlan struct {
	src, dst *Store
	opt      CopyOptions
	tables   []Table // the target's, in dependency order
	counts   map[string]int64
	// Migrated is how many migrations the plan applied to the target.
	Migrated int
}

// PlanCopy checks that src can be copied into dst and migrates dst if it
// was never migrated. It refuses (ErrCopyRefused) when src is not at this
// binary's latest migration, when dst has rows (unless Restart) or tables
// Herald did not create, when either has a newer schema than this binary
// knows, and when a running Herald writes to either (unless Force).
func PlanCopy(ctx context.Context, src, dst *Store, opt CopyOptions) (*CopyPlan, error) {
	if opt.Watch <= 0 {
		opt.Watch = 3 * time.Second
	}
	latest, err := migrations.Latest(string(src.dialect))
	if err != nil {
		return nil, err
	}
	v, err := src.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	if v != latest {
		if v > latest {
			return nil, refuse("the source is at schema version %d, newer than this herald's %d: use the herald that migrated it", v, latest)
		}
		return nil, refuse("the source is at schema version %d, this herald's is %d: run `herald migrate up` on it first (with HERALD_DATABASE_URL set to the source)", v, latest)
	}
	if !opt.Force {
		if err := checkIdle(ctx, opt.Watch, src, dst); err != nil {
			return nil, err
		}
	}
	p := &CopyPlan{src: src, dst: dst, opt: opt, counts: map[string]int64{}}
	if err := p.prepareTarget(ctx); err != nil {
		return nil, err
	}
	srcTables, err := src.Tables(ctx)
	if err != nil {
		return nil, err
	}
	if p.tables, err = dst.Tables(ctx); err != nil {
		return nil, err
	}
	if err := sameSchema(srcTables, p.tables); err != nil {
		return nil, err
	}
	for _, t := range p.tables {
		if p.counts[t.Name], err = src.CountRows(ctx, t.Name); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// prepareTarget migrates a target Herald never touched and refuses one
// with rows, unless the plan restarts.
func (p *CopyPlan) prepareTarget(ctx context.Context) error {
	dst := p.dst
	latest, err := migrations.Latest(string(dst.dialect))
	if err != nil {
		return err
	}
	v, err := dst.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	existing, err := dst.Tables(ctx)
	if err != nil {
		return err
	}
	switch {
	case v > latest:
		return refuse("the target is at schema version %d, newer than this herald's %d", v, latest)
	case v == 0 && len(existing) > 0:
		return refuse("the target holds tables Herald did not create (%s): give an empty database", existing[0].Name)
	}
	if !p.opt.Restart {
		for _, t := range existing {
			n, err := dst.CountRows(ctx, t.Name)
			if err != nil {
				return err
			}
			if n > 0 {
				return refuse("the target is not empty: table %s has %d row(s); give an empty database, or --restart to empty it first (everything in it is lost)", t.Name, n)
			}
		}
	}
	if v < latest {
		if p.Migrated, err = dst.Migrate(ctx); err != nil {
			return err
		}
	}
	return nil
}

// sameSchema checks that both databases have the same tables with the
// same columns: both are at the same migration, so a difference means
// someone changed one by hand.
func sameSchema(src, dst []Table) error {
	cols := func(t Table) []string {
		var out []string
		for _, c := range t.Columns {
			out = append(out, c.Name)
		}
		slices.Sort(out)
		return out
	}
	srcByName := map[string]Table{}
	for _, t := range src {
		srcByName[t.Name] = t
	}
	for _, t := range dst {
		s, ok := srcByName[t.Name]
		if !ok {
			return refuse("table %s is in the target but not in the source", t.Name)
		}
		if a, b := cols(s), cols(t); !slices.Equal(a, b) {
			return refuse("table %s has columns %s in the source but %s in the target", t.Name, strings.Join(a, ","), strings.Join(b, ","))
		}
		delete(srcByName, t.Name)
	}
	for name := range srcByName {
		return refuse("table %s is in the source but not in the target", name)
	}
	return nil
}

// Rows is how many rows the plan copies, all tables together.
func (p *CopyPlan) Rows() int64 {
	var n int64
	for _, c := range p.counts {
		n += c
	}
	return n
}

// TableReport is one table's verification: rows and content checksum on
// each side, computed the same way from normalized values.
type TableReport struct {
	Name                   string
	SourceRows, TargetRows int64
	SourceSum, TargetSum   string
}

// OK reports whether both sides agree.
func (r TableReport) OK() bool {
	return r.SourceRows == r.TargetRows && r.SourceSum == r.TargetSum
}

// CopyReport is what a finished copy verified.
type CopyReport struct {
	Tables []TableReport
}

// OK reports whether every table verified.
func (r *CopyReport) OK() bool {
	for _, t := range r.Tables {
		if !t.OK() {
			return false
		}
	}
	return true
}

// Run copies every table in dependency order, in one transaction on the
// target: an interrupted copy leaves the target as it found it (empty,
// migrated), so running it again starts over. The source is read in one
// transaction too, so the copy is of one moment. Then it reads the target
// back and compares each table's rows and checksum with what it read from
// the source. A verification that fails is reported, not an error.
// progress, if not nil, is told every few thousand rows how many rows are
// copied so far, of all tables.
func (p *CopyPlan) Run(ctx context.Context, progress func(rows int64)) (*CopyReport, error) {
	if progress == nil {
		progress = func(int64) {}
	}
	now := p.src.now()
	report := &CopyReport{}
	srcTx, err := p.src.db.BeginTxx(ctx, p.src.readTxOptions())
	if err != nil {
		return nil, fmt.Errorf("store: copy: read the source: %w", err)
	}
	defer srcTx.Rollback() //nolint:errcheck // read-only: nothing to keep
	var copied int64
	err = p.dst.writeAll(ctx, func(sk sink) error {
		// A target this plan migrated holds only what migrations wrote, if
		// anything: the source has those rows too, as they are now.
		if p.opt.Restart || p.Migrated > 0 {
			for i := len(p.tables) - 1; i >= 0; i-- {
				if err := sk.exec(ctx, "DELETE FROM "+quoteIdent(p.tables[i].Name)); err != nil {
					return fmt.Errorf("store: copy: empty %s: %w", p.tables[i].Name, err)
				}
			}
		}
		for _, t := range p.tables {
			rows, err := srcTx.QueryContext(ctx, selectAll(t))
			if err != nil {
				return fmt.Errorf("store: copy: read %s: %w", t.Name, err)
			}
			it := newRowIter(rows, t, copyFix(t, now))
			it.progress = func(n int64) { progress(copied + n) }
			n, err := sk.copyTable(ctx, t, it)
			rows.Close()
			if err == nil {
				err = it.err
			}
			if err != nil {
				return fmt.Errorf("store: copy: table %s: %w", t.Name, err)
			}
			copied += n
			progress(copied)
			report.Tables = append(report.Tables, TableReport{Name: t.Name, SourceRows: it.n, SourceSum: it.sum.String()})
			if t.Identity != "" {
				if err := sk.resetIdentity(ctx, t); err != nil {
					return fmt.Errorf("store: copy: reset the sequence of %s: %w", t.Name, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, t := range p.tables {
		n, sum, err := p.dst.tableChecksum(ctx, t)
		if err != nil {
			return report, err
		}
		report.Tables[i].TargetRows, report.Tables[i].TargetSum = n, sum
	}
	return report, nil
}

// readTxOptions make the source's read transaction see one moment: a
// repeatable-read snapshot on PostgreSQL; on SQLite any transaction does.
func (s *Store) readTxOptions() *sql.TxOptions {
	if s.dialect == Postgres {
		return &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	return nil
}

// tableChecksum reads a table whole and returns its row count and
// checksum, as the copy computed them for the rows it read.
func (s *Store) tableChecksum(ctx context.Context, t Table) (int64, string, error) {
	rows, err := s.db.QueryContext(ctx, selectAll(t))
	if err != nil {
		return 0, "", fmt.Errorf("store: verify %s: %w", t.Name, err)
	}
	defer rows.Close()
	it := newRowIter(rows, t, nil)
	for it.Next() {
	}
	if it.err != nil {
		return 0, "", fmt.Errorf("store: verify %s: %w", t.Name, it.err)
	}
	return it.n, it.sum.String(), nil
}

func selectAll(t Table) string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = quoteIdent(c.Name)
	}
	return "SELECT " + strings.Join(names, ", ") + " FROM " + quoteIdent(t.Name)
}

// copyFix returns what the copy changes in a table's rows, or nil. The
// copy sends nothing and hands nothing over half done: a delivery that
// was being sent is due again now (its attempt stays counted: it may have
// gone out), and no timer keeps a lease held by a process of the source.
func copyFix(t Table, now time.Time) func([]any) {
	idx := map[string]int{}
	for i, c := range t.Columns {
		idx[c.Name] = i
	}
	set := func(vals []any, col string, v any) {
		if i, ok := idx[col]; ok {
			vals[i] = v
		}
	}
	switch t.Name {
	case "deliveries":
		si, ok := idx["status"]
		if !ok {
			return nil
		}
		return func(vals []any) {
			if vals[si] != string(gateway.DeliverySending) {
				return
			}
			status := gateway.DeliveryQueued
			if i, ok := idx["attempts"]; ok {
				if n, _ := vals[i].(int64); n > 0 {
					status = gateway.DeliveryRetrying
				}
			}
			vals[si] = string(status)
			set(vals, "next_attempt_at", now)
			set(vals, "lease_until", nil)
			set(vals, "lease_owner", nil)
			set(vals, "last_error", "moved to another database while sending: sent again")
			set(vals, "updated_at", now)
		}
	case "timers":
		return func(vals []any) {
			set(vals, "lease_until", nil)
			set(vals, "lease_owner", nil)
		}
	}
	return nil
}

// rowIter reads a table's rows from the source, normalizes them to the
// target's column kinds, applies the copy's changes and sums them. It is
// a pgx.CopyFromSource, and what the SQLite writer reads its batches from.
type rowIter struct {
	rows     *sql.Rows
	t        Table
	fix      func([]any)
	raw      []any
	ptrs     []any
	vals     []any
	sum      checksum
	n        int64
	err      error
	progress func(n int64)
}

const progressEvery = 5000

func newRowIter(rows *sql.Rows, t Table, fix func([]any)) *rowIter {
	it := &rowIter{rows: rows, t: t, fix: fix, raw: make([]any, len(t.Columns)), ptrs: make([]any, len(t.Columns)),
		vals: make([]any, len(t.Columns))}
	for i := range it.raw {
		it.ptrs[i] = &it.raw[i]
	}
	return it
}

// Next reads the next row; at the end, or on an error (kept in err), it
// returns false.
func (it *rowIter) Next() bool {
	if it.err != nil || !it.rows.Next() {
		if it.err == nil {
			it.err = it.rows.Err()
		}
		return false
	}
	if it.err = it.rows.Scan(it.ptrs...); it.err != nil {
		return false
	}
	for i, c := range it.t.Columns {
		v, err := normalize(it.raw[i], c.Kind)
		if err != nil {
			it.err = fmt.Errorf("column %s: %w", c.Name, err)
			return false
		}
		it.vals[i] = v
	}
	if it.fix != nil {
		it.fix(it.vals)
	}
	it.sum.add(it.t.Columns, it.vals)
	it.n++
	if it.progress != nil && it.n%progressEvery == 0 {
		it.progress(it.n)
	}
	return true
}

// Values returns the current row; the slice is reused by Next.
func (it *rowIter) Values() ([]any, error) { return it.vals, nil }

// Err returns the error that ended the rows, if any.
func (it *rowIter) Err() error { return it.err }
