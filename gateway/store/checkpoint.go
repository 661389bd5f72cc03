package store

import (
	"context"
	"sync"
	"time"
)

// Checkpoints off the writer (SQLite). In WAL mode a commit appends the
// pages it changed to the log, and a checkpoint copies them back into the
// database file. By default SQLite checkpoints inside the commit that
// takes the log past 1,000 pages, on the committing connection: for
// Herald that is the one writer, so every write queued behind it (ingest's
// next group, the fan-out's next outcomes) waited while pages were copied
// and the database file synced. A profile of `herald serve` under a storm
// of new alerts put 8 % of its CPU there, all of it on the writer, which
// is what limits the rate.
//
// So no connection of the store checkpoints in a commit
// (wal_autocheckpoint 0, see sqliteDSN), and the store runs passive
// checkpoints from a read connection every checkpointEvery instead. A passive checkpoint neither waits for nor
// blocks the writer or the readers; it copies what the log holds up to
// the last commit. Durability does not change: each commit still syncs
// the log before it returns (synchronous FULL), and a log not yet
// checkpointed is replayed when the database is opened. The log grows by
// at most what is written between two checkpoints, and SQLite starts it
// again from the beginning once it is checkpointed in full.
const checkpointEvery = 200 * time.Millisecond

// checkpointer runs the passive checkpoints until stop.
type checkpointer struct {
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// startCheckpoints starts s's checkpointer (SQLite only).
func (s *Store) startCheckpoints() {
	c := &checkpointer{stop: make(chan struct{}), done: make(chan struct{})}
	s.checkpoints = c
	go func() {
		defer close(c.done)
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
			}
			if err := s.checkpoint(); err != nil {
				s.log.Debug("sqlite checkpoint", "err", err) // the next tick tries again
			}
		}
	}()
}

// checkpoint runs one passive checkpoint. With nothing new in the log it
// costs a look at the shared index of the log, no I/O.
func (s *Store) checkpoint() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// busy: another checkpoint was running (another process); log: pages
	// in the log; copied: those of them in the database file now.
	var busy, log, copied int
	return s.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &copied)
}

// stopCheckpoints stops the checkpointer and waits for it.
func (s *Store) stopCheckpoints() {
	if c := s.checkpoints; c != nil {
		c.once.Do(func() { close(c.stop) })
		<-c.done
	}
}
