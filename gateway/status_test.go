package gateway_test

import (
	"errors"
	"fmt"
	"regexp"
	"testing"

	"github.com/heraldstatus/herald/gateway"
)

func TestComponentStatusOrder(t *testing.T) {
	tests := []struct{ a, b, worse gateway.ComponentStatus }{
		{gateway.Operational, gateway.DegradedPerformance, gateway.DegradedPerformance},
		{gateway.MajorOutage, gateway.PartialOutage, gateway.MajorOutage},
		{gateway.UnderMaintenance, gateway.Operational, gateway.UnderMaintenance},
		{gateway.UnderMaintenance, gateway.MajorOutage, gateway.MajorOutage}, // a failure shows through maintenance
	}
	for _, tt := range tests {
		if got := tt.a.Worse(tt.b); got != tt.worse {
			t.Errorf("%s.Worse(%s) = %s, want %s", tt.a, tt.b, got, tt.worse)
		}
	}
	for _, s := range gateway.ComponentStatuses {
		if !s.Valid() {
			t.Errorf("%s not valid", s)
		}
	}
	if gateway.ComponentStatus("down").Valid() {
		t.Error(`"down" is valid`)
	}
}

func TestRoles(t *testing.T) {
	tests := []struct {
		has, need gateway.Role
		ok        bool
	}{
		{gateway.RoleAdmin, gateway.RoleAdmin, true},
		{gateway.RoleAdmin, gateway.RoleViewer, true},
		{gateway.RoleSupport, gateway.RoleSupport, true},
		{gateway.RoleSupport, gateway.RoleAdmin, false},
		{gateway.RoleViewer, gateway.RoleSupport, false},
		{gateway.Role("root"), gateway.RoleViewer, false},
		{gateway.Role(""), gateway.RoleViewer, false},
	}
	for _, tt := range tests {
		if got := tt.has.Allows(tt.need); got != tt.ok {
			t.Errorf("%q.Allows(%q) = %v, want %v", tt.has, tt.need, got, tt.ok)
		}
	}
}

func TestParseSeverity(t *testing.T) {
	tests := map[string]gateway.Severity{
		"critical": gateway.SeverityCritical, "CRIT": gateway.SeverityCritical, "page": gateway.SeverityCritical,
		"error": gateway.SeverityError, "warning": gateway.SeverityWarning, " Warn ": gateway.SeverityWarning,
		"info": gateway.SeverityInfo, "none": gateway.SeverityInfo, "": gateway.SeverityWarning, "weird": gateway.SeverityWarning,
	}
	for in, want := range tests {
		if got := gateway.ParseSeverity(in, gateway.SeverityWarning); got != want {
			t.Errorf("ParseSeverity(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestLabelsFingerprint(t *testing.T) {
	a := gateway.LabelsFingerprint(map[string]string{"alertname": "DNS", "instance": "node-1"})
	b := gateway.LabelsFingerprint(map[string]string{"instance": "node-1", "alertname": "DNS"})
	c := gateway.LabelsFingerprint(map[string]string{"alertname": "DNS", "instance": "node-2"})
	// Concatenation must not collide: {"a":"bc"} vs {"ab":"c"}.
	d := gateway.LabelsFingerprint(map[string]string{"a": "bc"})
	e := gateway.LabelsFingerprint(map[string]string{"ab": "c"})
	if a != b || a == c || d == e || len(a) != 32 {
		t.Errorf("fingerprints: %s %s %s %s %s", a, b, c, d, e)
	}
}

func TestIDsAndSecrets(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := gateway.NewID()
		if !regexp.MustCompile(`^[0-9a-z]{16}$`).MatchString(id) || seen[id] {
			t.Fatalf("NewID() = %q (seen %v)", id, seen[id])
		}
		seen[id] = true
	}
	s := gateway.NewSecret("hrld_")
	if len(s) != 5+32 || gateway.SecretPrefix(s) != s[5:9] {
		t.Errorf("NewSecret = %q, prefix %q", s, gateway.SecretPrefix(s))
	}
	// A prefix shows at most 4 characters, and nothing of a short token
	// (such tokens used to be shown whole).
	for secret, want := range map[string]string{"short": "", "abcdefghi": "", "0123456789abcdef": "0123",
		"hsrc_0123456789abcdef": "0123", "Prom-Token-0123456789": "Prom"} {
		if got := gateway.SecretPrefix(secret); got != want {
			t.Errorf("SecretPrefix(%q) = %q, want %q", secret, got, want)
		}
	}
	h := gateway.HashSecret(s)
	if h == s || !gateway.SecretMatches(s, h) || gateway.SecretMatches(s+"x", h) || gateway.SecretMatches("", h) {
		t.Error("SecretMatches does not tell the secret from others")
	}
}

func TestErrors(t *testing.T) {
	base := gateway.FieldError("name", "is required")
	wrapped := fmt.Errorf("store: insert: %w", base)
	if gateway.ErrorCode(wrapped) != gateway.EUNPROCESSABLE || gateway.ErrorMessage(wrapped) != "name: is required" {
		t.Errorf("code %q message %q", gateway.ErrorCode(wrapped), gateway.ErrorMessage(wrapped))
	}
	internal := errors.New("disk on fire")
	if gateway.ErrorCode(internal) != gateway.EINTERNAL || gateway.ErrorMessage(internal) == internal.Error() {
		t.Error("an internal error's details reach the caller")
	}
	if gateway.ErrorCode(nil) != "" {
		t.Error("nil has a code")
	}
}

func TestValidateName(t *testing.T) {
	for _, bad := range []string{"", "   ", "a\nb", "tab\there", string(make([]byte, 101))} {
		if gateway.ValidateName("name", bad) == nil {
			t.Errorf("ValidateName(%q) = nil", bad)
		}
	}
	if err := gateway.ValidateName("name", "Space Module"); err != nil {
		t.Error(err)
	}
}
