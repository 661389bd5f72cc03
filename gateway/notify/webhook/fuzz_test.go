package webhook

import (
	"testing"
	"time"
)

// FuzzRetryAfter: a receiver's Retry-After, whatever it says, gives a wait
// between zero and a year, and never a panic.
func FuzzRetryAfter(f *testing.F) {
	now := time.Date(2021, 9, 16, 14, 52, 3, 0, time.UTC)
	for _, s := range []string{"120", "0", "-1", "Thu, 16 Sep 2021 15:00:00 GMT", "Monday, 02-Jan-06 15:04:05 MST", "9999999999999999999", " 30 ", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if d := retryAfter(v, now); d < 0 || d > maxRetryAfter {
			t.Fatalf("retryAfter(%q) = %v, want 0 to %v", v, d, maxRetryAfter)
		}
	})
}
