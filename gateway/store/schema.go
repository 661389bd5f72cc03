package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// ColumnKind is what a column holds, the same on both dialects whatever
// each calls its type: the copier converts and compares values by it.
type ColumnKind int

// Column kinds.
const (
	KindText ColumnKind = iota
	KindInt
	KindFloat
	KindBool
	KindTime
	KindBytes
)

// Column is one column of a table.
type Column struct {
	Name string
	Kind ColumnKind
}

// Table is one data table as the database's catalog describes it.
type Table struct {
	Name    string
	Columns []Column
	// Key is the primary key's columns, in key order.
	Key []string
	// Parents are the tables this one's foreign keys reference (itself
	// excluded).
	Parents []string
	// Identity is the column PostgreSQL numbers from a sequence (an
	// identity or serial column), or "".
	Identity string
}

// The catalog queries. They name no Herald table: the table list comes
// from the database, so a table added by a later migration is copied
// without anyone listing it. goose_db_version is the migrations' own
// bookkeeping, written by Migrate, not data.
const (
	sqliteTablesSQL = `SELECT name FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version' ORDER BY name`
	postgresTablesSQL = `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
		AND table_name <> 'goose_db_version' ORDER BY table_name`
	postgresColumnsSQL = `SELECT column_name, data_type, is_identity = 'YES' OR COALESCE(column_default, '') LIKE 'nextval(%'
		FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`
	postgresKeySQL = `SELECT a.attname FROM pg_index i
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
		WHERE i.indrelid = (quote_ident(current_schema()) || '.' || quote_ident($1))::regclass AND i.indisprimary
		ORDER BY array_position(i.indkey, a.attnum)`
	postgresParentsSQL = `SELECT DISTINCT cf.relname FROM pg_constraint c
		JOIN pg_class cf ON cf.oid = c.confrelid
		WHERE c.contype = 'f' AND c.conrelid = (quote_ident(current_schema()) || '.' || quote_ident($1))::regclass`
)

// Tables lists the database's data tables in dependency order: every
// table after the tables its foreign keys reference, so that rows copied
// in this order always find their parents. Ties keep name order, so the
// order is the same on both dialects. A foreign-key cycle between tables
// is an error: no insertion order satisfies it.
func (s *Store) Tables(ctx context.Context) ([]Table, error) {
	q := sqliteTablesSQL
	if s.dialect == Postgres {
		q = postgresTablesSQL
	}
	var names []string
	if err := s.db.SelectContext(ctx, &names, q); err != nil {
		return nil, fmt.Errorf("store: list tables: %w", err)
	}
	tables := make([]Table, 0, len(names))
	for _, name := range names {
		t, err := s.describe(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("store: describe table %s: %w", name, err)
		}
		tables = append(tables, t)
	}
	return dependencyOrder(tables)
}

func (s *Store) describe(ctx context.Context, name string) (Table, error) {
	if s.dialect == Postgres {
		return s.describePostgres(ctx, name)
	}
	t := Table{Name: name}
	var cols []struct {
		Cid       int
		Name      string
		Type      string
		Notnull   bool
		DfltValue sql.NullString `db:"dflt_value"`
		Pk        int
	}
	if err := s.db.SelectContext(ctx, &cols, "SELECT cid, name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid", name); err != nil {
		return t, err
	}
	key := map[int]string{}
	for _, c := range cols {
		t.Columns = append(t.Columns, Column{Name: c.Name, Kind: kindOf(c.Type)})
		if c.Pk > 0 {
			key[c.Pk] = c.Name
		}
	}
	for i := 1; i <= len(key); i++ {
		t.Key = append(t.Key, key[i])
	}
	if err := s.db.SelectContext(ctx, &t.Parents, "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?)", name); err != nil {
		return t, err
	}
	t.Parents = slices.DeleteFunc(t.Parents, func(p string) bool { return p == name })
	return t, nil
}

func (s *Store) describePostgres(ctx context.Context, name string) (Table, error) {
	t := Table{Name: name}
	rows, err := s.db.QueryContext(ctx, postgresColumnsSQL, name)
	if err != nil {
		return t, err
	}
	defer rows.Close()
	for rows.Next() {
		var col, typ string
		var identity bool
		if err := rows.Scan(&col, &typ, &identity); err != nil {
			return t, err
		}
		t.Columns = append(t.Columns, Column{Name: col, Kind: kindOf(typ)})
		if identity {
			t.Identity = col
		}
	}
	if err := rows.Err(); err != nil {
		return t, err
	}
	if err := s.db.SelectContext(ctx, &t.Key, postgresKeySQL, name); err != nil {
		return t, err
	}
	if err := s.db.SelectContext(ctx, &t.Parents, postgresParentsSQL, name); err != nil {
		return t, err
	}
	t.Parents = slices.DeleteFunc(t.Parents, func(p string) bool { return p == name })
	slices.Sort(t.Parents)
	return t, nil
}

// kindOf maps a declared type (SQLite's, which follows its affinity rules,
// or PostgreSQL's data_type) onto a column kind.
func kindOf(declared string) ColumnKind {
	t := strings.ToUpper(declared)
	switch {
	case strings.Contains(t, "TIME"), strings.Contains(t, "DATE"):
		return KindTime
	case strings.Contains(t, "BOOL"):
		return KindBool
	case strings.Contains(t, "INT"):
		return KindInt
	case strings.Contains(t, "REAL"), strings.Contains(t, "FLOA"), strings.Contains(t, "DOUB"), strings.Contains(t, "NUMERIC"):
		return KindFloat
	case strings.Contains(t, "BLOB"), strings.Contains(t, "BYTEA"):
		return KindBytes
	}
	return KindText
}

// dependencyOrder sorts tables so that each comes after its parents
// (Kahn's algorithm, taking the first ready table by name each time).
func dependencyOrder(tables []Table) ([]Table, error) {
	byName := map[string]Table{}
	for _, t := range tables {
		byName[t.Name] = t
	}
	done := map[string]bool{}
	out := make([]Table, 0, len(tables))
	for len(out) < len(tables) {
		progressed := false
		for _, t := range tables {
			if done[t.Name] {
				continue
			}
			ready := true
			for _, p := range t.Parents {
				if _, known := byName[p]; known && !done[p] {
					ready = false
					break
				}
			}
			if ready {
				done[t.Name] = true
				out = append(out, t)
				progressed = true
				break
			}
		}
		if !progressed {
			var left []string
			for _, t := range tables {
				if !done[t.Name] {
					left = append(left, t.Name)
				}
			}
			return nil, fmt.Errorf("store: foreign keys form a cycle among %s", strings.Join(left, ", "))
		}
	}
	return out, nil
}

// SchemaVersion reports the highest migration applied to the database, 0
// for a database Herald never migrated.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	var v sql.NullInt64
	err := s.db.QueryRowContext(ctx, "SELECT MAX(version_id) FROM goose_db_version WHERE is_applied").Scan(&v)
	if err != nil {
		has, herr := s.hasTable(ctx, "goose_db_version")
		if herr == nil && !has {
			return 0, nil
		}
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v.Int64, nil
}

func (s *Store) hasTable(ctx context.Context, name string) (bool, error) {
	q := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	if s.dialect == Postgres {
		q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1"
	}
	var n int
	if err := s.db.QueryRowContext(ctx, q, name).Scan(&n); err != nil {
		return false, err
	}
	return n > 0, nil
}

// CountRows counts a table's rows. The name must come from Tables.
func (s *Store) CountRows(ctx context.Context, table string) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+quoteIdent(table)).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count %s: %w", table, err)
	}
	return n, nil
}

// quoteIdent quotes a table or column name the same way for both dialects.
func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }
