package gateway

import (
	"errors"
	"fmt"
	"time"
)

// Error codes returned by services. The HTTP layer maps each to one status
// code in one place; nothing else in Herald decides HTTP statuses.
const (
	EINTERNAL      = "internal"               // a bug or an unexpected failure: logged, 500
	EINVALID       = "invalid"                // malformed input: 400
	EUNPROCESSABLE = "unprocessable"          // well-formed input with invalid fields: 422
	EUNAUTHORIZED  = "unauthorized"           // missing or wrong credentials: 401
	EFORBIDDEN     = "forbidden"              // authenticated, but the role may not: 403
	ENOTFOUND      = "not_found"              // 404
	ECONFLICT      = "conflict"               // unique name taken, stale state: 409
	ETOOLARGE      = "too_large"              // body over its limit: 413
	EUNSUPPORTED   = "unsupported_media_type" // 415
	ERATELIMITED   = "rate_limited"           // 429, with Retry-After
	EUNAVAILABLE   = "unavailable"            // the store is not reachable (yet): 503, with Retry-After
)

// Error is a domain error: a machine-readable code, a message safe to show the
// caller, and, for validation failures, the fields at fault.
type Error struct {
	Code    string
	Message string
	// Fields maps a field name (as the caller spelled it, e.g. "name" or
	// "components[2]") to what is wrong with it.
	Fields map[string]string
	// RetryAfter tells a rate-limited or unavailable caller how long to
	// wait; zero means the transport's default.
	RetryAfter time.Duration
	// Err is the underlying cause, kept for logs and errors.Is; never shown.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil && e.Message == "" {
		return fmt.Sprintf("%s: %v", e.Code, e.Err)
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EUNPROCESSABLE error naming one field.
func FieldError(field, problem string) *Error {
	return &Error{
		Code:    EUNPROCESSABLE,
		Message: fmt.Sprintf("%s: %s", field, problem),
		Fields:  map[string]string{field: problem},
	}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of err: the *Error's message,
// or a generic text for internal errors, whose details stay in the logs.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Message
	}
	return "Internal error."
}
