package notify

import (
	"strings"
	"testing"
)

// TestFailurePolicy: the policy, not the store, decides what a failure
// does to a subscriber: permanent failures count and disable at the
// threshold (never when it is off), Gone disables at once, a success
// clears a count only when there is one.
func TestFailurePolicy(t *testing.T) {
	p := FailurePolicy{DisableAfter: 3}
	if c := p.Change(FailureNone, true, false, ""); c.ClearFailures || c.CountFailure || c.Disable != nil {
		t.Errorf("a success without failures changes the subscriber: %+v", c)
	}
	if c := p.Change(FailureNone, true, true, ""); !c.ClearFailures || c.CountFailure || c.Disable != nil {
		t.Errorf("a success after failures does not only clear them: %+v", c)
	}
	if c := p.Change(FailureNone, false, true, "451"); c.ClearFailures || c.CountFailure || c.Disable != nil {
		t.Errorf("a temporary failure changes the subscriber: %+v", c)
	}
	c := p.Change(FailurePermanent, false, false, "550 no such user")
	if !c.CountFailure || c.Disable == nil {
		t.Fatalf("a permanent failure is not counted: %+v", c)
	}
	if _, _, ok := c.Disable(2); ok {
		t.Error("disabled below the threshold")
	}
	if reason, detail, ok := c.Disable(3); !ok || reason != "failures" || !strings.Contains(detail, "3 permanent failures in a row, the last: 550 no such user") {
		t.Errorf("at the threshold: %q %q %v", reason, detail, ok)
	}
	if _, _, ok := (FailurePolicy{DisableAfter: -1}).Change(FailurePermanent, false, false, "x").Disable(100); ok {
		t.Error("disabled with the threshold off")
	}
	g := p.Change(FailureGone, false, false, "410 Gone")
	if g.CountFailure || g.Disable == nil {
		t.Fatalf("Gone: %+v", g)
	}
	if reason, detail, ok := g.Disable(0); !ok || reason != "bounce" || detail != "gone: 410 Gone" {
		t.Errorf("Gone: %q %q %v", reason, detail, ok)
	}
}
