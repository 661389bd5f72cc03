package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
)

// statusOf maps every domain error code to its HTTP status: the one place
// where Herald decides statuses, for the API's JSON errors (gateway/http),
// the public pages and the support console alike.
var statusOf = map[string]int{
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

// StatusOf returns the HTTP status of a domain error code, and 500 for a
// code it does not know (an error that is not a gateway.Error).
func StatusOf(code string) int {
	if status, ok := statusOf[code]; ok {
		return status
	}
	return http.StatusInternalServerError
}

// ErrorStatus is StatusOf for err: the pages' ErrorStatus when none is
// given.
func ErrorStatus(err error, _ echo.Context) int { return StatusOf(gateway.ErrorCode(err)) }
