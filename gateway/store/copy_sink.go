package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// sink writes a copy into the target, inside one transaction.
type sink interface {
	copyTable(ctx context.Context, t Table, rows *rowIter) (int64, error)
	resetIdentity(ctx context.Context, t Table) error
	exec(ctx context.Context, q string) error
}

// writeAll runs fn in one write transaction on the store, committing when
// it returns nil. On PostgreSQL the transaction is pgx's own, for COPY
// FROM STDIN: the fastest way in, rows streamed as they are read.
func (s *Store) writeAll(ctx context.Context, fn func(sk sink) error) error {
	if s.dialect == Postgres {
		conn, err := s.wdb.Conn(ctx)
		if err != nil {
			return fmt.Errorf("store: copy: connect: %w", err)
		}
		defer conn.Close()
		return conn.Raw(func(dc any) error {
			pc := dc.(*stdlib.Conn).Conn()
			tx, err := pc.Begin(ctx)
			if err != nil {
				return fmt.Errorf("store: copy: begin: %w", err)
			}
			if err := fn(pgSink{tx}); err != nil {
				_ = tx.Rollback(context.WithoutCancel(ctx))
				return err
			}
			if err := tx.Commit(ctx); err != nil {
				return fmt.Errorf("store: copy: commit: %w", err)
			}
			return nil
		})
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: copy: begin: %w", err)
	}
	if err := fn(sqliteSink{tx}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: copy: commit: %w", err)
	}
	return nil
}

type pgSink struct{ tx pgx.Tx }

func (p pgSink) copyTable(ctx context.Context, t Table, rows *rowIter) (int64, error) {
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = c.Name
	}
	return p.tx.CopyFrom(ctx, pgx.Identifier{t.Name}, cols, rows)
}

// resetIdentity moves the table's sequence past the copied ids, so the
// next row Herald inserts does not collide with a copied one.
func (p pgSink) resetIdentity(ctx context.Context, t Table) error {
	col := quoteIdent(t.Identity)
	_, err := p.tx.Exec(ctx, "SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(MAX("+col+"), 0) + 1, false) FROM "+quoteIdent(t.Name),
		quoteIdent(t.Name), t.Identity)
	return err
}

func (p pgSink) exec(ctx context.Context, q string) error {
	_, err := p.tx.Exec(ctx, q)
	return err
}

type sqliteSink struct{ tx *sql.Tx }

// sqliteMaxParams stays under SQLite's limit on parameters per statement.
const sqliteMaxParams = 30000

func (s sqliteSink) copyTable(ctx context.Context, t Table, rows *rowIter) (int64, error) {
	per := max(1, min(500, sqliteMaxParams/len(t.Columns)))
	full, err := s.tx.PrepareContext(ctx, insertRows(t, per))
	if err != nil {
		return 0, err
	}
	defer full.Close()
	args := make([]any, 0, per*len(t.Columns))
	var n, batch int64
	flush := func() error {
		if batch == 0 {
			return nil
		}
		var err error
		if batch == int64(per) {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = s.tx.ExecContext(ctx, insertRows(t, int(batch)), args...)
		}
		n += batch
		batch, args = 0, args[:0]
		return err
	}
	for rows.Next() {
		vals, _ := rows.Values()
		args = append(args, vals...)
		if batch++; batch == int64(per) {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := flush(); err != nil {
		return n, err
	}
	return n, rows.Err()
}

// resetIdentity has nothing to do on SQLite: an INTEGER PRIMARY KEY takes
// the largest id plus one.
func (sqliteSink) resetIdentity(context.Context, Table) error { return nil }

func (s sqliteSink) exec(ctx context.Context, q string) error {
	_, err := s.tx.ExecContext(ctx, q)
	return err
}

// insertRows is an INSERT of n rows of t's columns.
func insertRows(t Table, n int) string {
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = quoteIdent(c.Name)
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	var b strings.Builder
	b.WriteString("INSERT INTO " + quoteIdent(t.Name) + " (" + strings.Join(cols, ", ") + ") VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}
