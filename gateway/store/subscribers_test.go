package store_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// TestStreamSubscribers: the stream holds exactly the active, unsuppressed
// subscribers of the whole page, of a component or of its group, each once,
// in batches of at most the batch size.
func TestStreamSubscribers(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		g := addGroup(t, s, "Modules")
		a, b, c := addComponent(t, s, "A", ""), addComponent(t, s, "B", g), addComponent(t, s, "C", "")
		ids := map[string]string{
			"whole":      addSubscriber(t, s, sub{Address: "whole@example.com", All: true}),
			"a":          addSubscriber(t, s, sub{Address: "a@example.com", Components: []string{a}}),
			"b":          addSubscriber(t, s, sub{Address: "b@example.com", Components: []string{b}}),
			"group":      addSubscriber(t, s, sub{Address: "group@example.com", Groups: []string{g}}),
			"ab":         addSubscriber(t, s, sub{Address: "ab@example.com", Components: []string{a, b}, Groups: []string{g}}),
			"hook-a":     addSubscriber(t, s, sub{Kind: gateway.SubscriberWebhook, Address: "https://hooks.example.com/a", Components: []string{a}}),
			"c":          addSubscriber(t, s, sub{Address: "c@example.com", Components: []string{c}}),
			"pending-a":  addSubscriber(t, s, sub{Address: "p@example.com", Status: gateway.SubscriberPending, Components: []string{a}}),
			"gone-whole": addSubscriber(t, s, sub{Address: "u@example.com", Status: gateway.SubscriberUnsubscribed, All: true}),
			"supp-a":     addSubscriber(t, s, sub{Address: "Supp@Example.com", Components: []string{a}}),
		}
		suppress(t, s, "Supp@example.com")
		tests := []struct {
			comps []string
			want  []string
		}{
			{[]string{a}, []string{"whole", "a", "ab", "hook-a"}},
			{[]string{b}, []string{"whole", "b", "group", "ab"}},
			{[]string{a, b}, []string{"whole", "a", "b", "group", "ab", "hook-a"}},
			{[]string{c}, []string{"whole", "c"}},
			{nil, []string{"whole"}},
		}
		// Every batch size, so that batch boundaries fall everywhere
		// (ids are random, so their order differs from run to run).
		for _, size := range []int{1, 2, 3, 100} {
			for _, tt := range tests {
				streamCase(t, s, size, tt.comps, tt.want, ids)
			}
		}
		// The admin list's component filter keeps whoever hears about the
		// component, whatever their status (support looks for them too).
		for comp, want := range map[string][]string{
			a: {"whole", "a", "ab", "hook-a", "pending-a", "gone-whole", "supp-a"},
			b: {"whole", "b", "group", "ab", "gone-whole"},
		} {
			list, err := s.Subscribers(context.Background(), store.SubscriberFilter{Component: comp, Limit: 100})
			must(t, err)
			var got []string
			for _, sub := range list {
				got = append(got, sub.ID)
			}
			var wantIDs []string
			for _, name := range want {
				wantIDs = append(wantIDs, ids[name])
			}
			slices.Sort(got)
			slices.Sort(wantIDs)
			if !slices.Equal(got, wantIDs) {
				t.Errorf("Subscribers(component %s) = %v, want %v (%v)", comp, got, wantIDs, want)
			}
		}
	})
}

// streamCase streams comps in batches of size and checks that exactly the
// named subscribers come, once each.
func streamCase(t *testing.T, s *store.Store, size int, comps, want []string, ids map[string]string) {
	t.Helper()
	got := map[string]bool{}
	err := s.StreamSubscribers(context.Background(), comps, size, func(batch []gateway.Subscriber) error {
		if len(batch) > size || len(batch) == 0 {
			t.Errorf("a batch of %d", len(batch))
		}
		for _, x := range batch {
			if got[x.ID] {
				t.Errorf("%s streamed twice", x.Address)
			}
			got[x.ID] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("batch %d, components %v: streamed %d, want %v", size, comps, len(got), want)
	}
	for _, name := range want {
		if !got[ids[name]] {
			t.Errorf("batch %d, components %v: %s missing", size, comps, name)
		}
	}
}

// TestSettingOrCreateRace: replicas racing to create the key agree on one.
func TestSettingOrCreateRace(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var wg sync.WaitGroup
		got := make([]string, 8)
		for i := range got {
			wg.Go(func() {
				v, err := s.SettingOrCreate(ctx, "test.key", fmt.Sprint("value-", i))
				if err != nil {
					t.Error(err)
				}
				got[i] = v
			})
		}
		wg.Wait()
		for _, v := range got {
			if v != got[0] || v == "" {
				t.Fatalf("replicas disagree: %q", got)
			}
		}
		if v, err := s.Setting(ctx, "test.key"); err != nil {
			t.Fatal(err)
		} else if v != got[0] {
			t.Errorf("stored %q, returned %q", v, got[0])
		}
	})
}

// TestSuppressionPrecedence: a bounce replaces an unsubscribe, never the
// other way round, so lifting an unsubscribe cannot lift a bounce.
func TestSuppressionPrecedence(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		step := func(fn func(tx *store.Tx) error) {
			t.Helper()
			if err := s.InTx(ctx, fn); err != nil {
				t.Fatal(err)
			}
		}
		step(func(tx *store.Tx) error { return tx.Suppress("x@example.com", "unsubscribe", "") })
		step(func(tx *store.Tx) error { return tx.Suppress("x@example.com", "bounce", "550") })
		step(func(tx *store.Tx) error { return tx.Suppress("x@example.com", "unsubscribe", "") })
		step(func(tx *store.Tx) error {
			ok, err := tx.Unsuppress("x@example.com", "unsubscribe")
			if ok {
				t.Error("lifting an unsubscribe lifted a bounce")
			}
			return err
		})
		if r, err := s.Suppression(ctx, "x@example.com"); err != nil {
			t.Fatal(err)
		} else if r != "bounce" {
			t.Errorf("reason %q, want bounce", r)
		}
	})
}

// BenchmarkStreamOneComponentOf1M streams the subscribers of one component
// out of a million: 5% subscribe to the whole page, the rest to one of 20
// components each, 1% of addresses are suppressed. One op is the whole
// stream of that component (about 100,000 subscribers).
// HERALD_BENCH_SUBSCRIBERS changes the million.
func BenchmarkStreamOneComponentOf1M(b *testing.B) {
	total := storetest.BenchSubscribers(b, 1_000_000)
	for _, d := range storetest.Databases() {
		b.Run(d, func(b *testing.B) {
			s := storetest.Open(b, d)
			ctx := context.Background()
			for i := range 20 {
				addComponent(b, s, fmt.Sprintf("C%02d", i), "")
			}
			start := time.Now()
			seedMillion(b, s, total)
			b.Logf("%s: seeded %d subscribers in %v", d, total, time.Since(start).Round(time.Millisecond))
			target := componentWithK(b, s, 1)
			n := 0
			for b.Loop() {
				n = 0
				err := s.StreamSubscribers(ctx, []string{target}, 1000, func(batch []gateway.Subscriber) error {
					n += len(batch)
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "subscribers/op")
			// A tenth of them (the whole-page twentieth and the
			// component's), less the suppressed 1 in 97.
			if want := total / 10; n < want*9/10 || n > want+1 {
				b.Errorf("streamed %d subscribers, want about %d", n, want*96/97)
			}
		})
	}
}

// seedMillion writes the benchmark's total subscribers (a million, for
// its figures) set-wise, in a few statements.
func seedMillion(b *testing.B, s *store.Store, total int) {
	b.Helper()
	now := time.Now().UTC()
	exec(b, s, `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < `+strconv.Itoa(total-1)+`)
		INSERT INTO subscribers (id, kind, address, status, all_components, token_nonce, created_at, updated_at)
		SELECT 's' || (1000000 + i), 'email', 'user' || i || '@example.com', 'active', (i % 20 = 0), 'n', ?, ? FROM n`, now, now)
	// Subscriber number k mod 20 picks the component (the 5% with k mod 20
	// = 0 are the whole-page ones).
	exec(b, s, `INSERT INTO subscriptions (subscriber_id, component_id, created_at)
		SELECT s.id, c.id, ? FROM subscribers s
		JOIN (SELECT id, ROW_NUMBER() OVER (ORDER BY name) - 1 AS k FROM components) c
		  ON c.k = CAST(SUBSTR(s.id, 2) AS INTEGER) % 20
		WHERE s.all_components = FALSE`, now)
	exec(b, s, `INSERT INTO suppressions (address_hash, reason, created_at)
		SELECT herald_sha256(address), 'bounce', ? FROM subscribers WHERE CAST(SUBSTR(id, 2) AS INTEGER) % 97 = 0`, now)
	exec(b, s, `ANALYZE`)
}

// componentWithK returns the id of the component the seed gave number k.
func componentWithK(b *testing.B, s *store.Store, k int) string {
	b.Helper()
	var id string
	err := s.DB().QueryRow(rebind(s, `SELECT id FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY name) - 1 AS k FROM components) c WHERE k = ?`), k).Scan(&id)
	if err != nil {
		b.Fatal(err)
	}
	return id
}
