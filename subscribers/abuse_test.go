package subscribers_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/subscribers"
)

// TestRepeatSubscribeRevealsNothing: the public answer for a known address
// is the one for a new address, and the confirmation mails to one address
// are rate-limited however often the form is sent.
func TestRepeatSubscribeRevealsNothing(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		req := subscribers.SubscribeRequest{Email: "known@example.com", Components: []string{"Space"}, IP: "198.51.100.1"}
		first, err := e.svc.Subscribe(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		id := e.subscriberID(t, "known@example.com")
		// Active, the hardest case: its status must not show.
		if _, err := e.svc.Confirm(ctx, tokenOf(t, e.confirmations(t, id)[0].Payload.ConfirmURL, "/subscribe/confirm/")); err != nil {
			t.Fatal(err)
		}
		again, err := e.svc.Subscribe(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(first, again) {
			t.Errorf("new address answer %+v, known address answer %+v", first, again)
		}
		fresh, err := e.svc.Subscribe(ctx, subscribers.SubscribeRequest{Email: "fresh@example.com", Components: []string{"Space"}, IP: "198.51.100.1"})
		if err != nil {
			t.Fatal(err)
		}
		fresh.Address = again.Address
		if !reflect.DeepEqual(fresh, again) {
			t.Errorf("answers differ beyond the address: %+v vs %+v", fresh, again)
		}
		// An active subscriber's choice is not a stranger's to change.
		if _, err := e.svc.Subscribe(ctx, subscribers.SubscribeRequest{Email: "known@example.com", Components: []string{"App"}, IP: "198.51.100.1"}); err != nil {
			t.Fatal(err)
		}
		if now, err := st.Subscriber(ctx, id); err != nil {
			t.Fatal(err)
		} else if now.ComponentIDs[0] != e.comps["Space"] || now.Status != gateway.SubscriberActive {
			t.Errorf("a repeat subscribe changed an active subscriber: %+v", now)
		}

		// Three repeats so far for known@: only the first and one resend
		// are allowed at once (ConfirmEvery is 2 minutes).
		if n := len(e.confirmations(t, id)); n != 1 {
			t.Fatalf("%d confirmations within a minute, want 1 (the rest rate-limited)", n)
		}
		e.clock.Add(2 * time.Minute)
		for range 5 {
			if _, err := e.svc.Subscribe(ctx, req); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(e.confirmations(t, id)); n != 2 {
			t.Fatalf("%d confirmations after waiting 2 minutes and subscribing 5 times, want 2", n)
		}
		e.clock.Add(3 * time.Minute) // the second wait is 4 minutes
		if _, err := e.svc.Subscribe(ctx, req); err != nil {
			t.Fatal(err)
		}
		if n := len(e.confirmations(t, id)); n != 2 {
			t.Fatalf("%d confirmations 3 minutes after the second, want still 2", n)
		}
		e.clock.Add(time.Minute)
		if _, err := e.svc.Subscribe(ctx, req); err != nil {
			t.Fatal(err)
		}
		if n := len(e.confirmations(t, id)); n != 3 {
			t.Fatalf("%d confirmations 4 minutes after the second, want 3", n)
		}
	})
}

func TestPerIPRateLimit(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st, func(o *subscribers.Options) { o.IPBurst, o.IPEvery = 3, time.Minute })
		for i := range 3 {
			if _, err := e.svc.Subscribe(ctx, subscribers.SubscribeRequest{Email: "a@example.com", IP: "2001:db8:1:2::7"}); err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
		}
		// Another address in the same /64 shares the allowance.
		_, err := e.svc.Subscribe(ctx, subscribers.SubscribeRequest{Email: "b@example.com", IP: "2001:db8:1:2::8"})
		var ge *gateway.Error
		if gateway.ErrorCode(err) != gateway.ERATELIMITED || !errors.As(err, &ge) || ge.RetryAfter < time.Second {
			t.Fatalf("4th request: %v, want rate limited with Retry-After", err)
		}
		if err := e.svc.AllowIP("198.51.100.9"); err != nil {
			t.Errorf("another client was limited: %v", err)
		}
		e.clock.Add(time.Minute)
		if err := e.svc.AllowIP("2001:db8:1:2::9"); err != nil {
			t.Errorf("after a minute: %v", err)
		}
		// Trusted callers (no IP) are not limited per IP, and the public
		// may not import confirmed subscribers.
		if _, err := e.svc.Subscribe(ctx, subscribers.SubscribeRequest{Email: "c@example.com", Confirmed: true, ConsentSource: "x", IP: "198.51.100.9"}); gateway.ErrorCode(err) != gateway.EFORBIDDEN {
			t.Errorf("public confirmed subscribe: %v, want forbidden", err)
		}
	})
}

func TestSubscribeRefusesBadInput(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		tests := []struct {
			name  string
			req   subscribers.SubscribeRequest
			field string
		}{
			{"header injection", subscribers.SubscribeRequest{Email: "a@example.com\r\nBcc: victim@example.org"}, "email"},
			{"newline", subscribers.SubscribeRequest{Email: "a@example.com\nX: y"}, "email"},
			{"display name", subscribers.SubscribeRequest{Email: "Ops <ops@example.com>"}, "email"},
			{"two addresses", subscribers.SubscribeRequest{Email: "a@example.com, b@example.com"}, "email"},
			{"no domain dot", subscribers.SubscribeRequest{Email: "root@localhost"}, "email"},
			{"nothing", subscribers.SubscribeRequest{}, "email"},
			{"both", subscribers.SubscribeRequest{Email: "a@example.com", URL: "https://hooks.example.com/x"}, "email"},
			{"unknown component", subscribers.SubscribeRequest{Email: "a@example.com", Components: []string{"Nope"}}, "components[0]"},
			{"unknown group", subscribers.SubscribeRequest{Email: "a@example.com", Groups: []string{"Nope"}}, "groups[0]"},
			{"confirmed without consent", subscribers.SubscribeRequest{Email: "a@example.com", Confirmed: true}, "consent_source"},
			{"loopback", subscribers.SubscribeRequest{URL: "http://127.0.0.1:8080/hook"}, "url"},
			{"loopback name", subscribers.SubscribeRequest{URL: "http://localhost/hook"}, "url"},
			{"ipv6 loopback", subscribers.SubscribeRequest{URL: "http://[::1]/hook"}, "url"},
			{"metadata", subscribers.SubscribeRequest{URL: "http://169.254.169.254/latest/meta-data/"}, "url"},
			{"private name", subscribers.SubscribeRequest{URL: "https://internal.example/hook"}, "url"},
			{"one private address", subscribers.SubscribeRequest{URL: "https://mixed.example.com/hook"}, "url"},
			{"decimal ip", subscribers.SubscribeRequest{URL: "http://2130706433/"}, "url"},
			{"mapped ipv6", subscribers.SubscribeRequest{URL: "http://[::ffff:127.0.0.1]/"}, "url"},
			{"scheme", subscribers.SubscribeRequest{URL: "ftp://hooks.example.com/x"}, "url"},
			{"credentials", subscribers.SubscribeRequest{URL: "https://u:p@hooks.example.com/x"}, "url"},
			{"unresolvable", subscribers.SubscribeRequest{URL: "https://nowhere.example.net/x"}, "url"},
			{"too long", subscribers.SubscribeRequest{URL: "https://hooks.example.com/" + string(make([]byte, 2100))}, "url"},
			{"format", subscribers.SubscribeRequest{URL: "https://hooks.example.com/x", Format: "xml"}, "format"},
			{"secret", subscribers.SubscribeRequest{URL: "https://hooks.example.com/x", Secret: "hunter2"}, "secret"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := e.svc.Subscribe(ctx, tt.req)
				if gateway.ErrorCode(err) != gateway.EUNPROCESSABLE || fieldOf(err) != tt.field {
					t.Errorf("Subscribe = %v (field %q), want unprocessable naming %q", err, fieldOf(err), tt.field)
				}
			})
		}
		list, err := st.Subscribers(ctx, store.SubscriberFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 0 {
			t.Errorf("refused requests wrote %d subscribers", len(list))
		}
	})
}
