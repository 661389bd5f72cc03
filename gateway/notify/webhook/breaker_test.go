package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify/webhook"
)

// TestCircuitBreaker: after BreakAfter consecutive temporary failures a
// host gets no requests for BreakFor (each delivery fails at once as
// temporary, with the rest of the pause as Retry-After) while other hosts
// are served; after the pause one failure opens it again, a success
// closes it.
func TestCircuitBreaker(t *testing.T) {
	var healthy atomic.Bool
	dead := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		if !healthy.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
		}
	})
	other := newReceiver(t, nil)
	clock := now
	n := newNotifier(t, webhook.Options{BreakAfter: 3, BreakFor: time.Hour, Now: func() time.Time { return clock }})
	send := func(url string) (time.Duration, bool, error) {
		t.Helper()
		res, retry, err := n.Notify(context.Background(), message(t, gateway.EventTest, gateway.FormatGeneric, url, 1))
		return res.RetryAfter, retry, err
	}

	for i := range 3 {
		if _, retry, err := send(dead.URL); !retry || err == nil || errors.Is(err, webhook.ErrCircuitOpen) {
			t.Fatalf("failure %d: retry=%v err=%v, want a temporary 503", i+1, retry, err)
		}
	}
	clock = clock.Add(10 * time.Minute)
	wait, retry, err := send(dead.URL)
	if !retry || !errors.Is(err, webhook.ErrCircuitOpen) || wait != 50*time.Minute {
		t.Errorf("open: retry=%v wait=%v err=%v, want temporary, 50m, ErrCircuitOpen", retry, wait, err)
	}
	if got := len(dead.got()); got != 3 {
		t.Errorf("the dead host got %d requests, want 3", got)
	}
	if _, _, err := send(other.URL); err != nil {
		t.Errorf("another host: %v, want it served", err)
	}

	// Half-open: after the pause one request goes; its failure reopens.
	clock = clock.Add(time.Hour)
	if _, _, err := send(dead.URL); err == nil || errors.Is(err, webhook.ErrCircuitOpen) {
		t.Errorf("after the pause: %v, want the receiver's 503", err)
	}
	if _, _, err := send(dead.URL); !errors.Is(err, webhook.ErrCircuitOpen) {
		t.Errorf("after a failed probe: %v, want ErrCircuitOpen", err)
	}

	// A success closes it: failures count from zero again.
	clock = clock.Add(time.Hour)
	healthy.Store(true)
	if _, _, err := send(dead.URL); err != nil {
		t.Fatalf("recovered host: %v", err)
	}
	healthy.Store(false)
	for i := range 2 {
		if _, _, err := send(dead.URL); errors.Is(err, webhook.ErrCircuitOpen) {
			t.Errorf("failure %d after a success opened the circuit", i+1)
		}
	}
	if got := len(dead.got()); got != 7 {
		t.Errorf("the dead host got %d requests, want 7", got)
	}

	// Disabled: failures never stop requests.
	off := newNotifier(t, webhook.Options{BreakAfter: -1})
	for range 5 {
		if _, _, err := off.Notify(context.Background(), message(t, gateway.EventTest, gateway.FormatGeneric, dead.URL, 1)); errors.Is(err, webhook.ErrCircuitOpen) {
			t.Fatal("a disabled breaker opened")
		}
	}
}
