package http_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/channels"
	"github.com/heraldstatus/herald/gateway/config"
	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/templates"
)

// pagerNotifier is the Notifier of the test's channel: it records what it
// was given to send.
type pagerNotifier struct {
	mu   sync.Mutex
	sent []*notify.Message
}

func (p *pagerNotifier) Notify(_ context.Context, m *notify.Message) (notify.Result, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent = append(p.sent, m)
	return notify.Result{Code: 200}, false, nil
}

func (p *pagerNotifier) messages() []*notify.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*notify.Message(nil), p.sent...)
}

// TestNewChannelNeedsNoOtherEdit adds a channel the way a contributor
// would (a notify.Channel with its Notifier and its address check, listed
// in gateway/channels; here by channels.Register) and nothing else: no
// migration, no enum, no edit of package subscribers. Staff add a
// subscriber of its kind through the API, an incident is published, and
// start-up's way of building the notifiers and the real dispatcher bring
// exactly one message to it.
func TestNewChannelNeedsNoOtherEdit(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		pager := &pagerNotifier{}
		built := 0
		t.Cleanup(channels.Register(notify.Channel{
			Kind: "pager",
			Build: func(notify.Env) (notify.Notifier, func(), error) {
				built++
				return pager, nil, nil
			},
			Address: func(_ context.Context, raw string) (string, error) {
				num, ok := strings.CutPrefix(strings.TrimSpace(raw), "pager:")
				if !ok || num == "" || strings.Trim(num, "0123456789") != "" {
					return "", gateway.FieldError("address", "must be pager: and a number")
				}
				return "pager:" + num, nil
			},
		}))

		e := withSubscribers(t, newEnv(t, st, herhttp.Options{}), st)
		e.publish(func(s *herhttp.Services) {
			s.Incidents = incidents.New(incidents.Options{Store: st, Log: storetest.Logger(t), PublicURL: "http://status.test"})
		})

		// The API describes the kind and the console lists it.
		if r := e.do("GET", "/api/v1/openapi.json", "", ""); strings.Count(r.body, `"pager"`) != 3 {
			t.Errorf("the API description names pager %d times, want 3 (Subscriber.kind, SubscriberInput.kind, Delivery.channel)", strings.Count(r.body, `"pager"`))
		}

		// Refusals name the field: an unknown kind, an address the
		// channel's check refuses, a webhook's field on another kind.
		for _, tt := range []struct{ body, field, says string }{
			{`{"kind":"carrier-pigeon","address":"x","all":true}`, "kind", "must be email, pager or webhook"},
			{`{"address":"pager:1","all":true}`, "kind", "is required with address"},
			{`{"kind":"email","url":"https://hooks.example.com/x","all":true}`, "url", "webhook subscribers only"},
			{`{"kind":"pager","address":"555-1234","all":true}`, "address", "must be pager: and a number"},
			{`{"kind":"pager","address":"pager:1","format":"slack","all":true}`, "format", "webhook subscribers only"},
		} {
			r := e.do("POST", "/api/v1/subscribers", gateway.RoleSupport, tt.body)
			if r.status != 422 || !strings.Contains(r.body, `"`+tt.field+`"`) || !strings.Contains(r.body, tt.says) {
				t.Errorf("POST %s = %d %s, want 422 naming %s: %s", tt.body, r.status, r.body, tt.field, tt.says)
			}
		}
		if r := e.do("GET", "/api/v1/subscribers?kind=carrier-pigeon", gateway.RoleSupport, ""); r.status != 422 || !strings.Contains(r.body, `"kind"`) {
			t.Errorf("list by an unknown kind = %d %s, want 422 naming kind", r.status, r.body)
		}

		r := e.do("POST", "/api/v1/subscribers", gateway.RoleSupport, `{"kind":"pager","address":" pager:0042 ","all":true}`)
		var sub gateway.Subscriber
		r.decode(t, &sub)
		if r.status != 201 || sub.Kind != "pager" || sub.Address != "pager:0042" || sub.Status != gateway.SubscriberActive {
			t.Fatalf("add a pager subscriber = %d %s, want 201, active, the address normalized", r.status, r.body)
		}
		if r := e.do("POST", "/api/v1/subscribers", gateway.RoleSupport, `{"kind":"pager","address":"pager:0042","all":true}`); r.status != 409 {
			t.Errorf("the same pager again = %d %s, want 409", r.status, r.body)
		}
		// Support sees it redacted, as a webhook's URL; it is listed by kind.
		if r := e.do("GET", "/api/v1/subscribers/"+sub.ID, gateway.RoleSupport, ""); strings.Contains(r.body, "0042") {
			t.Errorf("support sees the pager's address: %s", r.body)
		}
		if r := e.do("GET", "/api/v1/subscribers?kind=pager", gateway.RoleAdmin, ""); r.status != 200 || !strings.Contains(r.body, `"pager:0042"`) {
			t.Errorf("list by kind pager = %d %s", r.status, r.body)
		}

		// Built as start-up builds the channels, then the real dispatcher.
		tmpl, err := templates.Load("")
		if err != nil {
			t.Fatal(err)
		}
		chans, closeAll, err := channels.Notifiers(notify.Env{Templates: tmpl, Log: storetest.Logger(t),
			Config: &config.Config{OutboxDir: t.TempDir(), MailFrom: "Status <status@example.com>"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(closeAll)
		if built != 1 || chans["pager"] != pager || chans[gateway.ChannelEmail] == nil || chans[gateway.ChannelWebhook] == nil {
			t.Fatalf("channels.Notifiers built pager %d times; map %v", built, chans)
		}
		d := &notify.Dispatcher{Store: st, Notifiers: chans, Log: storetest.Logger(t), Poll: 20 * time.Millisecond}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- d.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("dispatcher: %v", err)
			}
		})

		r = e.do("POST", "/api/v1/incidents", gateway.RoleSupport, `{"name":"Paging outage","status":"investigating",
			"body":"We are looking into it.","components":{"App":"major_outage"}}`)
		if r.status != 201 {
			t.Fatalf("create incident = %d %s", r.status, r.body)
		}
		storetest.WaitFor(t, 10*time.Second, 20*time.Millisecond, func() bool { return len(pager.messages()) > 0 }, "a message on the pager channel")
		time.Sleep(100 * time.Millisecond) // room for a wrong second one
		msgs := pager.messages()
		if len(msgs) != 1 || msgs[0].Subscriber.ID != sub.ID || msgs[0].Subscriber.Address != "pager:0042" ||
			msgs[0].Event == nil || msgs[0].Event.Type != gateway.EventIncidentCreated {
			t.Fatalf("pager got %d messages (%+v), want one, of the incident, to pager:0042", len(msgs), msgs)
		}
		storetest.WaitFor(t, 5*time.Second, 20*time.Millisecond, func() bool {
			return storetest.MustCount(t, st, `SELECT COUNT(*) FROM deliveries WHERE channel = 'pager' AND status = 'sent'`) == 1
		}, "the pager delivery recorded sent")
	})
}
