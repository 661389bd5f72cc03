// Package sourcetest holds the test harness every ingest format shares:
// the golden-file walk over testdata/, the invalid-input table runner, the
// fuzz target body with the invariants every decoded alert must keep, and
// the benchmark. Tests of every package under gateway/sources import it,
// which also defines their -update flag.
package sourcetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the decoders' output")

// Now is the fixed receive time of every test, a few minutes after the
// captures in testdata were made.
var Now = time.Date(2026, 11, 24, 1, 40, 0, 0, time.UTC)

// DecodeFunc is a decoder's Decode.
type DecodeFunc func(body []byte, now time.Time) ([]gateway.Alert, error)

// File is one request body of testdata/.
type File struct {
	Name string // path, e.g. testdata/alertmanager-firing.json
	Body []byte
}

// Bodies returns the request bodies in dir, by name: every *.json that is
// not a *.golden.json.
func Bodies(tb testing.TB, dir string) []File {
	tb.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var files []File
	for _, name := range names {
		if strings.HasSuffix(name, ".golden.json") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		files = append(files, File{Name: name, Body: b})
	}
	if len(files) == 0 {
		tb.Fatalf("no request bodies in %s", dir)
	}
	return files
}

// Golden decodes every body in testdata/ at Now and compares the alerts,
// marshaled with indent, with the body's .golden.json; with -update it
// writes them instead. Every body must decode without error and every
// alert must pass Check.
func Golden(t *testing.T, decode DecodeFunc) {
	for _, file := range Bodies(t, "testdata") {
		name, body := file.Name, file.Body
		t.Run(filepath.Base(name), func(t *testing.T) {
			alerts, err := decode(body, Now)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			Check(t, alerts, Now)
			if alerts == nil {
				alerts = []gateway.Alert{}
			}
			got, err := json.MarshalIndent(alerts, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(name, ".json") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("decoded alerts differ from %s (run go test -update after checking):\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

// Invalid is one invalid-input case: the body, the error code it must
// produce and, for gateway.EUNPROCESSABLE, a field the error must name;
// Message, when set, must occur in the error's message.
type Invalid struct {
	Name    string
	Body    string
	Code    string
	Field   string
	Message string
}

// RunInvalid checks that each case fails as it says.
func RunInvalid(t *testing.T, decode DecodeFunc, cases []Invalid) {
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			alerts, err := decode([]byte(tc.Body), Now)
			if err == nil {
				t.Fatalf("Decode succeeded with %d alerts; want a %s error", len(alerts), tc.Code)
			}
			var e *gateway.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not a *gateway.Error", err, err)
			}
			if got, want := e.Code, tc.Code; got != want {
				t.Errorf("code = %q, want %q (%v)", got, want, err)
			}
			if _, ok := e.Fields[tc.Field]; tc.Field != "" && !ok {
				t.Errorf("fields = %v, want one named %q", e.Fields, tc.Field)
			}
			if !strings.Contains(e.Message, tc.Message) {
				t.Errorf("message = %q, want it to contain %q", e.Message, tc.Message)
			}
			if alerts != nil {
				t.Errorf("alerts = %v with an error, want nil", alerts)
			}
		})
	}
}

// Check fails tb unless every alert keeps the invariants decode.Decoder
// promises for alerts received at now.
func Check(tb testing.TB, alerts []gateway.Alert, now time.Time) {
	tb.Helper()
	for i, a := range alerts {
		switch {
		case a.Fingerprint == "":
			tb.Errorf("alert %d: empty fingerprint", i)
		case a.Status != gateway.AlertFiring && a.Status != gateway.AlertResolved:
			tb.Errorf("alert %d: status %q", i, a.Status)
		case a.Severity != "" && a.Severity.Rank() == 0:
			tb.Errorf("alert %d: severity %q", i, a.Severity)
		case a.Labels == nil || a.Annotations == nil:
			tb.Errorf("alert %d: nil labels or annotations", i)
		case a.StartsAt.IsZero() || a.StartsAt.Location() != time.UTC:
			tb.Errorf("alert %d: starts at %v, want a UTC time", i, a.StartsAt)
		case !a.EndsAt.IsZero() && (a.EndsAt.Location() != time.UTC || a.EndsAt.Before(a.StartsAt)):
			tb.Errorf("alert %d: ends at %v, starts at %v", i, a.EndsAt, a.StartsAt)
		case a.Status == gateway.AlertResolved && a.EndsAt.IsZero():
			tb.Errorf("alert %d: resolved with no end", i)
		case !a.ReceivedAt.Equal(now):
			tb.Errorf("alert %d: received at %v, want %v", i, a.ReceivedAt, now)
		case !json.Valid(a.Raw):
			tb.Errorf("alert %d: raw %q is not JSON", i, a.Raw)
		}
	}
	if _, err := json.Marshal(alerts); err != nil {
		tb.Errorf("alerts do not marshal: %v", err)
	}
}

// Fuzz runs f with every body in testdata/ as a seed: whatever the input,
// Decode must not panic, must fail only with gateway.EINVALID or
// gateway.EUNPROCESSABLE (the latter naming at least one field), and must
// return alerts that pass Check.
func Fuzz(f *testing.F, decode DecodeFunc) {
	for _, file := range Bodies(f, "testdata") {
		f.Add(file.Body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		alerts, err := decode(body, Now)
		if err != nil {
			var e *gateway.Error
			switch {
			case !errors.As(err, &e):
				t.Fatalf("error %v (%T) is not a *gateway.Error", err, err)
			case e.Code == gateway.EUNPROCESSABLE && len(e.Fields) == 0:
				t.Fatalf("%s error names no field: %v", e.Code, err)
			case e.Code != gateway.EINVALID && e.Code != gateway.EUNPROCESSABLE:
				t.Fatalf("code %q: %v", e.Code, err)
			case alerts != nil:
				t.Fatalf("alerts returned with an error")
			}
			return
		}
		Check(t, alerts, Now)
	})
}

// Largest returns the largest body in testdata/.
func Largest(tb testing.TB) []byte {
	tb.Helper()
	var largest []byte
	for _, file := range Bodies(tb, "testdata") {
		if len(file.Body) > len(largest) {
			largest = file.Body
		}
	}
	return largest
}

// Bench measures decode on body.
func Bench(b *testing.B, decode DecodeFunc, body []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := decode(body, Now); err != nil {
			b.Fatal(err)
		}
	}
}

// CompactFunc is a format's compact decoding (see
// normalize.PrometheusAlerts): false when it leaves the body to the plain
// way.
type CompactFunc func(body []byte, now time.Time) ([]gateway.Alert, bool)

// Compact checks that the compact way takes every body in testdata/ and
// decodes it as the plain way does.
func Compact(t *testing.T, compact CompactFunc, plain DecodeFunc) {
	for _, file := range Bodies(t, "testdata") {
		t.Run(filepath.Base(file.Name), func(t *testing.T) {
			alerts, ok := compact(file.Body, Now)
			if !ok {
				t.Fatal("the compact way left the body to the plain way")
			}
			sameAsPlain(t, file.Body, alerts, plain)
		})
	}
}

// FuzzCompact runs f with every body in testdata/ as a seed, and more that
// the compact way must leave to the plain way: whatever the input, a body
// the compact way takes decodes the plain way without error to the same
// alerts, Raw included.
func FuzzCompact(f *testing.F, compact CompactFunc, plain DecodeFunc, seeds ...string) {
	for _, file := range Bodies(f, "testdata") {
		f.Add(file.Body)
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if alerts, ok := compact(body, Now); ok {
			sameAsPlain(t, body, alerts, plain)
		}
	})
}

func sameAsPlain(t *testing.T, body []byte, alerts []gateway.Alert, plain DecodeFunc) {
	t.Helper()
	want, err := plain(body, Now)
	if err != nil {
		t.Fatalf("the compact way took a body the plain way refuses: %v", err)
	}
	got, err := json.Marshal(alerts)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, wantJSON) || len(alerts) != len(want) {
		t.Fatalf("compact decoding differs from plain:\ngot:  %s\nwant: %s", got, wantJSON)
	}
	for i := range alerts {
		if !bytes.Equal(alerts[i].Raw, want[i].Raw) {
			t.Fatalf("alert %d: raw %q, want %q", i, alerts[i].Raw, want[i].Raw)
		}
	}
}
