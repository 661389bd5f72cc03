package http_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// broadcast posts a broadcast as role with an Idempotency-Key ("" for none).
func (e *env) broadcast(role gateway.Role, key, body string) response {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.url+"/api/v1/broadcasts", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+e.keys[role])
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	return e.send(req)
}

func TestBroadcastAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		var woken atomic.Int32
		e := newEnv(t, st, herhttp.Options{Wake: func() { woken.Add(1) }, Page: gateway.PageInfo{Name: "Eptura"}})
		ctx := context.Background()
		space := gateway.Component{Name: "Space Module", Position: -1}
		if err := st.CreateComponent(ctx, &space); err != nil {
			t.Fatal(err)
		}
		storetest.AddSubscriber(t, st, storetest.Subscriber{Address: "page@example.com", All: true})
		storetest.AddSubscriber(t, st, storetest.Subscriber{Address: "space@example.com", Components: []string{space.ID}})
		storetest.AddSubscriber(t, st, storetest.Subscriber{Address: "pending@example.com", Status: gateway.SubscriberPending, All: true})
		storetest.AddSubscriber(t, st, storetest.Subscriber{Kind: gateway.SubscriberWebhook, Address: "https://hooks.example.com/a", All: true})
		var out struct {
			ID         string `json:"id"`
			Recipients int    `json:"recipients"`
			DryRun     bool   `json:"dry_run"`
		}

		// Roles: viewers may not broadcast; support may.
		if r := e.broadcast(gateway.RoleViewer, "k0", `{"subject":"s","body":"b"}`); r.status != 403 {
			t.Errorf("viewer broadcast = %d %s, want 403", r.status, r.body)
		}

		// A dry run counts exactly and writes nothing.
		r := e.broadcast(gateway.RoleSupport, "", `{"subject":"Maintenance","body":"Tonight.","components":["Space Module"],"dry_run":true}`)
		r.decode(t, &out)
		if r.status != 200 || out.Recipients != 3 || !out.DryRun || out.ID != "" {
			t.Fatalf("dry run = %d %s, want 200 with 3 recipients", r.status, r.body)
		}
		if r := e.do("GET", "/api/v1/deliveries", gateway.RoleViewer, ""); !strings.Contains(r.body, `"data":[]`) {
			t.Fatalf("a dry run wrote deliveries: %s", r.body)
		}

		// Validation names the field; the key is required.
		for _, tt := range []struct{ key, body, field string }{
			{"", `{"subject":"s","body":"b"}`, "Idempotency-Key"},
			{"k1", `{"body":"b"}`, "subject"},
			{"k1", `{"subject":"a\r\nBcc: x@example.com","body":"b"}`, "subject"},
			{"k1", `{"subject":"s"}`, "body"},
			{"k1", `{"subject":"s","body":"b","components":["nope"]}`, "components[0]"},
		} {
			if r := e.broadcast(gateway.RoleSupport, tt.key, tt.body); r.status != 422 || !strings.Contains(r.body, `"`+tt.field+`"`) {
				t.Errorf("broadcast %s (key %q) = %d %s, want 422 naming %s", tt.body, tt.key, r.status, r.body, tt.field)
			}
		}

		// The real thing, twice with one key: one event, one set of deliveries.
		body := `{"subject":"Maintenance","body":"Tonight.","components":["Space Module"]}`
		r = e.broadcast(gateway.RoleSupport, "maint-1", body)
		r.decode(t, &out)
		if r.status != 202 || out.ID == "" || out.Recipients != 3 || r.header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("broadcast = %d %s, want 202 with an id and 3 recipients", r.status, r.body)
		}
		first := out.ID
		if woken.Load() == 0 {
			t.Error("the dispatcher was not woken")
		}
		r = e.broadcast(gateway.RoleSupport, "maint-1", body)
		r.decode(t, &out)
		if r.status != 202 || out.ID != first || out.Recipients != 3 || r.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("repeat = %d %s (replayed %q), want the first broadcast again", r.status, r.body, r.header.Get("Idempotent-Replayed"))
		}
		if r := e.broadcast(gateway.RoleSupport, "maint-1", `{"subject":"Other","body":"x"}`); r.status != 409 {
			t.Errorf("a key reused for another broadcast = %d %s, want 409", r.status, r.body)
		}
		if n, err := st.CountEventDeliveries(ctx, first); err != nil {
			t.Fatal(err)
		} else if n != 3 {
			t.Errorf("event has %d deliveries, want 3", n)
		}
		events := storetest.MustCount(t, st, `SELECT COUNT(*) FROM events`)
		if events != 1 {
			t.Errorf("%d events, want 1", events)
		}
		// Everyone: no components.
		r = e.broadcast(gateway.RoleAdmin, "all-1", `{"subject":"Hello","body":"All of you."}`)
		if r.decode(t, &out); r.status != 202 || out.Recipients != 3 {
			t.Errorf("broadcast to everyone = %d %s, want 3 recipients", r.status, r.body)
		}
		r = e.do("GET", "/api/v1/audit", gateway.RoleAdmin, "")
		if strings.Count(r.body, `"action":"broadcast.create"`) != 2 {
			t.Errorf("audit log should hold two broadcasts (not the replay): %s", r.body)
		}
	})
}

func TestDeliveriesAPI(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{})
		ctx := context.Background()
		storetest.SeedSubscribers(t, st, gateway.SubscriberEmail, 3)
		r := e.broadcast(gateway.RoleSupport, "ops", `{"subject":"s","body":"b"}`)
		var ev struct{ ID string }
		r.decode(t, &ev)

		// One delivery fails for good.
		now := time.Now()
		ds, err := st.ClaimDeliveries(ctx, "t", gateway.ChannelEmail, 1, time.Minute, now)
		if err != nil || len(ds) != 1 {
			t.Fatalf("claim = %v, %v", ds, err)
		}
		err = st.CompleteDelivery(ctx, store.Completion{DeliveryID: ds[0].ID, Owner: "t", SubscriberID: ds[0].SubscriberID,
			Status: gateway.DeliveryDead, Attempt: &gateway.Attempt{Outcome: gateway.AttemptPermanent, Code: 550,
				Error: "mailbox unavailable", AttemptedAt: now, Duration: 42 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}

		var page struct {
			Data []struct {
				ID       string `json:"id"`
				Status   string `json:"status"`
				Attempts []struct {
					Code       int   `json:"code"`
					DurationMS int64 `json:"duration_ms"`
				} `json:"attempts"`
			} `json:"data"`
			NextCursor string `json:"next_cursor"`
		}
		r = e.do("GET", "/api/v1/deliveries?status=dead&event="+ev.ID, gateway.RoleViewer, "")
		r.decode(t, &page)
		if r.status != 200 || len(page.Data) != 1 || len(page.Data[0].Attempts) != 1 ||
			page.Data[0].Attempts[0].Code != 550 || page.Data[0].Attempts[0].DurationMS != 42 {
			t.Fatalf("dead deliveries = %d %s", r.status, r.body)
		}
		dead := page.Data[0].ID
		r = e.do("GET", "/api/v1/deliveries?limit=2", gateway.RoleViewer, "")
		r.decode(t, &page)
		if len(page.Data) != 2 || page.NextCursor == "" {
			t.Errorf("first page = %s, want 2 and a cursor", r.body)
		}
		if r = e.do("GET", "/api/v1/deliveries?limit=2&cursor="+page.NextCursor, gateway.RoleViewer, ""); !strings.Contains(r.body, `"next_cursor":""`) {
			t.Errorf("last page = %s", r.body)
		}
		if r := e.do("GET", "/api/v1/deliveries?status=lost", gateway.RoleViewer, ""); r.status != 422 {
			t.Errorf("unknown status = %d, want 422", r.status)
		}
		r = e.do("GET", "/api/v1/events/"+ev.ID+"/progress", gateway.RoleViewer, "")
		if !strings.Contains(r.body, `"dead":1`) || !strings.Contains(r.body, `"queued":2`) || !strings.Contains(r.body, `"total":3`) {
			t.Errorf("progress = %s", r.body)
		}

		// Roles.
		for _, path := range []string{"/api/v1/deliveries/" + dead + "/retry", "/api/v1/events/" + ev.ID + "/cancel",
			"/api/v1/deliveries/retry?status=dead&since=2020-01-01T00:00:00Z"} {
			if r := e.do("POST", path, gateway.RoleViewer, ""); r.status != 403 {
				t.Errorf("viewer POST %s = %d, want 403", path, r.status)
			}
		}

		// Retry one, then again (it is no longer dead), then an unknown one.
		if r := e.do("POST", "/api/v1/deliveries/"+dead+"/retry", gateway.RoleSupport, ""); r.status != 200 {
			t.Errorf("retry = %d %s", r.status, r.body)
		}
		if r := e.do("POST", "/api/v1/deliveries/"+dead+"/retry", gateway.RoleSupport, ""); r.status != 409 {
			t.Errorf("retry of a queued delivery = %d %s, want 409", r.status, r.body)
		}
		if r := e.do("POST", "/api/v1/deliveries/99999/retry", gateway.RoleSupport, ""); r.status != 404 {
			t.Errorf("retry of a missing delivery = %d, want 404", r.status)
		}
		// Retry all dead since: the parameters are required.
		if r := e.do("POST", "/api/v1/deliveries/retry?status=dead", gateway.RoleSupport, ""); r.status != 422 {
			t.Errorf("retry without since = %d, want 422", r.status)
		}
		r = e.do("POST", "/api/v1/deliveries/retry?status=dead&since=2020-01-01T00:00:00Z", gateway.RoleSupport, "")
		if r.status != 200 || !strings.Contains(r.body, `"retried":0`) {
			t.Errorf("retry dead = %d %s", r.status, r.body)
		}

		// Cancel the event: the three queued deliveries.
		r = e.do("POST", "/api/v1/events/"+ev.ID+"/cancel", gateway.RoleSupport, "")
		if r.status != 200 || !strings.Contains(r.body, `"cancelled":3`) {
			t.Errorf("cancel = %d %s", r.status, r.body)
		}
		if r := e.do("POST", "/api/v1/events/nope/cancel", gateway.RoleSupport, ""); r.status != 404 {
			t.Errorf("cancel of a missing event = %d, want 404", r.status)
		}
		r = e.do("GET", "/api/v1/audit", gateway.RoleAdmin, "")
		for _, action := range []string{"delivery.retry", "delivery.retry_dead", "event.cancel"} {
			if !strings.Contains(r.body, `"action":"`+action+`"`) {
				t.Errorf("audit log lacks %s", action)
			}
		}
	})
}
