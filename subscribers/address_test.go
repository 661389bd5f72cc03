package subscribers_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/subscribers"
)

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"ops@example.com", "ops@example.com", true},
		{"  Ops.Team@Example.COM ", "Ops.Team@example.com", true},
		{"first+status@mail.example.co.uk", "first+status@mail.example.co.uk", true},
		{"", "", false},
		{"not-an-address", "", false},
		{"Ops <ops@example.com>", "", false},
		{"ops@example.com\r\nBcc: victim@example.org", "", false},
		{"ops@example.com\nBcc: x@y.z", "", false},
		{"ops@localhost", "", false},
		{"ops@[127.0.0.1]", "", false},
		{"ops@example..com", "", false},
		{"a,b@example.com", "", false},
		{strings.Repeat("a", 65) + "@example.com", "", false},
		{"a@" + strings.Repeat("b", 250) + ".com", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := subscribers.NormalizeEmail(tt.in)
			if tt.ok && (err != nil || got != tt.want) {
				t.Fatalf("NormalizeEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			if !tt.ok {
				if err == nil {
					t.Fatalf("NormalizeEmail(%q) = %q, want an error", tt.in, got)
				}
				var ge *gateway.Error
				if gateway.ErrorCode(err) != gateway.EUNPROCESSABLE || !errors.As(err, &ge) || ge.Fields["email"] == "" {
					t.Errorf("error %v does not name the email field", err)
				}
			}
		})
	}
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"ops@example.com", "A@B.C", "x\r\n@y.z", "\"a b\"@example.com", "a@b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := subscribers.NormalizeEmail(in)
		if err != nil {
			return
		}
		if strings.ContainsAny(got, "\r\n\x00") || len(got) > subscribers.MaxAddressLength {
			t.Fatalf("NormalizeEmail(%q) = %q: unsafe", in, got)
		}
		again, err := subscribers.NormalizeEmail(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q → %q → %q, %v", in, got, again, err)
		}
	})
}
