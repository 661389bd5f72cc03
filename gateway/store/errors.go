package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"github.com/heraldstatus/herald/gateway"
)

// mapError turns database errors that callers act on into gateway error
// codes: no rows → ENOTFOUND, unique violation → ECONFLICT, foreign key
// violation → EUNPROCESSABLE, a lost connection → EUNAVAILABLE. Anything else
// stays an internal error. The original error stays in the chain.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	var ge *gateway.Error
	if errors.As(err, &ge) {
		return err
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return &gateway.Error{Code: gateway.ENOTFOUND, Message: "Not found.", Err: err}
	case isUnique(err):
		return &gateway.Error{Code: gateway.ECONFLICT, Message: "Already exists.", Err: err}
	case isForeignKey(err):
		return &gateway.Error{Code: gateway.EUNPROCESSABLE, Message: "Refers to something that does not exist.", Err: err}
	case isUnavailable(err):
		noteLost()
		return &gateway.Error{Code: gateway.EUNAVAILABLE, Message: "The database is unavailable.", Err: err}
	}
	return err
}

func isUnique(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == 2067 || se.Code() == 1555 // SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY
	}
	return false
}

func isForeignKey(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23503"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == 787 // SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// isUnavailable recognizes a database that cannot be reached right now:
// connection refused or reset, PostgreSQL shutting down or starting up.
func isUnavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"connection refused", "connection reset", "broken pipe", "bad connection", "unexpected EOF", "failed to connect", "i/o timeout"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// notFound returns ENOTFOUND naming what was looked for.
func notFound(what, key string) error {
	return gateway.Errorf(gateway.ENOTFOUND, "%s %q not found.", what, key)
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return mapError(fmt.Errorf("store: %s: %w", op, err))
}
