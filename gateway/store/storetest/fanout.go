package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// Subscriber describes a subscriber row for a fan-out test. The fan-out
// tests write subscribers directly (as the subscribers code will store
// them: address normalized), so they do not depend on that code.
type Subscriber struct {
	Kind       gateway.SubscriberKind   // default email
	Address    string                   // normalized on the way in
	Status     gateway.SubscriberStatus // default active
	All        bool                     // the whole page
	Components []string                 // component ids
	Groups     []string                 // group ids
}

// AddSubscriber inserts a subscriber with its subscriptions and returns its id.
func AddSubscriber(tb testing.TB, s *store.Store, x Subscriber) string {
	tb.Helper()
	if x.Kind == "" {
		x.Kind = gateway.SubscriberEmail
	}
	if x.Status == "" {
		x.Status = gateway.SubscriberActive
	}
	id := gateway.NewID()
	now := time.Now().UTC()
	Exec(tb, s, `INSERT INTO subscribers (id, kind, address, status, all_components, token_nonce, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 'n', ?, ?)`, id, x.Kind, gateway.NormalizeAddress(x.Address), x.Status, x.All, now, now)
	for _, c := range x.Components {
		Exec(tb, s, `INSERT INTO subscriptions (subscriber_id, component_id, created_at) VALUES (?, ?, ?)`, id, c, now)
	}
	for _, g := range x.Groups {
		Exec(tb, s, `INSERT INTO group_subscriptions (subscriber_id, group_id, created_at) VALUES (?, ?, ?)`, id, g, now)
	}
	return id
}

// SeedSubscribers inserts n active subscribers of the whole page of one
// kind (email: userN@example.com; webhook: https://hooks.example.com/N),
// a thousand rows per statement.
func SeedSubscribers(tb testing.TB, s *store.Store, kind gateway.SubscriberKind, n int) {
	tb.Helper()
	now := time.Now().UTC()
	for start := 0; start < n; start += 1000 {
		q := `INSERT INTO subscribers (id, kind, address, status, all_components, token_nonce, created_at, updated_at) VALUES `
		var args []any
		for i := start; i < min(start+1000, n); i++ {
			if i > start {
				q += ", "
			}
			addr := fmt.Sprintf("user%d@example.com", i)
			if kind == gateway.SubscriberWebhook {
				addr = fmt.Sprintf("https://hooks.example.com/%d", i)
			}
			q += "(?, ?, ?, 'active', TRUE, 'n', ?, ?)"
			args = append(args, gateway.NewID(), kind, addr, now, now)
		}
		Exec(tb, s, q, args...)
	}
}

// Suppress puts an address on the suppression list by its AddressHash, as
// the subscribers code does.
func Suppress(tb testing.TB, s *store.Store, address string) {
	tb.Helper()
	Exec(tb, s, `INSERT INTO suppressions (address_hash, reason, created_at) VALUES (?, 'complaint', ?)`,
		gateway.AddressHash(address), time.Now().UTC())
}

// Exec runs a statement written with ? placeholders on either database.
func Exec(tb testing.TB, s *store.Store, q string, args ...any) {
	tb.Helper()
	if _, err := s.DB().Exec(Rebind(s, q), args...); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
}

// Rebind turns ? placeholders into the store's dialect.
func Rebind(s *store.Store, q string) string {
	if s.Dialect() == store.Postgres {
		return sqlx.Rebind(sqlx.DOLLAR, q)
	}
	return q
}
