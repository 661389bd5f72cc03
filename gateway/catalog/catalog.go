// Package catalog is the one home of what Herald's status page is made of
// and how alerts reach it: components (and what they depend on), component
// groups, ingest sources and routing rules. Its Service validates a change,
// writes it and records it in the audit log in one store transaction, so a
// change is never left unaudited and an audit row never names a change that
// did not happen. The admin API, the console and the config sync at
// start-up all go through it; they only bind their input and render the
// answer.
//
// Inputs are domain types and small change structs free of HTTP; errors
// are *gateway.Error values (EUNPROCESSABLE naming the field, ENOTFOUND,
// ECONFLICT), which each transport maps to a status with errstatus.
package catalog

import (
	"context"
	"errors"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// Service changes the catalog. It holds no state of its own besides the
// store, so it is cheap to build wherever the store is at hand.
type Service struct {
	st *store.Store
}

// New returns the catalog service over st.
func New(st *store.Store) *Service { return &Service{st: st} }

// Store returns the store the service writes to.
func (s *Service) Store() *store.Store { return s.st }

// audited runs fn in one write transaction and, when fn succeeds, appends
// the audit entry it returns to the same transaction: both commit or
// neither does. It returns what fn returns, the changed object.
func audited[T any](s *Service, ctx context.Context, who gateway.Principal, fn func(tx *store.Tx) (*T, entry, error)) (*T, error) {
	var out *T
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		v, e, err := fn(tx)
		if err != nil {
			return err
		}
		out = v
		return tx.Audit(who, e.action, e.targetType, e.targetID, e.detail)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// entry is an audit row: the action names are the API's
// ("component.create", "source.rotate_token", …), whoever acts.
type entry struct {
	action, targetType, targetID string
	detail                       map[string]any
}

// within names the fields of a validation error under prefix, so that the
// rules written once for the API and the console report a declaration's
// problem where it is ("sources[2].name"); other errors pass unchanged.
func within(prefix string, err error) error {
	var e *gateway.Error
	if prefix == "" || !errors.As(err, &e) || e.Code != gateway.EUNPROCESSABLE {
		return err
	}
	out := *e
	out.Fields = make(map[string]string, len(e.Fields))
	for f, problem := range e.Fields {
		out.Fields[prefix+"."+f] = problem
	}
	out.Message = prefix + "." + e.Message
	if len(e.Fields) == 0 {
		out.Message = prefix + ": " + e.Message
	}
	out.Err = err
	return &out
}
