package pagerduty

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"

	"github.com/heraldstatus/herald/gateway"
)

// response is the Events API v2 answer body.
type response struct {
	Status   string   `json:"status"`
	Message  string   `json:"message"`
	DedupKey string   `json:"dedup_key,omitempty"`
	Errors   []string `json:"errors,omitempty"`
}

// SuccessResponse returns the body PagerDuty answers an accepted event with
// (status 202): {"status":"success","message":"Event processed",
// "dedup_key":"…"}.
func SuccessResponse(dedupKey string) []byte {
	return mustMarshal(response{Status: "success", Message: "Event processed", DedupKey: dedupKey})
}

// ErrorResponse renders a validation error of DecodeEvent as PagerDuty
// does: status 400 and {"status":"invalid event","message":"Event object
// is invalid","errors":["'payload.severity' is missing or blank", …]},
// one entry per field (sorted by field), or the message of a malformed
// body. For any error that is not a gateway.EINVALID or
// gateway.EUNPROCESSABLE *gateway.Error it returns 0 and nil: those
// (authentication, rate limits, the store) are answered by Herald's common
// error handler.
func ErrorResponse(err error) (status int, body []byte) {
	var e *gateway.Error
	if !errors.As(err, &e) || (e.Code != gateway.EINVALID && e.Code != gateway.EUNPROCESSABLE) {
		return 0, nil
	}
	var list []string
	if len(e.Fields) == 0 {
		list = []string{e.Message}
	} else {
		fields := make([]string, 0, len(e.Fields))
		for f := range e.Fields {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		for _, f := range fields {
			list = append(list, "'"+f+"' "+e.Fields[f])
		}
	}
	return http.StatusBadRequest, mustMarshal(response{Status: "invalid event", Message: "Event object is invalid", Errors: list})
}

func mustMarshal(v response) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // a struct of strings always marshals
	}
	return b
}
