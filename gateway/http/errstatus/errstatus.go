// Package errstatus maps errors onto HTTP statuses: the one table every
// HTTP surface answers with, the admin and ingest API (gateway/http), the
// public pages (gateway/web) and the support console (gateway/console).
// Each imports it directly; it imports only the domain package, net/http
// and Echo (for Echo's own errors: unknown routes, wrong methods), so it
// sits below all three and none needs another to learn a status.
package errstatus

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
)

// ofCode maps every domain error code to its HTTP status.
var ofCode = map[string]int{
	gateway.EINVALID:       http.StatusBadRequest,
	gateway.EUNPROCESSABLE: http.StatusUnprocessableEntity,
	gateway.EUNAUTHORIZED:  http.StatusUnauthorized,
	gateway.EFORBIDDEN:     http.StatusForbidden,
	gateway.ENOTFOUND:      http.StatusNotFound,
	gateway.ECONFLICT:      http.StatusConflict,
	gateway.ETOOLARGE:      http.StatusRequestEntityTooLarge,
	gateway.EUNSUPPORTED:   http.StatusUnsupportedMediaType,
	gateway.ERATELIMITED:   http.StatusTooManyRequests,
	gateway.EUNAVAILABLE:   http.StatusServiceUnavailable,
	gateway.EINTERNAL:      http.StatusInternalServerError,
}

// OfCode returns the HTTP status of a domain error code, and 500 for a
// code it does not know (an error that is not a gateway.Error).
func OfCode(code string) int {
	if status, ok := ofCode[code]; ok {
		return status
	}
	return http.StatusInternalServerError
}

// Of returns err's HTTP status: the status of its domain code when it
// carries one, else an *echo.HTTPError's own code, else 500. The domain
// code comes first because Herald wraps some of Echo's errors in its own
// (the CSRF check's "missing token", a 400 to Echo, is EFORBIDDEN here).
func Of(err error) int {
	var ge *gateway.Error
	if errors.As(err, &ge) {
		return OfCode(ge.Code)
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return he.Code
	}
	return http.StatusInternalServerError
}
