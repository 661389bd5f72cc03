package store

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/heraldstatus/herald/migrations"
)

// MigrationState is one migration as `herald migrate status` shows it.
type MigrationState struct {
	Version   int64
	Name      string
	Applied   bool
	AppliedAt time.Time
}

func (s *Store) migrator(ctx context.Context) (*goose.Provider, error) {
	fsys, err := migrations.FS(string(s.dialect))
	if err != nil {
		return nil, err
	}
	dialect := goose.DialectSQLite3
	opts := []goose.ProviderOption{goose.WithGoMigrations(migrations.Go(string(s.dialect))...)}
	if s.dialect == Postgres {
		dialect = goose.DialectPostgres
		// Several replicas may start at once: an advisory lock lets one
		// migrate while the others wait. The lock is the schema's, so
		// that deployments (or tests) in other schemas of the same
		// database do not wait on each other's migrations: goose's
		// default is one lock id for the whole database, retried every
		// 5 s.
		var schema string
		if err := s.wdb.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return nil, fmt.Errorf("current schema: %w", err)
		}
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(MigrationLockID(schema)))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, s.wdb.DB, fsys, opts...)
}

// MigrationLockID is the PostgreSQL advisory lock that migrations of
// schema hold: a hash of goose's default lock id and the schema's name,
// so each schema has its own.
func MigrationLockID(schema string) int64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s", lock.DefaultLockID, schema)
	return int64(h.Sum64())
}

// Migrate applies every pending migration, each in its own transaction,
// and returns how many it applied.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	p, err := s.migrator(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("store: migrate: %w", err)
	}
	return len(res), nil
}

// Migrations lists every known migration and whether it is applied.
func (s *Store) Migrations(ctx context.Context) ([]MigrationState, error) {
	p, err := s.migrator(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migration status: %w", err)
	}
	out := make([]MigrationState, 0, len(st))
	for _, m := range st {
		out = append(out, MigrationState{
			Version:   m.Source.Version,
			Name:      m.Source.Path,
			Applied:   m.State == goose.StateApplied,
			AppliedAt: m.AppliedAt,
		})
	}
	return out, nil
}

// Ready reports nil when the database answers and every migration is
// applied: what /readyz checks.
func (s *Store) Ready(ctx context.Context) error {
	if err := s.Ping(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	latest, err := migrations.Latest(string(s.dialect))
	if err != nil {
		return err
	}
	var current int64
	if err := s.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied").Scan(&current); err != nil {
		return fmt.Errorf("migrations not applied: %w", err)
	}
	if current < latest {
		return fmt.Errorf("migrations pending: at version %d of %d", current, latest)
	}
	return nil
}
