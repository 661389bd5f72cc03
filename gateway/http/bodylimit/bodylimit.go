// Package bodylimit is Herald's one request-body limit: the admin API
// (its body limit), ingest (limits.ingest_body), the public forms
// (limits.public_body) and the console's forms and uploads cap bodies
// with it, and every body over its limit, declared or chunked, is
// gateway.ETOOLARGE, which each surface answers as 413 in its usual error
// shape (errstatus maps the code).
package bodylimit

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
)

// Error is the ETOOLARGE error for a body over n bytes.
func Error(n int64) error {
	return gateway.Errorf(gateway.ETOOLARGE, "The request body is larger than the limit of %d bytes.", n)
}

// Over reports whether err is a read that went past a limit this package
// set (http.MaxBytesError), and that limit.
func Over(err error) (int64, bool) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return mbe.Limit, true
	}
	return 0, false
}

// Limit caps r's body at n bytes: a declared Content-Length over n is
// refused at once (with tooLarge(n), or Error(n) when tooLarge is nil),
// before any reading; otherwise reading past n fails with an error Over
// recognises, so a chunked body is caught too.
func Limit(w http.ResponseWriter, r *http.Request, n int64, tooLarge func(int64) error) error {
	if r.ContentLength > n {
		if tooLarge == nil {
			tooLarge = Error
		}
		return tooLarge(n)
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(w, r.Body, n)
	}
	return nil
}

// Middleware is Limit in front of a route or a group, with Error as the
// refusal. Handlers that read the body turn a read past the limit into
// Error through Over (gateway/http's bind does).
func Middleware(n int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := Limit(c.Response(), c.Request(), n, nil); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// Check turns a read error past the limit into Error of that limit and
// returns any other error unchanged.
func Check(err error) error {
	if n, ok := Over(err); ok {
		return Error(n)
	}
	return err
}
