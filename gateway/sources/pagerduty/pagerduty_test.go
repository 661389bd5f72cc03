package pagerduty_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/sources/internal/sourcetest"
	"github.com/heraldstatus/herald/gateway/sources/pagerduty"
)

var decoder = pagerduty.Decoder{}

var generatedKey = regexp.MustCompile(`^[0-9a-f]{32}$`)

// decodeStable decodes like the Decoder but replaces a dedup_key generated
// for a trigger without one, after checking its form, so that golden files
// stay stable.
func decodeStable(body []byte, now time.Time) ([]gateway.Alert, error) {
	alerts, err := decoder.Decode(body, now)
	for i, a := range alerts {
		if generatedKey.MatchString(a.Fingerprint) && !bytes.Contains(body, []byte(a.Fingerprint)) {
			alerts[i].Fingerprint = "generated"
		}
	}
	return alerts, err
}

func TestDecode(t *testing.T) { sourcetest.Golden(t, decodeStable) }

func TestDecodeEvent(t *testing.T) {
	body := `{"routing_key":"hsrc_abc","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"error"}}`
	first, err := pagerduty.DecodeEvent([]byte(body), sourcetest.Now)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := first.RoutingKey, "hsrc_abc"; got != want {
		t.Errorf("RoutingKey = %q, want %q", got, want)
	}
	if first.Action != pagerduty.ActionTrigger {
		t.Errorf("Action = %q, want trigger", first.Action)
	}
	if !generatedKey.MatchString(first.DedupKey) || first.Alert.Fingerprint != first.DedupKey {
		t.Errorf("DedupKey = %q, fingerprint %q; want the same 32 hex digits", first.DedupKey, first.Alert.Fingerprint)
	}
	second, _ := pagerduty.DecodeEvent([]byte(body), sourcetest.Now)
	if second.DedupKey == first.DedupKey {
		t.Errorf("two triggers without dedup_key got the same key %q", first.DedupKey)
	}
	if bytes.Contains(first.Alert.Raw, []byte("hsrc_abc")) {
		t.Errorf("Raw %s keeps the routing key", first.Alert.Raw)
	}
}

func TestDecodeEventKeepsRoutingKeyOnError(t *testing.T) {
	ev, err := pagerduty.DecodeEvent([]byte(`{"routing_key":"hsrc_abc","event_action":"resolve"}`), sourcetest.Now)
	if err == nil {
		t.Fatal("resolve without dedup_key accepted")
	}
	if ev.RoutingKey != "hsrc_abc" {
		t.Errorf("RoutingKey = %q, want hsrc_abc", ev.RoutingKey)
	}
}

func TestDecodeInvalid(t *testing.T) {
	const key = `"routing_key":"0123456789abcdef0123456789abcdef"`
	sourcetest.RunInvalid(t, decodeStable, []sourcetest.Invalid{
		{Name: "malformed", Body: `{` + key + `,}`, Code: gateway.EINVALID, Message: "byte offset"},
		{Name: "array", Body: `[]`, Code: gateway.EINVALID},
		{Name: "no routing key", Body: `{"event_action":"resolve","dedup_key":"k"}`, Code: gateway.EUNPROCESSABLE, Field: "routing_key"},
		{Name: "no action", Body: `{` + key + `,"dedup_key":"k"}`, Code: gateway.EUNPROCESSABLE, Field: "event_action"},
		{Name: "unknown action", Body: `{` + key + `,"event_action":"escalate","dedup_key":"k"}`, Code: gateway.EUNPROCESSABLE, Field: "event_action"},
		{Name: "v1 event", Body: `{"service_key":"k","event_type":"trigger","description":"x"}`, Code: gateway.EUNPROCESSABLE, Field: "routing_key"},
		{Name: "trigger without payload", Body: `{` + key + `,"event_action":"trigger"}`, Code: gateway.EUNPROCESSABLE, Field: "payload.summary"},
		{Name: "blank summary", Body: `{` + key + `,"event_action":"trigger","payload":{"summary":" ","source":"h","severity":"info"}}`, Code: gateway.EUNPROCESSABLE, Field: "payload.summary"},
		{Name: "long summary", Body: `{` + key + `,"event_action":"trigger","payload":{"summary":"` + strings.Repeat("é", 1025) + `","source":"h","severity":"info"}}`, Code: gateway.EUNPROCESSABLE, Field: "payload.summary"},
		{Name: "no source", Body: `{` + key + `,"event_action":"trigger","payload":{"summary":"s","severity":"info"}}`, Code: gateway.EUNPROCESSABLE, Field: "payload.source"},
		{Name: "no severity", Body: `{` + key + `,"event_action":"trigger","payload":{"summary":"s","source":"h"}}`, Code: gateway.EUNPROCESSABLE, Field: "payload.severity"},
		{Name: "unknown severity", Body: `{` + key + `,"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"fatal"}}`, Code: gateway.EUNPROCESSABLE, Field: "payload.severity"},
		{Name: "bad timestamp", Body: `{` + key + `,"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info","timestamp":"17/07/2015"}}`, Code: gateway.EUNPROCESSABLE, Field: "payload.timestamp"},
		{Name: "payload not an object", Body: `{` + key + `,"event_action":"trigger","payload":"down"}`, Code: gateway.EUNPROCESSABLE, Field: "payload"},
		{Name: "resolve without dedup_key", Body: `{` + key + `,"event_action":"resolve"}`, Code: gateway.EUNPROCESSABLE, Field: "dedup_key"},
		{Name: "acknowledge without dedup_key", Body: `{` + key + `,"event_action":"acknowledge","dedup_key":""}`, Code: gateway.EUNPROCESSABLE, Field: "dedup_key"},
		{Name: "long dedup_key", Body: `{` + key + `,"event_action":"resolve","dedup_key":"` + strings.Repeat("k", 256) + `"}`, Code: gateway.EUNPROCESSABLE, Field: "dedup_key"},
	})
}

func TestErrorResponse(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantErrors []string
	}{
		{
			name:       "fields",
			err:        decodeErr(t, `{"event_action":"trigger","payload":{"summary":"s","severity":"bad"}}`),
			wantStatus: 400,
			wantErrors: []string{
				"'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')",
				"'payload.source' is missing or blank",
				"'routing_key' is missing or blank",
			},
		},
		{
			name:       "malformed",
			err:        decodeErr(t, `{"event_action":`),
			wantStatus: 400,
			wantErrors: []string{"malformed JSON at byte offset 16 (line 1, column 17): unexpected end of JSON input"},
		},
		{name: "not a validation error", err: gateway.Errorf(gateway.EUNAVAILABLE, "store down"), wantStatus: 0},
		{name: "not a gateway error", err: errors.New("boom"), wantStatus: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := pagerduty.ErrorResponse(tc.err)
			if status != tc.wantStatus {
				t.Fatalf("status = %d, want %d", status, tc.wantStatus)
			}
			if status == 0 {
				if body != nil {
					t.Errorf("body = %s, want nil", body)
				}
				return
			}
			var got struct {
				Status  string   `json:"status"`
				Message string   `json:"message"`
				Errors  []string `json:"errors"`
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if got.Status != "invalid event" || got.Message != "Event object is invalid" {
				t.Errorf("body = %s, want PagerDuty's invalid event status and message", body)
			}
			if strings.Join(got.Errors, "\n") != strings.Join(tc.wantErrors, "\n") {
				t.Errorf("errors = %q, want %q", got.Errors, tc.wantErrors)
			}
		})
	}
}

func TestSuccessResponse(t *testing.T) {
	got := string(pagerduty.SuccessResponse("checkout-api/high-latency"))
	want := `{"status":"success","message":"Event processed","dedup_key":"checkout-api/high-latency"}`
	if got != want {
		t.Errorf("SuccessResponse = %s, want %s", got, want)
	}
}

func decodeErr(t *testing.T, body string) error {
	t.Helper()
	_, err := pagerduty.DecodeEvent([]byte(body), sourcetest.Now)
	if err == nil {
		t.Fatalf("DecodeEvent(%s) succeeded", body)
	}
	return err
}

func FuzzDecode(f *testing.F) { sourcetest.Fuzz(f, decoder.Decode) }

func BenchmarkDecode(b *testing.B) { sourcetest.Bench(b, decoder.Decode, sourcetest.Largest(b)) }
