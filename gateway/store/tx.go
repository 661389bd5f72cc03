package store

import (
	"context"

	"github.com/heraldstatus/herald/gateway"
	"github.com/jmoiron/sqlx"
)

// Tx is a write transaction handed to service code (incidents, timers), so
// that a change and the events it causes commit together while every SQL
// statement stays in this package. Its methods are the store's, bound to
// the transaction.
type Tx struct {
	tx  *sqlx.Tx
	s   *Store
	ctx context.Context
	// added are the events AddEvent wrote, in order (see AddedEvents).
	added []*gateway.Event
	// after runs once the transaction has ended, committed or not.
	after []func()
}

// InTx runs fn in one write transaction: committed when fn returns nil,
// rolled back otherwise.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	t := &Tx{s: s, ctx: ctx}
	err := s.tx(ctx, func(tx *sqlx.Tx) error { t.tx = tx; return fn(t) })
	for _, f := range t.after {
		f()
	}
	return err
}

func (t *Tx) exec(op, q string, args ...any) (int64, error) {
	res, err := t.tx.ExecContext(t.ctx, q, args...)
	if err != nil {
		return 0, wrap(op, err)
	}
	n, err := res.RowsAffected()
	return n, wrap(op, err)
}

// AddedEvents are the events this transaction wrote through AddEvent,
// oldest first: what a dry run (a transaction its caller rolls back) would
// have announced.
func (t *Tx) AddedEvents() []*gateway.Event { return t.added }
