package store_test

import (
	"context"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// Short names for the storetest fan-out helpers.
type sub = storetest.Subscriber

func addSubscriber(t testing.TB, s *store.Store, x sub) string {
	t.Helper()
	return storetest.AddSubscriber(t, s, x)
}
func suppress(t testing.TB, s *store.Store, addr string) { t.Helper(); storetest.Suppress(t, s, addr) }
func exec(t testing.TB, s *store.Store, q string, args ...any) {
	t.Helper()
	storetest.Exec(t, s, q, args...)
}
func seedSubscribers(t testing.TB, s *store.Store, n int) {
	t.Helper()
	storetest.SeedSubscribers(t, s, gateway.SubscriberEmail, n)
}

func addComponent(t testing.TB, s *store.Store, name, group string) string {
	t.Helper()
	c := gateway.Component{Name: name, GroupID: group, Position: -1}
	if err := s.CreateComponent(context.Background(), &c); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func addGroup(t testing.TB, s *store.Store, name string) string {
	t.Helper()
	g := gateway.ComponentGroup{Name: name, Position: -1}
	if err := s.CreateComponentGroup(context.Background(), &g); err != nil {
		t.Fatal(err)
	}
	return g.ID
}

// newEvent writes an event and returns it.
func newEvent(t testing.TB, s *store.Store, e gateway.Event) *gateway.Event {
	t.Helper()
	if e.Type == "" {
		e.Type = gateway.EventBroadcast
	}
	e.Notify = true
	e.Payload.Broadcast = &gateway.BroadcastMessage{Subject: "s", Body: "b"}
	if err := s.CreateEvent(context.Background(), &e); err != nil {
		t.Fatal(err)
	}
	return &e
}

// deliveredTo returns the subscriber ids an event has deliveries for, with
// their channel.
func deliveredTo(t testing.TB, s *store.Store, eventID string) map[string]gateway.Channel {
	t.Helper()
	rows, err := s.DB().Query(rebind(s, `SELECT subscriber_id, channel FROM deliveries WHERE event_id = ?`), eventID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]gateway.Channel{}
	for rows.Next() {
		var id, ch string
		if err := rows.Scan(&id, &ch); err != nil {
			t.Fatal(err)
		}
		if _, dup := out[id]; dup {
			t.Errorf("two deliveries of event %s to %s", eventID, id)
		}
		out[id] = gateway.Channel(ch)
	}
	return out
}
