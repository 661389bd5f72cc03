package subscribers_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/subscribers"
)

var admin = gateway.Principal{Kind: "api_key", ID: "k1", Name: "ops-admin", Role: gateway.RoleAdmin}

// TestErasure: the row goes, the links die, and nothing in the audit log
// or the remaining tables holds the address.
func TestErasure(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		const addr = "erase.me@example.com"
		sub, err := e.svc.Subscribe(ctx, subscribers.SubscribeRequest{Email: addr, Confirmed: true, ConsentSource: "signed contract", Actor: admin, Components: []string{"Space"}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Subscribe(ctx, subscribers.SubscribeRequest{Email: "other@example.com", Actor: admin})
		if err != nil {
			t.Fatal(err)
		}
		if !e.notify(t, "Space")[sub.ID] {
			t.Fatal("the subscriber got no delivery before erasure")
		}
		manage, unsub := e.svc.Links(sub)
		if err := e.svc.Suppress(ctx, addr, subscribers.ReasonComplaint, "550 5.7.1 <"+addr+"> complained"); err != nil {
			t.Fatal(err)
		}

		if err := e.svc.Erase(ctx, admin, sub.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Erase(ctx, admin, sub.ID); gateway.ErrorCode(err) != gateway.ENOTFOUND {
			t.Errorf("erasing twice: %v", err)
		}
		if _, err := st.Subscriber(ctx, sub.ID); gateway.ErrorCode(err) != gateway.ENOTFOUND {
			t.Errorf("the row is still there: %v", err)
		}
		if _, err := e.svc.ByManageToken(ctx, tokenOf(t, manage, "/subscriptions/")); !errors.Is(err, subscribers.ErrInvalidLink) {
			t.Errorf("manage link after erasure: %v", err)
		}
		if err := e.svc.Unsubscribe(ctx, tokenOf(t, unsub, "/unsubscribe/")); !errors.Is(err, subscribers.ErrInvalidLink) {
			t.Errorf("unsubscribe link after erasure: %v", err)
		}
		// The address appears nowhere; the suppression stays, as a hash.
		for _, table := range []string{"subscribers", "audit_log", "events", "deliveries", "delivery_attempts", "suppressions", "settings"} {
			if n := countContaining(t, st, table, addr); n != 0 {
				t.Errorf("%s: %d rows still hold the address", table, n)
			}
		}
		if r, err := st.Suppression(ctx, addr); err != nil {
			t.Fatal(err)
		} else if r != subscribers.ReasonComplaint {
			t.Errorf("suppression after erasure = %q, want complaint", r)
		}
		entries, err := st.AuditLog(ctx, store.AuditQuery{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, a := range entries {
			found = found || a.Action == "subscriber.erase" && a.TargetID == sub.ID && a.Actor == admin.Name
		}
		if !found {
			t.Errorf("no subscriber.erase audit entry in %+v", entries)
		}
	})
}

// countContaining counts a table's rows whose text (all columns, as the
// database renders them) contains s.
func countContaining(t *testing.T, st *store.Store, table, s string) int {
	t.Helper()
	rows, err := st.DB().Query("SELECT * FROM " + table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	n := 0
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.ToLower(fmt.Sprintf("%s", vals)), strings.ToLower(s)) {
			n++
		}
	}
	return n
}

// TestSuppressDisablesWithReason: a hard bounce disables the subscriber
// with its reason shown, and the planner skips it.
func TestSuppressDisablesWithReason(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		sub, err := e.svc.Subscribe(ctx, subscribers.SubscribeRequest{Email: "bounce@example.com", Confirmed: true, ConsentSource: "import", Actor: admin})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Suppress(ctx, "bounce@EXAMPLE.com", "typo", ""); fieldOf(err) != "reason" {
			t.Errorf("unknown reason: %v", err)
		}
		if err := e.svc.Suppress(ctx, "bounce@EXAMPLE.com", subscribers.ReasonBounce, "550 5.1.1 user unknown"); err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.Get(ctx, sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != gateway.SubscriberDisabled || got.DisabledReason != "bounce: 550 5.1.1 user unknown" {
			t.Errorf("after a bounce: status %s, reason %q", got.Status, got.DisabledReason)
		}
		if e.notify(t, "App")[sub.ID] {
			t.Error("a bounced address was planned a delivery")
		}
		// A repeat subscribe cannot lift a bounce.
		if _, err := e.svc.Subscribe(ctx, subscribers.SubscribeRequest{Email: "bounce@example.com", IP: "198.51.100.3"}); err != nil {
			t.Fatal(err)
		}
		if r, err := st.Suppression(ctx, "bounce@example.com"); err != nil {
			t.Fatal(err)
		} else if r != subscribers.ReasonBounce {
			t.Errorf("suppression = %q after a repeat subscribe, want bounce", r)
		}
		// Nor can staff: a bounced address stays stopped.
		active := gateway.SubscriberActive
		if _, err = e.svc.Update(ctx, admin, sub.ID, subscribers.Patch{Status: &active}); gateway.ErrorCode(err) != gateway.ECONFLICT {
			t.Fatalf("re-enabling a bounced address: %v, want conflict", err)
		}
		if e.notify(t, "App")[sub.ID] {
			t.Error("a bounced address was planned a delivery after a refused re-enable")
		}
	})
}

func TestAdminListAndUpdate(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		for i := range 25 {
			if _, err := e.svc.Subscribe(ctx, subscribers.SubscribeRequest{Email: fmt.Sprintf("user%02d@Example.com", i), Actor: admin}); err != nil {
				t.Fatal(err)
			}
			e.clock.Add(1)
		}
		seen, cursor := map[string]bool{}, ""
		for page := 0; ; page++ {
			list, next, err := e.svc.List(ctx, subscribers.ListFilter{Query: "USER", Cursor: cursor, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range list {
				if seen[s.ID] {
					t.Errorf("%s listed twice", s.Address)
				}
				seen[s.ID] = true
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if len(seen) != 25 {
			t.Errorf("paged through %d subscribers, want 25", len(seen))
		}
		list, _, err := e.svc.List(ctx, subscribers.ListFilter{Query: "user07@"})
		if err != nil || len(list) != 1 || list[0].Address != "user07@example.com" {
			t.Fatalf("search: %+v, %v", list, err)
		}
		if _, _, err := e.svc.List(ctx, subscribers.ListFilter{Cursor: "nope"}); fieldOf(err) != "cursor" {
			t.Errorf("bad cursor: %v", err)
		}
		if _, _, err := e.svc.List(ctx, subscribers.ListFilter{Query: "%_", Status: gateway.SubscriberActive}); err != nil {
			t.Errorf("wildcards in the search: %v", err)
		}
		comps := []string{"Move", e.comps["App"]}
		got, err := e.svc.Update(ctx, admin, list[0].ID, subscribers.Patch{Components: &comps})
		if err != nil || got.AllComponents || len(got.ComponentIDs) != 2 {
			t.Fatalf("Update = %+v, %v", got, err)
		}
		f := gateway.FormatSlack
		if _, err := e.svc.Update(ctx, admin, list[0].ID, subscribers.Patch{Format: &f}); fieldOf(err) != "format" {
			t.Errorf("format on an email subscriber: %v", err)
		}
		active := gateway.SubscriberActive
		if _, err := e.svc.Update(ctx, admin, list[0].ID, subscribers.Patch{Status: &active}); gateway.ErrorCode(err) != gateway.ECONFLICT {
			t.Errorf("activating a never-confirmed subscriber: %v, want conflict", err)
		}
	})
}
