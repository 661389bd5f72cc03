package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

func TestEventsOfTypeListsNewestFirst(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		at := time.Date(2026, 11, 24, 5, 0, 0, 0, time.UTC)
		var ids []string
		for i, subject := range []string{"first", "second", "third"} {
			s.Now = func() time.Time { return at.Add(time.Duration(i) * time.Minute) }
			e := &gateway.Event{Type: gateway.EventBroadcast, Notify: true, AllSubscribers: true,
				Payload: gateway.EventPayload{Broadcast: &gateway.BroadcastMessage{Subject: subject, Body: "b"}}}
			if err := s.CreateEvent(ctx, e); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, e.ID)
		}
		// Another type of event is not listed.
		if err := s.CreateEvent(ctx, &gateway.Event{Type: gateway.EventTest, Notify: true}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name  string
			limit int
			want  []string
		}{
			{"all", 0, []string{ids[2], ids[1], ids[0]}},
			{"limited", 2, []string{ids[2], ids[1]}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.EventsOfType(ctx, gateway.EventBroadcast, tc.limit)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(tc.want) {
					t.Fatalf("%d events, want %d", len(got), len(tc.want))
				}
				for i, e := range got {
					if e.ID != tc.want[i] || e.Payload.Broadcast == nil || !e.AllSubscribers {
						t.Errorf("event %d: %+v, want %s", i, e, tc.want[i])
					}
				}
			})
		}
	})
}
