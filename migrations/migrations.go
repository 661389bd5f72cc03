// Package migrations embeds Herald's numbered, forward-only SQL migrations,
// one set per dialect. Each file is applied in its own transaction and
// recorded, at start-up and by `herald migrate up`. A migration SQL cannot
// write is a Go file of the same name pattern in its dialect's directory,
// registered in Go (goose reads the .go files too and refuses one that is
// not registered).
package migrations

import (
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"

	"github.com/heraldstatus/herald/migrations/sqlite"
)

//go:embed sqlite/*.sql sqlite/*.go postgres/*.sql
var files embed.FS

// Go returns the migrations of one dialect written in Go, for goose's
// WithGoMigrations.
func Go(dialect string) []*goose.Migration {
	if dialect != "sqlite" {
		return nil
	}
	return []*goose.Migration{
		goose.NewGoMigration(15, &goose.GoFunc{RunTx: sqlite.DropChannelChecks}, nil),
	}
}

// FS returns the migrations of one dialect ("sqlite" or "postgres").
func FS(dialect string) (fs.FS, error) { return fs.Sub(files, dialect) }

// Latest returns the highest migration version of a dialect: the version a
// ready database is at.
func Latest(dialect string) (int64, error) {
	fsys, err := FS(dialect)
	if err != nil {
		return 0, err
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return 0, err
	}
	var latest int64
	for _, e := range entries {
		var v int64
		if _, err := fmt.Sscanf(e.Name(), "%d_", &v); err == nil && v > latest {
			latest = v
		}
	}
	return latest, nil
}
