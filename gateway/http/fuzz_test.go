package http

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
)

// FuzzBind: whatever body a client sends to the admin API, bind does not
// panic and answers with one of the client-error codes (never an internal
// error); a body it accepts is exactly one JSON value with only known
// fields, which the standard decoder reads the same way.
func FuzzBind(f *testing.F) {
	for _, s := range []string{
		`{"email":"ann@example.com","components":["App"]}`,
		`{"url":"https://hooks.example.com/x","format":"slack","all":true}`,
		`{"mail":"x"}`, `{"email":1}`, `{"email":"a"} {"email":"b"}`, `[`, ``, `null`, `"x"`,
		`{"components":[null,1]}`, `{"confirmed":"yes"}`, `{"email":"\u0000"}`, `{"all":true,"all":false}`,
	} {
		f.Add(s, "application/json")
	}
	f.Add(`{}`, "text/plain")
	f.Add(`{}`, "application/json; charset=utf-8")
	f.Add(`{}`, "application/json;;")
	e := echo.New()
	e.Validator = newValidator()
	f.Fuzz(func(t *testing.T, body, ct string) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/subscribers", strings.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		rec := httptest.NewRecorder()
		req.Body = http.MaxBytesReader(rec, req.Body, 4<<10)
		var v createSubscriberRequest
		err := bind(e.NewContext(req, rec), &v)
		if err != nil {
			switch code := gateway.ErrorCode(err); code {
			case gateway.EINVALID, gateway.EUNPROCESSABLE, gateway.ETOOLARGE, gateway.EUNSUPPORTED:
			default:
				t.Fatalf("body %q (%q): code %q: %v", body, ct, code, err)
			}
			return
		}
		dec := json.NewDecoder(strings.NewReader(body))
		dec.DisallowUnknownFields()
		var w createSubscriberRequest
		if err := dec.Decode(&w); err != nil || dec.More() {
			t.Fatalf("bind accepted %q, which strict decoding refuses: %v", body, err)
		}
	})
}
