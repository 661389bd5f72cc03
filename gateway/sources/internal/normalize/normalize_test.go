package normalize_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/sources/internal/normalize"
	"github.com/heraldstatus/herald/gateway/sources/internal/sourcetest"
)

func TestBody(t *testing.T) {
	type payload struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
		Nested struct {
			Count int `json:"count"`
		} `json:"nested"`
	}
	tests := []struct {
		name, body  string
		code, field string
		message     string
	}{
		{name: "ok", body: `{"name":"x","extra":[1,2]}`},
		{name: "empty", body: "", code: gateway.EINVALID, message: "request body is empty; want a JSON object"},
		{name: "blank", body: " \r\n\t", code: gateway.EINVALID, message: "request body is empty; want a JSON object"},
		{name: "null", body: " null ", code: gateway.EINVALID, message: "request body must be a JSON object, not null"},
		{name: "string", body: `"x"`, code: gateway.EINVALID, message: "request body must be a JSON object, not a string"},
		{name: "not UTF-8", body: "{\"name\":\"caf\xe9\"}", code: gateway.EINVALID, message: "not valid UTF-8 (at byte offset 12)"},
		{name: "NUL escape", body: `{"name":"a\u0000b"}`, code: gateway.EINVALID, message: "NUL character \\u0000 (at byte offset 10)"},
		{name: "escaped backslash before u0000", body: `{"name":"a\\u0000b"}`},
		{name: "NUL escape after escaped backslash", body: `{"name":"a\\\u0000b"}`, code: gateway.EINVALID, message: "at byte offset 12"},
		{name: "syntax on line 3", body: "{\n  \"name\": \"x\",\n  \"labels\": {,}\n}", code: gateway.EINVALID, message: "malformed JSON at byte offset 30 (line 3, column 14): invalid character ',' looking for beginning of object key string"},
		{name: "trailing data", body: `{"name":"x"} {}`, code: gateway.EINVALID, message: "byte offset 13 (line 1, column 14)"},
		{name: "wrong field type", body: `{"name":1}`, code: gateway.EUNPROCESSABLE, field: "name", message: "name: expected a string, got a number"},
		{name: "wrong nested type", body: `{"nested":{"count":"2"}}`, code: gateway.EUNPROCESSABLE, field: "nested.count", message: "nested.count: expected a number, got a string"},
		{name: "wrong map type", body: `{"labels":[]}`, code: gateway.EUNPROCESSABLE, field: "labels", message: "labels: expected a JSON object, got an array"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p payload
			err := normalize.Body([]byte(tc.body), &p)
			if got, want := gateway.ErrorCode(err), tc.code; got != want {
				t.Fatalf("code = %q, want %q (%v)", got, want, err)
			}
			if err == nil {
				return
			}
			var e *gateway.Error
			errors.As(err, &e)
			if got := e.Message; !strings.Contains(got, tc.message) {
				t.Errorf("message = %q, want it to contain %q", got, tc.message)
			}
			if _, ok := e.Fields[tc.field]; tc.field != "" && !ok {
				t.Errorf("fields = %v, want %q", e.Fields, tc.field)
			}
		})
	}
}

func TestTime(t *testing.T) {
	const iso8601 = "2006-01-02T15:04:05Z0700"
	tests := []struct {
		in    string
		extra []string
		want  time.Time
		bad   bool
	}{
		{in: "", want: time.Time{}},
		{in: "0001-01-01T00:00:00Z", want: time.Time{}},
		{in: "0001-01-01T00:00:00.000Z", want: time.Time{}},
		{in: "2026-11-24T01:37:24.326377522Z", want: time.Date(2026, 11, 24, 1, 37, 24, 326377522, time.UTC)},
		{in: "2026-11-24T02:37:24+01:00", want: time.Date(2026, 11, 24, 1, 37, 24, 0, time.UTC)},
		{in: "2026-11-24T01:37:24.315+0000", bad: true},
		{in: "2026-11-24T01:37:24.315+0000", extra: []string{iso8601}, want: time.Date(2026, 11, 24, 1, 37, 24, 315e6, time.UTC)},
		{in: "2026-11-24 01:37:24", bad: true},
		{in: "1732410000", bad: true},
		{in: "0001-01-01T00:00:00+01:00", bad: true},
		{in: "9999-12-31T23:30:00-01:00", bad: true},
		{in: "0000-06-01T00:00:00Z", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			var p normalize.Problems
			got := normalize.Time(&p, "at", tc.in, tc.extra...)
			if err := p.Err(); (err != nil) != tc.bad {
				t.Fatalf("error = %v, want one: %v", err, tc.bad)
			}
			if !got.Equal(tc.want) || (!got.IsZero() && got.Location() != time.UTC) {
				t.Errorf("Time(%q) = %v, want %v in UTC", tc.in, got, tc.want)
			}
		})
	}
}

func TestSummary(t *testing.T) {
	tests := []struct {
		annotations map[string]string
		fallbacks   []string
		want        string
	}{
		{map[string]string{"summary": " Disk full ", "description": "d"}, []string{"A"}, "Disk full"},
		{map[string]string{"summary": " ", "description": "d"}, []string{"A"}, "d"},
		{nil, []string{"", "A"}, "A"},
		{nil, nil, ""},
	}
	for _, tc := range tests {
		if got := normalize.Summary(tc.annotations, tc.fallbacks...); got != tc.want {
			t.Errorf("Summary(%v, %q) = %q, want %q", tc.annotations, tc.fallbacks, got, tc.want)
		}
	}
}

func TestFinish(t *testing.T) {
	now := sourcetest.Now
	tests := []struct {
		name       string
		in         gateway.Alert
		wantStart  time.Time
		wantEnd    time.Time
		wantFields []string
	}{
		{name: "start defaults to now", in: gateway.Alert{Status: gateway.AlertFiring}, wantStart: now},
		{name: "start defaults to an earlier end", in: gateway.Alert{Status: gateway.AlertResolved, EndsAt: now.Add(-time.Hour)}, wantStart: now.Add(-time.Hour), wantEnd: now.Add(-time.Hour)},
		{name: "a later end does not move the start", in: gateway.Alert{Status: gateway.AlertFiring, EndsAt: now.Add(time.Hour)}, wantStart: now, wantEnd: now.Add(time.Hour)},
		{name: "resolved ends now", in: gateway.Alert{Status: gateway.AlertResolved, StartsAt: now.Add(-time.Hour)}, wantStart: now.Add(-time.Hour), wantEnd: now},
		{name: "resolved ends no earlier than it started", in: gateway.Alert{Status: gateway.AlertResolved, StartsAt: now.Add(time.Minute)}, wantStart: now.Add(time.Minute), wantEnd: now.Add(time.Minute)},
		{name: "end before start", in: gateway.Alert{Status: gateway.AlertFiring, StartsAt: now, EndsAt: now.Add(-time.Second)}, wantStart: now, wantEnd: now.Add(-time.Second), wantFields: []string{"endsAt"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p normalize.Problems
			a := tc.in
			normalize.Finish(&p, "endsAt", &a, now)
			if !a.StartsAt.Equal(tc.wantStart) || !a.EndsAt.Equal(tc.wantEnd) {
				t.Errorf("starts %v, ends %v; want %v, %v", a.StartsAt, a.EndsAt, tc.wantStart, tc.wantEnd)
			}
			if a.Fingerprint != gateway.LabelsFingerprint(nil) || a.Labels == nil || a.Annotations == nil || !a.ReceivedAt.Equal(now) {
				t.Errorf("got %+v, want the empty labels' fingerprint, non-nil maps and ReceivedAt now", a)
			}
			var e *gateway.Error
			errors.As(p.Err(), &e)
			if got := len(fieldsOf(e)); got != len(tc.wantFields) {
				t.Errorf("problems %v, want %q", p.Err(), tc.wantFields)
			}
		})
	}
}

func TestProblems(t *testing.T) {
	var p normalize.Problems
	if err := p.Err(); err != nil {
		t.Fatalf("Err() of no problems = %v, want nil", err)
	}
	for i := range 25 {
		p.Add(fmt.Sprintf("alerts[%d].status", i), "is required")
	}
	p.Add("alerts[0].status", "a second problem of a reported field")
	var e *gateway.Error
	if !errors.As(p.Err(), &e) || e.Code != gateway.EUNPROCESSABLE {
		t.Fatalf("Err() = %v, want an unprocessable *gateway.Error", p.Err())
	}
	if len(e.Fields) != 20 || e.Fields["alerts[0].status"] != "is required" {
		t.Errorf("fields = %v, want the first 20, first problem each", e.Fields)
	}
	if !strings.HasPrefix(e.Message, "alerts[0].status: is required; alerts[1].status") || !strings.HasSuffix(e.Message, "; and 5 more") {
		t.Errorf("message = %q, want the problems in order and a count of the rest", e.Message)
	}
}

func TestJoin(t *testing.T) {
	tests := []struct{ element, field, want string }{
		{"alerts[2]", "labels", "alerts[2].labels"},
		{"", "status", "status"},
		{"alerts[2]", "", "alerts[2]"},
		{"[1]", "labels", "[1].labels"},
		{"alerts", "[1]", "alerts[1]"},
	}
	for _, tc := range tests {
		if got := normalize.Join(tc.element, tc.field); got != tc.want {
			t.Errorf("Join(%q, %q) = %q, want %q", tc.element, tc.field, got, tc.want)
		}
	}
}

func fieldsOf(e *gateway.Error) map[string]string {
	if e == nil {
		return nil
	}
	return e.Fields
}
