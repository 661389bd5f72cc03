package subscribers_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/subscribers"
)

// TestLifeOfAnEmailSubscriber walks one subscriber from the public form to
// the one-click unsubscribe, checking at each step what the planner would
// send them.
func TestLifeOfAnEmailSubscriber(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st)

		// Subscribe from the public form: a receipt, no id.
		got, err := e.svc.Subscribe(ctx, subscribers.SubscribeRequest{Email: " Ops@Example.COM ", Components: []string{"Space"}, IP: "198.51.100.7"})
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != "" || got.Address != "Ops@example.com" || got.Status != gateway.SubscriberPending {
			t.Fatalf("receipt = %+v", got)
		}
		id := e.subscriberID(t, "Ops@example.com")

		// The confirmation is an event to this subscriber alone, planned
		// although it is pending.
		confs := e.confirmations(t, id)
		if len(confs) != 1 || confs[0].SubscriberID != id || !confs[0].Notify {
			t.Fatalf("confirmation events = %+v", confs)
		}
		if n, err := st.PlanEvent(ctx, confs[0].ID); err != nil || n != 1 || !e.deliveredTo(t, confs[0].ID)[id] {
			t.Fatalf("planning the confirmation: %d deliveries, %v", n, err)
		}
		// Unconfirmed: nothing but the confirmation.
		if e.notify(t, "Space")[id] {
			t.Fatal("a pending subscriber was planned an incident update")
		}

		// Confirm, twice: idempotent.
		token := tokenOf(t, confs[0].Payload.ConfirmURL, "/subscribe/confirm/")
		for range 2 {
			sub, err := e.svc.Confirm(ctx, token)
			if err != nil || sub.Status != gateway.SubscriberActive || sub.ID != id {
				t.Fatalf("Confirm = %+v, %v", sub, err)
			}
		}
		if !e.notify(t, "Space")[id] {
			t.Error("a confirmed subscriber of Space got nothing about Space")
		}
		if e.notify(t, "App")[id] {
			t.Error("a subscriber of Space got news of App")
		}

		// Manage: move to the Modules group.
		sub, err := st.Subscriber(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		manage, unsub := e.svc.Links(sub)
		mtok, utok := tokenOf(t, manage, "/subscriptions/"), tokenOf(t, unsub, "/unsubscribe/")
		if strings.Contains(mtok+utok, sub.TokenNonce) {
			t.Error("a token carries the nonce")
		}
		if m, err := e.svc.ByManageToken(ctx, mtok); err != nil || m.ID != id || m.ComponentIDs[0] != e.comps["Space"] {
			t.Fatalf("ByManageToken = %+v, %v", m, err)
		}
		if _, err := e.svc.ByManageToken(ctx, utok); !errors.Is(err, subscribers.ErrInvalidLink) {
			t.Errorf("an unsubscribe token opened the manage page: %v", err)
		}
		m, err := e.svc.SetSubscriptions(ctx, mtok, false, nil, []string{"Modules"})
		if err != nil || len(m.GroupIDs) != 1 || len(m.ComponentIDs) != 0 {
			t.Fatalf("SetSubscriptions = %+v, %v", m, err)
		}
		if !e.notify(t, "Move")[id] {
			t.Error("a subscriber of the Modules group got nothing about Move")
		}
		if e.notify(t, "App")[id] {
			t.Error("a subscriber of Modules got news of App")
		}

		// One-click unsubscribe, twice: immediate and idempotent.
		for range 2 {
			if err := e.svc.Unsubscribe(ctx, utok); err != nil {
				t.Fatal(err)
			}
		}
		if e.notify(t, "Move", "Space", "App")[id] {
			t.Error("an unsubscribed subscriber was planned a delivery")
		}
		if r, err := st.Suppression(ctx, "Ops@example.com"); err != nil || r != "unsubscribe" {
			t.Errorf("suppression = %q, %v; want unsubscribe", r, err)
		}
		after, err := st.Subscriber(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if after.Status != gateway.SubscriberUnsubscribed || after.UnsubscribedAt.IsZero() {
			t.Errorf("after unsubscribing: %+v", after)
		}
		if _, err := e.svc.SetSubscriptions(ctx, mtok, true, nil, nil); gateway.ErrorCode(err) != gateway.ECONFLICT {
			t.Errorf("managing an ended subscription: %v, want conflict", err)
		}

		// Subscribing again goes through double opt-in once more (after
		// the per-address wait since the last confirmation mail).
		e.clock.Add(2 * time.Minute)
		if _, err := e.svc.Subscribe(ctx, subscribers.SubscribeRequest{Email: "Ops@example.com", IP: "198.51.100.7"}); err != nil {
			t.Fatal(err)
		}
		confs = e.confirmations(t, id)
		if len(confs) != 2 {
			t.Fatalf("%d confirmations after subscribing again, want 2", len(confs))
		}
		if e.notify(t, "App")[id] {
			t.Error("a re-subscribed, unconfirmed subscriber was planned an update")
		}
		if _, err := e.svc.Confirm(ctx, tokenOf(t, confs[1].Payload.ConfirmURL, "/subscribe/confirm/")); err != nil {
			t.Fatal(err)
		}
		if !e.notify(t, "App")[id] {
			t.Error("re-confirmed whole-page subscriber got nothing")
		}
	})
}

func TestConfirmLinkExpires(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		if _, err := e.svc.Subscribe(ctx, subscribers.SubscribeRequest{Email: "late@example.com"}); err != nil {
			t.Fatal(err)
		}
		confs := e.confirmations(t, e.subscriberID(t, "late@example.com"))
		token := tokenOf(t, confs[0].Payload.ConfirmURL, "/subscribe/confirm/")
		e.clock.Add(7*24*time.Hour + time.Second)
		if _, err := e.svc.Confirm(ctx, token); !errors.Is(err, subscribers.ErrLinkExpired) || gateway.ErrorCode(err) != gateway.ENOTFOUND {
			t.Errorf("an expired link: %v", err)
		}
		for _, bad := range []string{"", "c", token + "x", strings.Replace(token, "c.", "m.", 1), "m.x.y", "u..AAAAAAAAAAAAAAAAAAAAAA"} {
			if _, err := e.svc.Confirm(ctx, bad); !errors.Is(err, subscribers.ErrInvalidLink) {
				t.Errorf("Confirm(%q) = %v, want an invalid link", bad, err)
			}
		}
	})
}
