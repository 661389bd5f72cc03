package notify_test

import (
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway/notify"
)

func TestBackoff(t *testing.T) {
	low := notify.Backoff{Rand: func() float64 { return 0 }}
	high := notify.Backoff{Rand: func() float64 { return 0.999999 }}
	exact := notify.Backoff{Jitter: -1}
	if got := exact.MaxAttempts(); got != 8 {
		t.Errorf("MaxAttempts = %d, want 8 (one try and the seven waits of the schedule)", got)
	}
	var total time.Duration
	for i, want := range notify.DefaultSchedule {
		attempt := i + 1
		got, ok := exact.Next(attempt, 0)
		if !ok || got != want {
			t.Errorf("Next(%d) = %s, %v; want %s", attempt, got, ok, want)
		}
		total += got
		if lo, _ := low.Next(attempt, 0); lo != time.Duration(float64(want)*0.8) {
			t.Errorf("Next(%d) with the lowest jitter = %s, want %s", attempt, lo, time.Duration(float64(want)*0.8))
		}
		if hi, _ := high.Next(attempt, 0); hi < time.Duration(float64(want)*1.19) || hi > time.Duration(float64(want)*1.2) {
			t.Errorf("Next(%d) with the highest jitter = %s, want about %s", attempt, hi, time.Duration(float64(want)*1.2))
		}
	}
	if total < 24*time.Hour || total > 30*time.Hour {
		t.Errorf("the schedule spans %s, want about a day", total)
	}
	if _, ok := exact.Next(8, 0); ok {
		t.Error("Next after the eighth attempt says retry, want dead")
	}
	for _, tt := range []struct{ in, want time.Duration }{
		{time.Millisecond, notify.MinRetryAfter}, {90 * time.Second, 90 * time.Second}, {48 * time.Hour, notify.MaxRetryAfter},
	} {
		if got, ok := low.Next(2, tt.in); !ok || got != tt.want {
			t.Errorf("Next with Retry-After %s = %s, want %s", tt.in, got, tt.want)
		}
	}
	if _, ok := exact.Next(8, time.Minute); ok {
		t.Error("Retry-After extends the schedule past its last attempt")
	}
}
