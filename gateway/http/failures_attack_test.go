package http

import (
	"strconv"
	"testing"
	"time"
)

// TestFailureLimiterMemoryIsBounded: failures from more addresses than
// maxFailureClients never keep more than maxFailureClients buckets, and a
// client that just failed is still limited after the pruning.
func TestFailureLimiterMemoryIsBounded(t *testing.T) {
	l := newFailureLimiter(1, time.Hour)
	now := time.Now()
	for i := range maxFailureClients + 5000 {
		l.fail("10."+strconv.Itoa(i>>16)+"."+strconv.Itoa(i>>8&255)+"."+strconv.Itoa(i&255), now)
		if l.keys.Len() > maxFailureClients {
			t.Fatalf("%d buckets after %d clients, want at most %d", l.keys.Len(), i+1, maxFailureClients)
		}
	}
	l.fail("192.0.2.1", now)
	if l.wait("192.0.2.1", now) <= 0 {
		t.Error("the last client to fail is not limited")
	}
}
