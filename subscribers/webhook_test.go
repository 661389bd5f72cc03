package subscribers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify/webhook"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/subscribers"
)

// TestWebhookSecretIsSealed: the secret is shown once, stored sealed, and
// opened for the dispatcher (Batch) and nowhere else.
func TestWebhookSecretIsSealed(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		sub, err := e.svc.Subscribe(ctx, subscribers.SubscribeRequest{URL: "https://hooks.example.com/status", Components: []string{"App"}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(sub.Secret, webhook.SecretPrefix) || sub.Status != gateway.SubscriberActive || sub.Format != gateway.FormatStatuspage {
			t.Fatalf("created %+v", sub)
		}
		var stored string
		if err := st.DB().QueryRow(storetest.Rebind(st, `SELECT secret FROM subscribers WHERE id = ?`), sub.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored == sub.Secret || strings.Contains(stored, "whsec_") {
			t.Fatalf("the database holds the secret in plain text: %q", stored)
		}
		if got, err := e.svc.Get(ctx, sub.ID); err != nil {
			t.Fatal(err)
		} else if got.Secret != "" {
			t.Error("Get shows the secret")
		}
		if _, err := e.svc.Subscribe(ctx, subscribers.SubscribeRequest{URL: "https://hooks.example.com/status"}); gateway.ErrorCode(err) != gateway.ECONFLICT || fieldOf(err) != "url" {
			t.Errorf("the same URL again: %v, want a conflict on url", err)
		}

		// The dispatcher's view: the plain secret.
		if got := batchSecret(t, e, sub.ID); got != sub.Secret {
			t.Errorf("Batch opened %q, want the secret", got)
		}
		rotated, err := e.svc.RotateSecret(ctx, gateway.Automation, sub.ID)
		if err != nil || rotated.Secret == sub.Secret || !strings.HasPrefix(rotated.Secret, "whsec_") {
			t.Fatalf("RotateSecret = %+v, %v", rotated, err)
		}
		if got := batchSecret(t, e, sub.ID); got != rotated.Secret {
			t.Errorf("after rotation Batch opened %q, want the new secret", got)
		}
		// A subscriber's own secret is kept as given.
		own := webhook.NewSecret()
		mine, err := e.svc.Subscribe(ctx, subscribers.SubscribeRequest{URL: "https://hooks.example.com/mine", Secret: own, Format: gateway.FormatSlack})
		if err != nil || mine.Secret != own || batchSecret(t, e, mine.ID) != own {
			t.Errorf("own secret: %+v, %v", mine, err)
		}
		// Rotating an email subscriber's secret makes no sense.
		if _, err := e.svc.Subscribe(ctx, subscribers.SubscribeRequest{Email: "a@example.com"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.RotateSecret(ctx, gateway.Automation, e.subscriberID(t, "a@example.com")); gateway.ErrorCode(err) != gateway.EUNPROCESSABLE {
			t.Errorf("rotating an email subscriber: %v", err)
		}
	})
}

// batchSecret plans a test event to a subscriber, claims it as the
// dispatcher does and returns the secret Batch loads.
func batchSecret(t *testing.T, e *env, id string) string {
	t.Helper()
	ctx := context.Background()
	ev := gateway.Event{Type: gateway.EventTest, SubscriberID: id, Notify: true}
	if err := e.st.CreateEvent(ctx, &ev); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.PlanEvent(ctx, ev.ID); err != nil {
		t.Fatal(err)
	}
	owner := "test:" + ev.ID
	claimed, err := e.st.ClaimDeliveries(ctx, owner, gateway.ChannelWebhook, 10, time.Minute, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, recipients, err := e.st.Batch(ctx, claimed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.ReleaseDeliveries(ctx, owner); err != nil {
		t.Fatal(err)
	}
	r := recipients[id]
	if r == nil {
		t.Fatalf("subscriber %s not in its batch", id)
	}
	return r.Secret
}

// TestPlainSecretsStillOpen: secrets written before sealing existed (in
// plain text) keep working.
func TestPlainSecretsStillOpen(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		id := storetest.AddSubscriber(t, st, storetest.Subscriber{Kind: gateway.SubscriberWebhook, Address: "https://hooks.example.com/old", All: true})
		plain := webhook.NewSecret()
		storetest.Exec(t, st, `UPDATE subscribers SET secret = ? WHERE id = ?`, plain, id)
		if got := batchSecret(t, e, id); got != plain {
			t.Errorf("Batch = %q, want the plain secret", got)
		}
	})
}
