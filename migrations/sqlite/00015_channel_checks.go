// Package sqlite holds SQLite's migrations that SQL alone cannot write;
// package migrations embeds this directory's .sql files and registers the
// Go ones with goose (see migrations.Go).
package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// channelChecks are the CHECKs migration 15 removes, as 00001_schema.sql
// wrote them (SQLite keeps a table's CREATE TABLE text as it was given).
var channelChecks = []struct{ table, check string }{
	{"subscribers", " CHECK (kind IN ('email', 'webhook'))"},
	{"deliveries", " CHECK (channel IN ('email', 'webhook'))"},
}

// DropChannelChecks is migration 15: channels are listed in Go
// (gateway/channels), not in the schema, so the CHECKs of subscribers.kind
// and deliveries.channel that named email and webhook go, as PostgreSQL's
// 00015_channel_checks.sql drops them.
//
// SQLite's ALTER TABLE cannot drop a CHECK, and rebuilding deliveries
// would copy every row of a table that may hold millions. Removing a CHECK
// does not change how rows are stored, so this takes the way SQLite
// documents for such changes ("Making Other Kinds Of Table Schema
// Changes" in https://sqlite.org/lang_altertable.html): edit the table's
// text in sqlite_schema under writable_schema, and bump schema_version,
// in the migration's transaction. The bump makes every connection,
// this one too, parse the schema again before its next statement. Only
// the exact text is removed: a table without it (already migrated, or
// created otherwise) is left alone, and one holding it twice is an
// error rather than a guess.
func DropChannelChecks(ctx context.Context, tx *sql.Tx) error {
	var version int64
	if err := tx.QueryRowContext(ctx, "PRAGMA schema_version").Scan(&version); err != nil {
		return fmt.Errorf("schema version: %w", err)
	}
	edited := false
	for _, c := range channelChecks {
		var text string
		err := tx.QueryRowContext(ctx, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?", c.table).Scan(&text)
		if err != nil {
			return fmt.Errorf("schema of %s: %w", c.table, err)
		}
		switch strings.Count(text, c.check) {
		case 0:
			continue
		case 1:
		default:
			return fmt.Errorf("the schema of %s holds%s more than once", c.table, c.check)
		}
		if !edited {
			if _, err := tx.ExecContext(ctx, "PRAGMA writable_schema = ON"); err != nil {
				return err
			}
			edited = true
		}
		_, err = tx.ExecContext(ctx, "UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = ?",
			strings.Replace(text, c.check, "", 1), c.table)
		if err != nil {
			return fmt.Errorf("edit the schema of %s: %w", c.table, err)
		}
	}
	if !edited {
		return nil
	}
	// PRAGMA takes no parameters; version is a number read above.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA schema_version = %d", version+1)); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "PRAGMA writable_schema = OFF")
	return err
}
