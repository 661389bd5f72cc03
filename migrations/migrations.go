// Package migrations embeds Herald's numbered, forward-only SQL migrations,
// one set per dialect. Each file is applied in its own transaction and
// recorded, at start-up and by `herald migrate up`.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

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
