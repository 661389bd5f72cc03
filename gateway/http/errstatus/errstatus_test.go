package errstatus_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/http/errstatus"
)

// TestOf: the one table every HTTP surface answers with: each domain code,
// wrapped or not, Echo's own errors, and anything else as 500.
func TestOf(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want int
	}{
		{gateway.Errorf(gateway.EINVALID, "x"), http.StatusBadRequest},
		{gateway.Errorf(gateway.EUNPROCESSABLE, "x"), http.StatusUnprocessableEntity},
		{gateway.Errorf(gateway.EUNAUTHORIZED, "x"), http.StatusUnauthorized},
		{gateway.Errorf(gateway.EFORBIDDEN, "x"), http.StatusForbidden},
		{gateway.Errorf(gateway.ENOTFOUND, "x"), http.StatusNotFound},
		{gateway.Errorf(gateway.ECONFLICT, "x"), http.StatusConflict},
		{gateway.Errorf(gateway.ETOOLARGE, "x"), http.StatusRequestEntityTooLarge},
		{gateway.Errorf(gateway.EUNSUPPORTED, "x"), http.StatusUnsupportedMediaType},
		{gateway.Errorf(gateway.ERATELIMITED, "x"), http.StatusTooManyRequests},
		{gateway.Errorf(gateway.EUNAVAILABLE, "x"), http.StatusServiceUnavailable},
		{gateway.Errorf(gateway.EINTERNAL, "x"), http.StatusInternalServerError},
		{fmt.Errorf("store: %w", gateway.Errorf(gateway.ENOTFOUND, "x")), http.StatusNotFound},
		{echo.NewHTTPError(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed},
		{&gateway.Error{Code: gateway.EFORBIDDEN, Err: echo.NewHTTPError(http.StatusBadRequest)}, http.StatusForbidden},
		{fmt.Errorf("disk full"), http.StatusInternalServerError},
	} {
		if got := errstatus.Of(tt.err); got != tt.want {
			t.Errorf("Of(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
