package store

import "context"

// SetPlanPart makes planning select at most n subscribers per part, so that
// tests plan an event in several parts with a few subscribers.
func SetPlanPart(s *Store, n int) { s.planPart = n }

// MigrateTo applies the migrations up to version, for tests of one
// migration over rows written before it.
func MigrateTo(ctx context.Context, s *Store, version int64) error {
	p, err := s.migrator(ctx)
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}

// OutcomeStatements are the statements that record delivery outcomes, by
// name, as this store's dialect runs them.
func OutcomeStatements(s *Store) map[string]string {
	return map[string]string{"complete-deliveries": s.q.CompleteDeliveries, "complete-and-log-deliveries": s.q.CompleteAndLog}
}

// Autocheckpoints reads wal_autocheckpoint on the SQLite writer's
// connection and on a reader's.
func Autocheckpoints(s *Store) (writer, reader int, err error) {
	ctx := context.Background()
	if err = s.wdb.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&writer); err == nil {
		err = s.db.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&reader)
	}
	return writer, reader, err
}
