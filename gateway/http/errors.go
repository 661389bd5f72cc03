package http

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/http/errstatus"
)

// codeOfStatus maps Echo's own errors (unknown route, wrong method, body
// limit) back onto domain codes, so they share the JSON shape.
var codeOfStatus = map[int]string{
	http.StatusBadRequest:            gateway.EINVALID,
	http.StatusUnauthorized:          gateway.EUNAUTHORIZED,
	http.StatusForbidden:             gateway.EFORBIDDEN,
	http.StatusNotFound:              gateway.ENOTFOUND,
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusRequestEntityTooLarge: gateway.ETOOLARGE,
	http.StatusUnsupportedMediaType:  gateway.EUNSUPPORTED,
	http.StatusTooManyRequests:       gateway.ERATELIMITED,
	http.StatusServiceUnavailable:    gateway.EUNAVAILABLE,
}

// errorBody is the error shape docs/api.md documents: {"error":{"code","message"}} plus,
// for validation errors, the fields at fault.
type errorBody struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields,omitempty"`
	} `json:"error"`
}

// RetryAfter is what 429 and 503 answers tell clients to wait, in seconds,
// unless the error's RetryAfter says otherwise.
const RetryAfter = 5

func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, body := s.describe(err, c)
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		wait := RetryAfter
		var ge *gateway.Error
		if errors.As(err, &ge) && ge.RetryAfter >= time.Second {
			wait = int(ge.RetryAfter.Round(time.Second) / time.Second)
		}
		c.Response().Header().Set("Retry-After", strconv.Itoa(wait))
	}
	if c.Request().Method == http.MethodHead {
		err = c.NoContent(status)
	} else {
		err = c.JSON(status, body)
	}
	if err != nil {
		s.log.Warn("write error response", "err", err)
	}
}

// describe turns any error into a status and body, logging internal errors
// (and only those) with the request ID.
func (s *Server) describe(err error, c echo.Context) (int, errorBody) {
	var body errorBody
	// A domain error wins over an Echo error it wraps, as in errstatus.Of.
	var ge *gateway.Error
	var he *echo.HTTPError
	if !errors.As(err, &ge) && errors.As(err, &he) {
		code, ok := codeOfStatus[he.Code]
		if !ok {
			code = gateway.EINTERNAL
		}
		body.Error.Code, body.Error.Message = code, http.StatusText(he.Code)+"."
		if he.Code >= 500 {
			s.logInternal(c, err)
		}
		return he.Code, body
	}
	code := gateway.ErrorCode(err)
	status := errstatus.OfCode(code)
	body.Error.Code, body.Error.Message = code, gateway.ErrorMessage(err)
	if ge != nil {
		body.Error.Fields = ge.Fields
	}
	if status == http.StatusInternalServerError {
		s.logInternal(c, err)
	}
	return status, body
}

func (s *Server) logInternal(c echo.Context, err error) {
	s.log.Error("internal error", "err", err, "method", c.Request().Method, "path", c.Path(),
		"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
}

// recoverer turns a handler panic into a logged 500 with the JSON shape.
func (s *Server) recoverer() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					if r == http.ErrAbortHandler { //nolint:errorlint // r is recover()'s value, not an error chain: net/http panics with this very value
						panic(r)
					}
					err = fmt.Errorf("%w: %v", errPanic, r)
				}
			}()
			return next(c)
		}
	}
}
