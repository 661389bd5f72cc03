package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// planned gives a store n email subscribers of the whole page and one
// planned event to them all, and returns the event.
func planned(t *testing.T, s *store.Store, n int) *gateway.Event {
	t.Helper()
	seedSubscribers(t, s, n)
	e := newEvent(t, s, gateway.Event{AllSubscribers: true})
	if got, err := s.PlanEvent(context.Background(), e.ID); err != nil || got != n {
		t.Fatalf("PlanEvent = %d, %v; want %d", got, err, n)
	}
	return e
}

func TestClaimersNeverShareARow(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		const rows = 600
		planned(t, s, rows)
		now := time.Now()
		var mu sync.Mutex
		seen := map[int64]string{}
		var wg sync.WaitGroup
		for _, owner := range []string{"a", "b", "c"} {
			wg.Go(func() {
				for {
					ds, err := s.ClaimDeliveries(context.Background(), owner, gateway.ChannelEmail, 25, time.Minute, now)
					if err != nil {
						t.Error(err)
						return
					}
					if len(ds) == 0 {
						return
					}
					mu.Lock()
					for _, d := range ds {
						if prev, dup := seen[d.ID]; dup {
							t.Errorf("delivery %d claimed by %s and %s", d.ID, prev, owner)
						}
						seen[d.ID] = owner
						if d.Attempts != 1 || d.Channel != gateway.ChannelEmail {
							t.Errorf("claimed %+v, want attempt 1 on email", d)
						}
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(seen) != rows {
			t.Errorf("claimed %d deliveries in all, want %d", len(seen), rows)
		}
		if ds, err := s.ClaimDeliveries(context.Background(), "d", gateway.ChannelWebhook, 10, time.Minute, now); err != nil {
			t.Fatal(err)
		} else if len(ds) != 0 {
			t.Errorf("a webhook claim took %d email deliveries", len(ds))
		}
	})
}

func TestExpiredLeaseReturnsTheRow(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		planned(t, s, 1)
		now := time.Now()
		first, err := s.ClaimDeliveries(ctx, "dead-process", gateway.ChannelEmail, 10, time.Minute, now)
		if err != nil || len(first) != 1 {
			t.Fatalf("claim = %v, %v", first, err)
		}
		if ds, err := s.ClaimDeliveries(ctx, "other", gateway.ChannelEmail, 10, time.Minute, now.Add(59*time.Second)); err != nil {
			t.Fatal(err)
		} else if len(ds) != 0 {
			t.Fatalf("a live lease was claimed again: %+v", ds)
		}
		// The first owner's heartbeat keeps it…
		if n, err := s.ExtendLeases(ctx, "dead-", now.Add(2*time.Minute)); err != nil || n != 1 {
			t.Fatalf("ExtendLeases = %d, %v; want 1", n, err)
		}
		if ds, err := s.ClaimDeliveries(ctx, "other", gateway.ChannelEmail, 10, time.Minute, now.Add(90*time.Second)); err != nil {
			t.Fatal(err)
		} else if len(ds) != 0 {
			t.Fatalf("an extended lease was claimed again: %+v", ds)
		}
		// …until it stops.
		again, err := s.ClaimDeliveries(ctx, "other", gateway.ChannelEmail, 10, time.Minute, now.Add(3*time.Minute))
		if err != nil || len(again) != 1 || again[0].ID != first[0].ID || again[0].Attempts != 2 {
			t.Fatalf("claim after expiry = %+v, %v; want delivery %d at attempt 2", again, err, first[0].ID)
		}
		// The stale owner's outcome is refused and records nothing.
		stale := store.Completion{DeliveryID: first[0].ID, Owner: "dead-process", SubscriberID: first[0].SubscriberID,
			Status: gateway.DeliverySent, Attempt: &gateway.Attempt{Outcome: gateway.AttemptSent, Code: 250, AttemptedAt: now}}
		if err := s.CompleteDelivery(ctx, stale); gateway.ErrorCode(err) != gateway.ECONFLICT {
			t.Errorf("CompleteDelivery with a lost lease err = %v, want conflict", err)
		}
		ok := stale
		ok.Owner = "other"
		if err := s.CompleteDelivery(ctx, ok); err != nil {
			t.Fatalf("CompleteDelivery by the owner: %v", err)
		}
		logs, err := s.Deliveries(ctx, store.DeliveryFilter{})
		if err != nil || len(logs) != 1 {
			t.Fatalf("Deliveries = %+v, %v", logs, err)
		}
		d := logs[0]
		if d.Status != gateway.DeliverySent || len(d.Log) != 1 || d.Log[0].Code != 250 || d.SentAt.IsZero() {
			t.Errorf("after completion: %+v, want sent with one attempt", d)
		}
	})
}

func TestReleaseGivesBackUnsentRows(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		planned(t, s, 3)
		now := time.Now()
		if ds, err := s.ClaimDeliveries(ctx, "p:email:1", gateway.ChannelEmail, 10, time.Minute, now); err != nil {
			t.Fatal(err)
		} else if len(ds) != 3 {
			t.Fatalf("claimed %d, want 3", len(ds))
		}
		if n, err := s.ReleaseDeliveries(ctx, "p:email:1"); err != nil || n != 3 {
			t.Fatalf("ReleaseDeliveries = %d, %v", n, err)
		}
		ds, err := s.ClaimDeliveries(ctx, "q", gateway.ChannelEmail, 10, time.Minute, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 3 || ds[0].Attempts != 1 {
			t.Errorf("after release claimed %+v, want 3 at attempt 1", ds)
		}
	})
}

func TestOutcomesDisableAndSuppress(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		mail := addSubscriber(t, s, sub{Address: "bounces@example.com", All: true})
		hook := addSubscriber(t, s, sub{Kind: gateway.SubscriberWebhook, Address: "https://gone.example.com/", All: true})
		outcome := func(ch gateway.Channel, to string, c store.Completion) {
			t.Helper()
			e := newEvent(t, s, gateway.Event{Type: gateway.EventTest, SubscriberID: to})
			if _, err := s.PlanEvent(ctx, e.ID); err != nil {
				t.Fatal(err)
			}
			ds, err := s.ClaimDeliveries(ctx, "o", ch, 10, time.Minute, time.Now())
			if err != nil || len(ds) != 1 {
				t.Fatalf("claim %s = %+v, %v", ch, ds, err)
			}
			c.DeliveryID, c.Owner, c.SubscriberID = ds[0].ID, "o", ds[0].SubscriberID
			if err := s.CompleteDelivery(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		policy := notify.FailurePolicy{DisableAfter: 3} // the store carries out what the policy decides
		fail := func(ch gateway.Channel, to string, f notify.Failure) {
			t.Helper()
			outcome(ch, to, store.Completion{Status: gateway.DeliveryDead, Subscriber: policy.Change(f, false, false, "mailbox unavailable"),
				Attempt: &gateway.Attempt{Outcome: gateway.AttemptPermanent, Code: 550, Error: "mailbox unavailable", AttemptedAt: time.Now()}})
		}
		status := func(id string) (st, reason string, failures int) {
			t.Helper()
			err := s.DB().QueryRow(rebind(s, `SELECT status, disabled_reason, permanent_failures FROM subscribers WHERE id = ?`), id).Scan(&st, &reason, &failures)
			if err != nil {
				t.Fatal(err)
			}
			return
		}
		fail(gateway.ChannelEmail, mail, notify.FailurePermanent)
		fail(gateway.ChannelEmail, mail, notify.FailurePermanent)
		if st, _, n := status(mail); st != "active" || n != 2 {
			t.Fatalf("after 2 permanent failures: %s with %d failures, want active with 2", st, n)
		}
		// A success in between starts the count again.
		outcome(gateway.ChannelEmail, mail, store.Completion{Status: gateway.DeliverySent, Subscriber: policy.Change(notify.FailureNone, true, true, ""),
			Attempt: &gateway.Attempt{Outcome: gateway.AttemptSent, Code: 250, AttemptedAt: time.Now()}})
		if _, _, n := status(mail); n != 0 {
			t.Fatalf("after a success: %d failures, want 0", n)
		}
		fail(gateway.ChannelEmail, mail, notify.FailurePermanent)
		fail(gateway.ChannelEmail, mail, notify.FailurePermanent)
		fail(gateway.ChannelEmail, mail, notify.FailurePermanent)
		if st, reason, n := status(mail); st != "disabled" || n != 3 || reason == "" {
			t.Errorf("after 3 permanent failures: %s (%q) with %d, want disabled with a reason", st, reason, n)
		}
		if storetest.MustCount(t, s, `SELECT COUNT(*) FROM suppressions WHERE address_hash = ? AND reason = 'failures'`,
			gateway.AddressHash("bounces@example.com")) != 1 {
			t.Error("the failing address is not on the suppression list")
		}
		fail(gateway.ChannelWebhook, hook, notify.FailureGone)
		if st, reason, _ := status(hook); st != "disabled" || reason == "" {
			t.Errorf("after 410 Gone the webhook is %s (%q), want disabled with a reason", st, reason)
		}
	})
}

func TestDeliveryOperations(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		e := planned(t, s, 5)
		now := time.Now()
		ds, err := s.ClaimDeliveries(ctx, "o", gateway.ChannelEmail, 2, time.Minute, now)
		if err != nil {
			t.Fatal(err)
		}
		for i, d := range ds {
			c := store.Completion{DeliveryID: d.ID, Owner: "o", SubscriberID: d.SubscriberID, Status: gateway.DeliveryDead,
				Attempt: &gateway.Attempt{Outcome: gateway.AttemptPermanent, Code: 550, AttemptedAt: now, Duration: 1500 * time.Millisecond}}
			if i == 1 {
				c.Status = gateway.DeliverySent
				c.Attempt.Outcome, c.Attempt.Code = gateway.AttemptSent, 250
			}
			if err := s.CompleteDelivery(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		counts, err := s.DeliveryCounts(ctx, e.ID)
		if err != nil || counts[gateway.DeliveryQueued] != 3 || counts[gateway.DeliveryDead] != 1 || counts[gateway.DeliverySent] != 1 {
			t.Errorf("DeliveryCounts = %v, %v", counts, err)
		}
		st, err := s.QueueStats(ctx, now, []gateway.Channel{gateway.ChannelWebhook, gateway.ChannelEmail})
		if err != nil || st.Depth[gateway.DeliveryQueued] != 3 || st.Depth[gateway.DeliverySending] != 0 || st.OldestDue.IsZero() {
			t.Errorf("QueueStats = %+v, %v", st, err)
		}

		// List with filters and pages; attempts come with their deliveries.
		dead, err := s.Deliveries(ctx, store.DeliveryFilter{EventID: e.ID, Status: gateway.DeliveryDead})
		if err != nil || len(dead) != 1 || len(dead[0].Log) != 1 || dead[0].Log[0].Duration != 1500*time.Millisecond {
			t.Fatalf("dead deliveries = %+v, %v", dead, err)
		}
		page1, err := s.Deliveries(ctx, store.DeliveryFilter{Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		page2, err := s.Deliveries(ctx, store.DeliveryFilter{Limit: 3, After: page1[len(page1)-1].ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(page1) != 3 || len(page2) != 2 || page2[0].ID <= page1[2].ID {
			t.Errorf("pages of 3: %d then %d", len(page1), len(page2))
		}
		if got, err := s.Deliveries(ctx, store.DeliveryFilter{SubscriberID: dead[0].SubscriberID}); err != nil {
			t.Fatal(err)
		} else if len(got) != 1 {
			t.Errorf("by subscriber: %d deliveries, want 1", len(got))
		}

		// Retry one: only a dead one.
		if err := s.RetryDelivery(ctx, dead[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := s.RetryDelivery(ctx, dead[0].ID); gateway.ErrorCode(err) != gateway.ECONFLICT {
			t.Errorf("retrying a queued delivery err = %v, want conflict", err)
		}
		if err := s.RetryDelivery(ctx, 999999); gateway.ErrorCode(err) != gateway.ENOTFOUND {
			t.Errorf("retrying a missing delivery err = %v, want not_found", err)
		}
		again, err := s.Deliveries(ctx, store.DeliveryFilter{Status: gateway.DeliveryQueued})
		if err != nil {
			t.Fatal(err)
		}
		if len(again) != 4 || again[0].Attempts != 0 {
			t.Errorf("after retry: %d queued, want 4 with a fresh schedule", len(again))
		}
		if n, err := s.RetryDead(ctx, now.Add(-time.Hour)); err != nil || n != 0 {
			t.Errorf("RetryDead with none dead = %d, %v", n, err)
		}

		// Cancel: the queued ones, not the sent one.
		n, err := s.CancelEvent(ctx, e.ID)
		if err != nil || n != 4 {
			t.Errorf("CancelEvent = %d, %v; want 4", n, err)
		}
		if _, err := s.CancelEvent(ctx, "nope"); gateway.ErrorCode(err) != gateway.ENOTFOUND {
			t.Errorf("CancelEvent(unknown) err = %v", err)
		}
		if ds, err := s.ClaimDeliveries(ctx, "o", gateway.ChannelEmail, 10, time.Minute, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		} else if len(ds) != 0 {
			t.Errorf("claimed %d cancelled deliveries", len(ds))
		}
	})
}

func TestCancelBeforePlanningPlansNothing(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		addSubscriber(t, s, sub{Address: "a@example.com", All: true})
		e := newEvent(t, s, gateway.Event{AllSubscribers: true})
		if _, err := s.CancelEvent(ctx, e.ID); err != nil {
			t.Fatal(err)
		}
		if _, n, err := s.PlanPending(ctx, 10); err != nil || n != 0 {
			t.Errorf("PlanPending after cancel = %d, %v; want nothing", n, err)
		}
	})
}

// The attempt that sends a delivery is kept on the delivery row, not as a
// row of delivery_attempts (one write per message less), and is listed
// last, after the failures before it, with what it took and what the
// receiver answered.
func TestSentAttemptIsListedFromTheDeliveryRow(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		planned(t, s, 2)
		now := time.Now()
		ds, err := s.ClaimDeliveries(ctx, "w1", gateway.ChannelEmail, 10, time.Minute, now)
		if err != nil || len(ds) != 2 {
			t.Fatalf("claim = %v, %v", ds, err)
		}
		first, second := ds[0], ds[1]
		// The first fails once (451), then is sent; the second is sent at once.
		// The texts carry what JSON escapes, as receivers' answers do: the
		// outcomes reach the database as JSON and must come back as sent.
		const failure, response = "451 \"try\" later\\now\té ✓\u0001", "2.0.0 queued as \"A1\" \\ ✓"
		failed := store.Completion{DeliveryID: first.ID, Owner: "w1", SubscriberID: first.SubscriberID,
			Status: gateway.DeliveryRetrying, NextAttemptAt: now,
			Attempt: &gateway.Attempt{Outcome: gateway.AttemptTemporary, Code: 451, Error: failure, AttemptedAt: now, Duration: 30 * time.Millisecond}}
		sent := store.Completion{DeliveryID: second.ID, Owner: "w1", SubscriberID: second.SubscriberID,
			Status:  gateway.DeliverySent,
			Attempt: &gateway.Attempt{Outcome: gateway.AttemptSent, Code: 250, Response: response, AttemptedAt: now, Duration: 42 * time.Millisecond}}
		if lost, err := s.CompleteDeliveries(ctx, []store.Completion{failed, sent}); err != nil || len(lost) != 0 {
			t.Fatalf("CompleteDeliveries = %v, %v", lost, err)
		}
		again, err := s.ClaimDeliveries(ctx, "w2", gateway.ChannelEmail, 10, time.Minute, now.Add(time.Second))
		if err != nil || len(again) != 1 || again[0].ID != first.ID {
			t.Fatalf("claim of the retry = %v, %v", again, err)
		}
		later := now.Add(time.Second)
		retried := store.Completion{DeliveryID: first.ID, Owner: "w2", SubscriberID: first.SubscriberID,
			Status:  gateway.DeliverySent,
			Attempt: &gateway.Attempt{Outcome: gateway.AttemptSent, Code: 250, Response: "ok", AttemptedAt: later, Duration: 7 * time.Millisecond}}
		if err := s.CompleteDelivery(ctx, retried); err != nil {
			t.Fatal(err)
		}

		var rows int
		if err := s.DB().QueryRow("SELECT COUNT(*) FROM delivery_attempts").Scan(&rows); err != nil || rows != 1 {
			t.Errorf("delivery_attempts holds %d rows (%v), want 1: the failure only", rows, err)
		}
		logs, err := s.Deliveries(ctx, store.DeliveryFilter{})
		if err != nil || len(logs) != 2 {
			t.Fatalf("Deliveries = %+v, %v", logs, err)
		}
		byID := map[int64]store.DeliveryLog{logs[0].ID: logs[0], logs[1].ID: logs[1]}
		got := byID[first.ID].Log
		if len(got) != 2 || got[0].Code != 451 || got[0].Outcome != gateway.AttemptTemporary || got[0].Error != failure ||
			got[1].Outcome != gateway.AttemptSent || got[1].Code != 250 || got[1].Response != "ok" || got[1].Duration != 7*time.Millisecond {
			t.Errorf("first delivery's log = %+v, want the 451 then the sent attempt", got)
		}
		if d := got[1].AttemptedAt.Sub(later); d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("sent attempt at %v, want %v", got[1].AttemptedAt, later)
		}
		got = byID[second.ID].Log
		if len(got) != 1 || got[0].Code != 250 || got[0].Response != response || got[0].Duration != 42*time.Millisecond {
			t.Errorf("second delivery's log = %+v, want its one sent attempt", got)
		}
	})
}

// ClaimDue takes due rows only; a row whose lease expired waits for a
// ClaimDeliveries, which the dispatcher makes every quarter lease.
func TestClaimDueLeavesExpiredLeases(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		planned(t, s, 2)
		now := time.Now()
		first, err := s.ClaimDue(ctx, "dead-process", gateway.ChannelEmail, 1, time.Minute, now)
		if err != nil || len(first) != 1 {
			t.Fatalf("ClaimDue = %v, %v", first, err)
		}
		later := now.Add(2 * time.Minute) // the first lease has expired
		due, err := s.ClaimDue(ctx, "w", gateway.ChannelEmail, 10, time.Minute, later)
		if err != nil || len(due) != 1 || due[0].ID == first[0].ID {
			t.Fatalf("ClaimDue after the expiry = %+v, %v; want only the other, due row", due, err)
		}
		again, err := s.ClaimDeliveries(ctx, "w2", gateway.ChannelEmail, 10, time.Minute, later)
		if err != nil || len(again) != 1 || again[0].ID != first[0].ID || again[0].Attempts != 2 {
			t.Fatalf("ClaimDeliveries = %+v, %v; want the expired row at attempt 2", again, err)
		}
	})
}

// The lease heartbeat and groups of outcomes lock the same rows. The
// heartbeat skips the rows a group holds, so the two never deadlock on
// PostgreSQL (which would fail one statement after a second), whatever
// order a group locks its rows in.
func TestHeartbeatAndOutcomesDoNotDeadlock(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const rows, group = 1200, 60
		planned(t, s, rows)
		now := time.Now()
		ds, err := s.ClaimDeliveries(ctx, "proc:email:1", gateway.ChannelEmail, rows, time.Minute, now)
		if err != nil || len(ds) != rows {
			t.Fatalf("claim = %d, %v", len(ds), err)
		}
		stop := make(chan struct{})
		beats := make(chan error, 1)
		go func() {
			for {
				select {
				case <-stop:
					beats <- nil
					return
				default:
				}
				if _, err := s.ExtendLeases(ctx, "proc:", now.Add(2*time.Minute)); err != nil {
					beats <- err
					return
				}
			}
		}()
		// Groups in descending id order: the opposite of the heartbeat's.
		for end := rows; end > 0; end -= group {
			var cs []store.Completion
			for i := end - 1; i >= end-group; i-- {
				cs = append(cs, store.Completion{DeliveryID: ds[i].ID, Owner: "proc:email:1", SubscriberID: ds[i].SubscriberID,
					Status: gateway.DeliverySent, Attempt: &gateway.Attempt{Outcome: gateway.AttemptSent, Code: 250, AttemptedAt: now}})
			}
			if lost, err := s.CompleteDeliveries(ctx, cs); err != nil || len(lost) != 0 {
				close(stop)
				t.Fatalf("CompleteDeliveries = %v, %v", lost, err)
			}
		}
		close(stop)
		if err := <-beats; err != nil {
			t.Fatalf("ExtendLeases: %v", err)
		}
	})
}
