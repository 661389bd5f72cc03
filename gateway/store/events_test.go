package store_test

import (
	"context"
	"sort"
	"sync"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

func TestPlanSelectsTheRightSubscribers(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		store.SetPlanPart(s, 2) // events to many subscribers plan in parts
		g := addGroup(t, s, "Workplace")
		a := addComponent(t, s, "Space Module", g)
		addComponent(t, s, "Move Module", g)
		d := addComponent(t, s, "Hummingbird App", "")

		ids := map[string]string{
			"whole page":       addSubscriber(t, s, sub{Address: "page@example.com", All: true}),
			"component":        addSubscriber(t, s, sub{Address: "space@example.com", Components: []string{a}}),
			"other component":  addSubscriber(t, s, sub{Address: "app@example.com", Components: []string{d}}),
			"group":            addSubscriber(t, s, sub{Address: "group@example.com", Groups: []string{g}}),
			"pending":          addSubscriber(t, s, sub{Address: "pending@example.com", Status: gateway.SubscriberPending, Components: []string{a}}),
			"unsubscribed":     addSubscriber(t, s, sub{Address: "gone@example.com", Status: gateway.SubscriberUnsubscribed, All: true}),
			"disabled":         addSubscriber(t, s, sub{Address: "off@example.com", Status: gateway.SubscriberDisabled, All: true}),
			"suppressed":       addSubscriber(t, s, sub{Address: "Complained@Example.COM", All: true}),
			"webhook":          addSubscriber(t, s, sub{Kind: gateway.SubscriberWebhook, Address: "https://hooks.example.com/x", Components: []string{a}}),
			"component+group":  addSubscriber(t, s, sub{Address: "both@example.com", Components: []string{a}, Groups: []string{g}}),
			"webhook all page": addSubscriber(t, s, sub{Kind: gateway.SubscriberWebhook, Address: "https://hooks.example.com/page", All: true}),
		}
		suppress(t, s, "Complained@EXAMPLE.com") // the domain's case does not matter
		name := map[string]string{}
		for n, id := range ids {
			name[id] = n
		}
		names := func(got map[string]gateway.Channel) []string {
			var out []string
			for id := range got {
				out = append(out, name[id])
			}
			sort.Strings(out)
			return out
		}

		tests := []struct {
			name  string
			event gateway.Event
			want  []string
		}{
			{"an affected component", gateway.Event{ComponentIDs: []string{a}},
				[]string{"component", "component+group", "group", "webhook", "webhook all page", "whole page"}},
			{"another component", gateway.Event{ComponentIDs: []string{d}},
				[]string{"other component", "webhook all page", "whole page"}},
			{"no component", gateway.Event{},
				[]string{"webhook all page", "whole page"}},
			{"everyone", gateway.Event{AllSubscribers: true},
				[]string{"component", "component+group", "group", "other component", "webhook", "webhook all page", "whole page"}},
			{"confirmation to a pending subscriber", gateway.Event{Type: gateway.EventSubscriberConfirm, SubscriberID: ids["pending"]},
				[]string{"pending"}},
			{"test ping to a disabled webhook", gateway.Event{Type: gateway.EventTest, SubscriberID: ids["disabled"]},
				[]string{"disabled"}},
			{"never to a suppressed address, even its own", gateway.Event{Type: gateway.EventSubscriberConfirm, SubscriberID: ids["suppressed"]},
				nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tt.event.Notify = true
				dry, err := s.CountRecipients(ctx, tt.event)
				if err != nil {
					t.Fatal(err)
				}
				e := newEvent(t, s, tt.event)
				n, err := s.PlanEvent(ctx, e.ID)
				if err != nil {
					t.Fatal(err)
				}
				got := deliveredTo(t, s, e.ID)
				if g := names(got); !equal(g, tt.want) {
					t.Errorf("planned to %v, want %v", g, tt.want)
				}
				if n != len(tt.want) || dry != len(tt.want) {
					t.Errorf("PlanEvent = %d, CountRecipients = %d; want %d", n, dry, len(tt.want))
				}
				for id, ch := range got {
					if name[id] != "" && (ch == gateway.ChannelWebhook) != (name[id] == "webhook" || name[id] == "webhook all page") {
						t.Errorf("%s got channel %s", name[id], ch)
					}
				}
				// Planning again, even after a new subscriber arrived, adds nothing.
				late := addSubscriber(t, s, sub{Address: "late@example.com", All: true})
				if n, err := s.PlanEvent(ctx, e.ID); err != nil || n != 0 {
					t.Errorf("second PlanEvent = %d, %v; want 0, nil", n, err)
				}
				exec(t, s, `DELETE FROM subscribers WHERE id = ?`, late)
				if again := deliveredTo(t, s, e.ID); len(again) != len(got) {
					t.Errorf("second plan changed the deliveries: %d, then %d", len(got), len(again))
				}
				planned, err := s.Event(ctx, e.ID)
				if err != nil || planned.PlannedAt.IsZero() {
					t.Errorf("Event after planning = %+v, %v; want planned_at set", planned, err)
				}
			})
		}
	})
}

func TestPlanHonoursNotifyAndMissingEvents(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		addSubscriber(t, s, sub{Address: "page@example.com", All: true})
		e := gateway.Event{Type: gateway.EventIncidentUpdated, AllSubscribers: true, Notify: false}
		if err := s.CreateEvent(ctx, &e); err != nil {
			t.Fatal(err)
		}
		if n, err := s.PlanEvent(ctx, e.ID); err != nil || n != 0 {
			t.Errorf("PlanEvent(notify off) = %d, %v; want 0, nil", n, err)
		}
		if _, err := s.PlanEvent(ctx, "nope"); gateway.ErrorCode(err) != gateway.ENOTFOUND {
			t.Errorf("PlanEvent(unknown) err = %v, want not_found", err)
		}
		bad := gateway.Event{Type: gateway.EventBroadcast, ComponentIDs: []string{"nope"}}
		if err := s.CreateEvent(ctx, &bad); gateway.ErrorCode(err) != gateway.EUNPROCESSABLE {
			t.Errorf("CreateEvent(unknown component) err = %v, want unprocessable", err)
		}
	})
}

// The outbox: events written by other code are planned by PlanPending,
// once, however many planners run at the same time.
func TestPlanPendingIsTheOutbox(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		store.SetPlanPart(s, 2) // planners racing on the same parts
		for range 5 {
			addSubscriber(t, s, sub{Address: gateway.NewID() + "@example.com", All: true})
		}
		for range 3 {
			newEvent(t, s, gateway.Event{AllSubscribers: true})
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for range 4 {
			wg.Go(func() {
				_, n, err := s.PlanPending(ctx, 10)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				total += n
				mu.Unlock()
			})
		}
		wg.Wait()
		if total != 15 {
			t.Errorf("concurrent PlanPending planned %d deliveries, want 15", total)
		}
		if ev, n, err := s.PlanPending(ctx, 10); ev != 0 || n != 0 || err != nil {
			t.Errorf("PlanPending with nothing pending = %d, %d, %v", ev, n, err)
		}
	})
}

// An event to more subscribers than one part holds is planned in parts,
// each its own transaction, and still delivers exactly once: to every
// active subscriber, suppressed addresses excepted, once each. A process
// stopped between two parts left the event unplanned with some of its
// deliveries; planning it again from the outbox adds only the missing.
func TestPlanInPartsDeliversExactlyOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		store.SetPlanPart(s, 7)
		seedSubscribers(t, s, 40)
		addSubscriber(t, s, sub{Address: "gone@example.com", Status: gateway.SubscriberUnsubscribed, All: true})
		addSubscriber(t, s, sub{Address: "suppressed@example.com", All: true})
		suppress(t, s, "suppressed@example.com")
		const want = 40

		e := newEvent(t, s, gateway.Event{AllSubscribers: true})
		dry, err := s.CountRecipients(ctx, gateway.Event{AllSubscribers: true, Notify: true})
		if err != nil || dry != want {
			t.Fatalf("CountRecipients = %d, %v; want %d", dry, err, want)
		}
		if n, err := s.PlanEvent(ctx, e.ID); err != nil || n != want {
			t.Fatalf("PlanEvent = %d, %v; want %d", n, err, want)
		}
		if got := deliveredTo(t, s, e.ID); len(got) != want {
			t.Fatalf("planned to %d subscribers, want %d", len(got), want)
		}
		if n, err := s.PlanEvent(ctx, e.ID); err != nil || n != 0 {
			t.Errorf("second PlanEvent = %d, %v; want 0, nil", n, err)
		}

		// Stopped after some parts: the event is still unplanned and holds
		// the deliveries of the first subscribers only.
		stopped := newEvent(t, s, gateway.Event{AllSubscribers: true})
		if n, err := s.PlanEvent(ctx, stopped.ID); err != nil || n != want {
			t.Fatalf("PlanEvent = %d, %v; want %d", n, err, want)
		}
		exec(t, s, `UPDATE events SET planned_at = NULL WHERE id = ?`, stopped.ID)
		exec(t, s, `DELETE FROM deliveries WHERE event_id = ? AND subscriber_id IN
			(SELECT id FROM subscribers ORDER BY id DESC LIMIT 25)`, stopped.ID)
		left := want - len(deliveredTo(t, s, stopped.ID))
		if left < 20 {
			t.Fatalf("the stop left %d deliveries to plan, want at least 20", left)
		}
		if ev, n, err := s.PlanPending(ctx, 10); err != nil || ev != 1 || n != left {
			t.Errorf("PlanPending after the stop = %d events, %d deliveries, %v; want 1, %d", ev, n, err, left)
		}
		if got := deliveredTo(t, s, stopped.ID); len(got) != want {
			t.Errorf("after planning again: %d subscribers, want %d", len(got), want)
		}
		if c := storetest.MustCount(t, s, `SELECT COUNT(*) FROM deliveries WHERE event_id = ?`, stopped.ID); c != want {
			t.Errorf("%d deliveries, want %d", c, want)
		}
	})
}

func TestCreateEventOnce(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := addComponent(t, s, "API", "")
		mk := func() *gateway.Event {
			return &gateway.Event{Type: gateway.EventBroadcast, IdempotencyKey: "broadcast:k1", ComponentIDs: []string{c},
				Notify: true, Payload: gateway.EventPayload{Broadcast: &gateway.BroadcastMessage{Subject: "Hi", Body: "There"}}}
		}
		first, created, err := s.CreateEventOnce(ctx, mk())
		if err != nil || !created {
			t.Fatalf("first CreateEventOnce = %v, %v", created, err)
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				again, created, err := s.CreateEventOnce(ctx, mk())
				if err != nil || created || again.ID != first.ID {
					t.Errorf("repeat = %+v, %v, %v; want the first event %s", again, created, err, first.ID)
					return
				}
				if again.Payload.Broadcast.Subject != "Hi" || len(again.ComponentIDs) != 1 {
					t.Errorf("repeat returned %+v, want the stored event", again)
				}
			})
		}
		wg.Wait()
		if err := s.CreateEvent(ctx, mk()); gateway.ErrorCode(err) != gateway.ECONFLICT {
			t.Errorf("CreateEvent with a used key err = %v, want conflict", err)
		}
	})
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// BenchmarkPlan100k plans one event to 100,000 whole-page subscribers: an
// INSERT … SELECT per part of planPart subscribers. HERALD_BENCH_SUBSCRIBERS changes
// the 100,000.
func BenchmarkPlan100k(b *testing.B) {
	total := storetest.BenchSubscribers(b, 100_000)
	for _, d := range storetest.Databases() {
		b.Run(d, func(b *testing.B) {
			s := storetest.Open(b, d)
			seedSubscribers(b, s, total)
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				e := newEvent(b, s, gateway.Event{AllSubscribers: true})
				b.StartTimer()
				n, err := s.PlanEvent(ctx, e.ID)
				if err != nil || n != total {
					b.Fatalf("PlanEvent = %d, %v", n, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(total), "ns/delivery")
		})
	}
}
