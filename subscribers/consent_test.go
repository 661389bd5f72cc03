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

var support = gateway.Principal{Kind: "api_key", ID: "k2", Name: "ops-support", Role: gateway.RoleSupport}

// wantRule checks err is the ECONFLICT refusal of a consent rule.
func wantRule(t *testing.T, what string, err error, rule string) {
	t.Helper()
	var ce *subscribers.ConsentError
	if gateway.ErrorCode(err) != gateway.ECONFLICT || !errors.As(err, &ce) || ce.Rule != rule ||
		!strings.Contains(gateway.ErrorMessage(err), rule) {
		t.Errorf("%s: %v, want a conflict naming the consent rule %s", what, err, rule)
	}
}

// auditActions returns the audit log's actions on a subscriber with the
// rule of each refusal, oldest first: "subscriber.update.refused:unsubscribed".
func auditActions(t *testing.T, st *store.Store, subID string) []string {
	t.Helper()
	log, err := st.AuditLog(context.Background(), store.AuditQuery{Action: "subscriber."}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(log) - 1; i >= 0; i-- {
		if a := log[i]; a.TargetID == subID {
			s := a.Action
			if r, ok := a.Detail["rule"].(string); ok {
				s += ":" + r
			}
			out = append(out, s)
		}
	}
	return out
}

// Consent is the subscriber's: no staff action makes an unsubscribed,
// bounced, suppressed or never-confirmed subscriber active, whoever asks
// and whatever consent_source they give; each refusal is a conflict
// naming its rule and is in the audit log; nothing is planned for them.
// The one change staff may undo is their own pause.
func TestStaffCannotActivateWithoutConsent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		add := func(addr string, confirmed bool) *gateway.Subscriber {
			t.Helper()
			r := subscribers.SubscribeRequest{Email: addr, Actor: admin, Confirmed: confirmed}
			if confirmed {
				r.ConsentSource = "signed order form"
			}
			sub, err := e.svc.Subscribe(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			return sub
		}
		left, never, bounced, paused := add("left@example.com", true), add("never@example.com", false),
			add("bounced@example.com", true), add("paused@example.com", true)
		unsub, active, disabled := gateway.SubscriberUnsubscribed, gateway.SubscriberActive, gateway.SubscriberDisabled
		if _, err := e.svc.Update(ctx, support, left.ID, subscribers.Patch{Status: &unsub}); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Suppress(ctx, "bounced@example.com", subscribers.ReasonBounce, "550 user unknown"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Update(ctx, support, paused.ID, subscribers.Patch{Status: &disabled}); err != nil {
			t.Fatal(err)
		}
		source := "customer asked on the phone"
		for _, who := range []gateway.Principal{support, admin} {
			for _, tc := range []struct {
				sub  *gateway.Subscriber
				rule string
			}{{left, subscribers.RuleSuppressed}, {never, subscribers.RuleNeverConfirmed}, {bounced, subscribers.RuleSuppressed}} {
				_, err := e.svc.Update(ctx, who, tc.sub.ID, subscribers.Patch{Status: &active, ConsentSource: &source})
				wantRule(t, who.Name+" activates "+tc.sub.Address, err, tc.rule)
			}
		}
		// Admin "confirmed" subscribes of known addresses are refused too.
		for _, tc := range []struct{ addr, rule string }{
			{"left@example.com", subscribers.RuleSuppressed}, {"never@example.com", subscribers.RuleNeverConfirmed},
		} {
			_, err := e.svc.Subscribe(ctx, subscribers.SubscribeRequest{Email: tc.addr, Confirmed: true, ConsentSource: source, Actor: admin})
			wantRule(t, "confirmed subscribe of "+tc.addr, err, tc.rule)
		}
		// Nor can an unsubscribed subscriber be paused, which would make it
		// look resumable.
		if _, err := e.svc.Update(ctx, support, left.ID, subscribers.Patch{Status: &disabled}); gateway.ErrorCode(err) != gateway.ECONFLICT {
			t.Errorf("pausing an unsubscribed subscriber: %v, want conflict", err)
		}
		for _, s := range []*gateway.Subscriber{left, never, bounced} {
			got, err := e.svc.Get(ctx, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status == gateway.SubscriberActive {
				t.Errorf("%s became active", s.Address)
			}
		}
		if r, err := st.Suppression(ctx, "left@example.com"); err != nil || r != subscribers.ReasonUnsubscribe {
			t.Errorf("the unsubscribe suppression is %q, %v after the refusals, want it kept", r, err)
		}
		planned := e.notify(t, "App")
		for _, s := range []*gateway.Subscriber{left, never, bounced, paused} {
			if planned[s.ID] {
				t.Errorf("%s was planned a delivery", s.Address)
			}
		}
		if got := auditActions(t, st, left.ID); !containsAll(got, "subscriber.update.refused:suppressed") {
			t.Errorf("audit of %s: %v", left.Address, got)
		}
		if got := auditActions(t, st, never.ID); !containsAll(got, "subscriber.update.refused:never_confirmed", "subscriber.subscribe.refused:never_confirmed") {
			t.Errorf("audit of %s: %v", never.Address, got)
		}

		// Staff's own pause is theirs to lift, and audited as an update.
		got, err := e.svc.Update(ctx, support, paused.ID, subscribers.Patch{Status: &active})
		if err != nil || got.Status != gateway.SubscriberActive {
			t.Fatalf("resuming a paused subscriber: %+v, %v", got, err)
		}
		if !e.notify(t, "App")[paused.ID] {
			t.Error("a resumed subscriber got nothing")
		}
		if got := auditActions(t, st, paused.ID); !containsAll(got, "subscriber.update") {
			t.Errorf("audit of %s: %v", paused.Address, got)
		}

		// An erased address that had unsubscribed keeps its suppression; a
		// confirmed subscribe of it is refused.
		if err := e.svc.Erase(ctx, admin, left.ID); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Subscribe(ctx, subscribers.SubscribeRequest{Email: "left@example.com", Confirmed: true, ConsentSource: source, Actor: admin})
		wantRule(t, "confirmed subscribe of an erased, unsubscribed address", err, subscribers.RuleSuppressed)
	})
}

func containsAll(have []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}

// Reconfirm sends a fresh confirmation, spaced out per address, and makes
// no one active: the unsubscribed person becomes pending, gets nothing
// but the confirmation, and is active only after their own click.
func TestReconfirm(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		sub, err := e.svc.Subscribe(ctx, subscribers.SubscribeRequest{Email: "back@example.com", Confirmed: true, ConsentSource: "form", Actor: admin})
		if err != nil {
			t.Fatal(err)
		}
		_, unsubLink := e.svc.Links(sub)
		if err := e.svc.Unsubscribe(ctx, tokenOf(t, unsubLink, "/unsubscribe/")); err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.Reconfirm(ctx, support, sub.ID)
		if err != nil || got.Status != gateway.SubscriberPending {
			t.Fatalf("Reconfirm = %+v, %v; want pending", got, err)
		}
		confs := e.confirmations(t, sub.ID)
		if len(confs) != 1 || confs[0].Actor != support.Name {
			t.Fatalf("confirmations = %d, want one by %s", len(confs), support.Name)
		}
		if e.notify(t, "App")[sub.ID] {
			t.Error("a reconfirmed, unclicked subscriber was planned a delivery")
		}
		// Again at once: the per-address spacing holds, and says how long.
		_, err = e.svc.Reconfirm(ctx, support, sub.ID)
		var ge *gateway.Error
		if gateway.ErrorCode(err) != gateway.ERATELIMITED || !errors.As(err, &ge) || ge.RetryAfter <= 0 {
			t.Errorf("a second reconfirm at once: %v, want rate limited with a wait", err)
		}
		if len(e.confirmations(t, sub.ID)) != 1 {
			t.Error("a second confirmation went out at once")
		}
		e.clock.Add(time.Hour)
		if _, err := e.svc.Reconfirm(ctx, admin, sub.ID); err != nil {
			t.Errorf("a reconfirm an hour later: %v", err)
		}
		// Only the click activates.
		if _, err := e.svc.Confirm(ctx, tokenOf(t, confs[0].Payload.ConfirmURL, "/subscribe/confirm/")); err != nil {
			t.Fatal(err)
		}
		if !e.notify(t, "App")[sub.ID] {
			t.Error("the person confirmed and got nothing")
		}
		_, err = e.svc.Reconfirm(ctx, support, sub.ID)
		wantRule(t, "reconfirm an active subscriber", err, subscribers.RuleActive)
		got2 := auditActions(t, st, sub.ID)
		if !containsAll(got2, "subscriber.reconfirm", "subscriber.reconfirm.refused:rate_limit", "subscriber.confirm", "subscriber.reconfirm.refused:already_active") {
			t.Errorf("audit: %v", got2)
		}

		// Never to a bounced address, nor to a webhook.
		bounced, err := e.svc.Subscribe(ctx, subscribers.SubscribeRequest{Email: "gone@example.com", Actor: admin})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Suppress(ctx, "gone@example.com", subscribers.ReasonComplaint, ""); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Reconfirm(ctx, support, bounced.ID)
		wantRule(t, "reconfirm a complaint", err, subscribers.RuleSuppressed)
		hook, err := e.svc.Subscribe(ctx, subscribers.SubscribeRequest{URL: "https://hooks.example.com/x", Actor: admin})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Reconfirm(ctx, support, hook.ID)
		wantRule(t, "reconfirm a webhook", err, subscribers.RuleNoConfirmation)
		if _, err := e.svc.Reconfirm(ctx, support, "nope"); gateway.ErrorCode(err) != gateway.ENOTFOUND {
			t.Errorf("reconfirm an unknown id: %v", err)
		}
	})
}

// An admin import of confirmed rows keeps its consent source and never
// overrides a suppression or a known subscriber's state.
func TestImportKeepsConsent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		left, err := e.svc.Subscribe(ctx, subscribers.SubscribeRequest{Email: "left@example.com", Confirmed: true, ConsentSource: "form", Actor: admin})
		if err != nil {
			t.Fatal(err)
		}
		unsub := gateway.SubscriberUnsubscribed
		if _, err := e.svc.Update(ctx, support, left.ID, subscribers.Patch{Status: &unsub}); err != nil {
			t.Fatal(err)
		}
		never, err := e.svc.Subscribe(ctx, subscribers.SubscribeRequest{Email: "never@example.com", Actor: admin})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Suppress(ctx, "erased@example.com", subscribers.ReasonBounce, ""); err != nil {
			t.Fatal(err)
		}
		csv := "email,components,confirmed\nleft@example.com,,true\nnever@example.com,,true\nerased@example.com,,true\nnew@example.com,,true\n"
		rep, err := e.svc.Import(ctx, admin, strings.NewReader(csv), subscribers.ImportOptions{ConsentSource: "CRM export 2026-02"})
		if err != nil {
			t.Fatal(err)
		}
		// left@ is on the list (it unsubscribed), as erased@ is (it bounced).
		if rep.Added != 1 || rep.Existing != 1 || rep.Suppressed != 2 {
			t.Errorf("report %+v, want 1 added, 1 existing, 2 suppressed", rep)
		}
		for id, want := range map[string]gateway.SubscriberStatus{left.ID: unsub, never.ID: gateway.SubscriberPending} {
			if got, err := e.svc.Get(ctx, id); err != nil || got.Status != want {
				t.Errorf("%s after the import: %+v, %v, want %s", id, got, err, want)
			}
		}
		n, err := st.SubscriberByAddress(ctx, gateway.SubscriberEmail, "new@example.com")
		if err != nil || n.Status != gateway.SubscriberActive || n.ConsentSource != "CRM export 2026-02" {
			t.Errorf("the new confirmed row: %+v, %v; want active with the consent source", n, err)
		}
		if _, err := st.SubscriberByAddress(ctx, gateway.SubscriberEmail, "erased@example.com"); err == nil {
			t.Error("a suppressed address was imported")
		}
		if r, err := st.Suppression(ctx, "left@example.com"); err != nil || r != subscribers.ReasonUnsubscribe {
			t.Errorf("suppression of left@ after the import: %q, %v", r, err)
		}
	})
}
