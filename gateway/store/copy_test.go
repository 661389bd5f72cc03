package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// other is the dialect a copy from d goes to.
func other(d string) string {
	if d == "sqlite" {
		return "postgres"
	}
	return "sqlite"
}

// openRaw opens a fresh database of dialect d without migrating it.
func openRaw(t *testing.T, d string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), storetest.URL(t, d), storetest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// The table list comes from the database: every table after the tables
// its foreign keys reference, so rows always find their parents, and a
// table that a later migration adds is there without anyone listing it.
func TestTablesInDependencyOrder(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		storetest.Exec(t, s, `CREATE TABLE zz_added_later (id TEXT PRIMARY KEY, component_id TEXT NOT NULL REFERENCES components (id))`)
		tables, err := s.Tables(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pos := map[string]int{}
		for i, tb := range tables {
			pos[tb.Name] = i
		}
		for _, tb := range tables {
			for _, p := range tb.Parents {
				if pos[p] >= pos[tb.Name] {
					t.Errorf("%s comes before its parent %s", tb.Name, p)
				}
			}
			if len(tb.Key) == 0 {
				t.Errorf("%s: no primary key found", tb.Name)
			}
		}
		for _, want := range []string{"settings", "subscribers", "subscriptions", "deliveries", "audit_log", "timers", "zz_added_later"} {
			if _, ok := pos[want]; !ok {
				t.Errorf("table %s missing from %v", want, pos)
			}
		}
		if _, ok := pos["goose_db_version"]; ok {
			t.Error("the migrations' bookkeeping is listed as data")
		}
		if pos["zz_added_later"] < pos["components"] {
			t.Error("the added table comes before the table it references")
		}
	})
}

// A copy carries a table no Herald code names, sets PostgreSQL's
// sequences past the copied ids, re-queues what was being sent, frees
// timers' leases, and verifies every table.
func TestCopyBetweenDialects(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d+"→"+other(d), func(t *testing.T) {
			ctx := context.Background()
			src := storetest.Open(t, d)
			storetest.Exec(t, src, `CREATE TABLE zz_added_later (id TEXT PRIMARY KEY, note TEXT NOT NULL, at TIMESTAMP)`)
			storetest.Exec(t, src, `INSERT INTO zz_added_later (id, note, at) VALUES ('x', 'é "quoted" {json}', ?)`,
				time.Date(2021, 9, 16, 13, 15, 0, 123456000, time.UTC))
			storetest.Exec(t, src, `INSERT INTO audit_log (at, actor, actor_kind, action, detail) VALUES (?, 'a', 'user', 'x.y', '{"k":[1,2]}')`, time.Now())
			sub := storetest.AddSubscriber(t, src, storetest.Subscriber{Address: "a@example.com", All: true})
			now := time.Now().UTC()
			storetest.Exec(t, src, `INSERT INTO events (id, type, actor, created_at) VALUES ('ev1', 'broadcast', 'test', ?)`, now)
			storetest.Exec(t, src, `INSERT INTO deliveries (event_id, subscriber_id, channel, status, attempts, next_attempt_at, lease_until, lease_owner, created_at, updated_at)
				VALUES ('ev1', ?, 'email', 'sending', 1, ?, ?, 'old-node', ?, ?)`, sub, now, now.Add(time.Minute), now, now)
			storetest.Exec(t, src, `INSERT INTO timers (kind, ref_id, due_at, lease_until, lease_owner, created_at) VALUES ('notify', 'i1', ?, ?, 'old-node', ?)`,
				now, now.Add(time.Minute), now)

			dst := openRaw(t, other(d))
			storetestCreateAddedTable(t, dst)
			plan, err := store.PlanCopy(ctx, src, dst, store.CopyOptions{Watch: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			var last int64
			report, err := plan.Run(ctx, func(n int64) { last = n })
			if err != nil {
				t.Fatal(err)
			}
			if !report.OK() || last != plan.Rows() {
				t.Fatalf("report %+v, progress %d of %d", report, last, plan.Rows())
			}
			if !slices.ContainsFunc(report.Tables, func(r store.TableReport) bool { return r.Name == "zz_added_later" && r.TargetRows == 1 }) {
				t.Errorf("the added table was not copied: %+v", report.Tables)
			}
			if err := dst.Prepare(ctx); err != nil {
				t.Fatal(err)
			}
			var note string
			var at time.Time
			if err := dst.DB().QueryRow("SELECT note, at FROM zz_added_later").Scan(&note, &at); err != nil {
				t.Fatal(err)
			}
			if note != `é "quoted" {json}` || !at.Equal(time.Date(2021, 9, 16, 13, 15, 0, 123456000, time.UTC)) {
				t.Errorf("row = %q %v", note, at)
			}
			// The next id does not collide with a copied one.
			storetest.Exec(t, dst, `INSERT INTO audit_log (at, actor, actor_kind, action) VALUES (?, 'b', 'user', 'after.copy')`, time.Now())
			var status string
			var owner *string
			if err := dst.DB().QueryRow(storetest.Rebind(dst, "SELECT status, lease_owner FROM deliveries WHERE subscriber_id = ?"), sub).Scan(&status, &owner); err != nil {
				t.Fatal(err)
			}
			if status != string(gateway.DeliveryRetrying) || owner != nil {
				t.Errorf("the delivery being sent is %s owned by %v, want retrying and free", status, owner)
			}
			if err := dst.DB().QueryRow("SELECT lease_owner FROM timers").Scan(&owner); err != nil || owner != nil {
				t.Errorf("timer lease owner %v (%v), want none", owner, err)
			}
		})
	}
}

func storetestCreateAddedTable(t *testing.T, st *store.Store) {
	t.Helper()
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	typ := "TIMESTAMP"
	if st.Dialect() == store.Postgres {
		typ = "TIMESTAMPTZ"
	}
	storetest.Exec(t, st, `CREATE TABLE zz_added_later (id TEXT PRIMARY KEY, note TEXT NOT NULL, at `+typ+`)`)
}

// A copy refuses a target with rows, naming the table, unless told to
// empty it; a source behind this binary's migrations; and a target with
// tables Herald did not create.
func TestCopyRefuses(t *testing.T) {
	ctx := context.Background()
	plan := func(src, dst *store.Store, o store.CopyOptions) error {
		o.Watch = 50 * time.Millisecond
		_, err := store.PlanCopy(ctx, src, dst, o)
		return err
	}
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			src := storetest.Open(t, d)
			storetest.AddSubscriber(t, src, storetest.Subscriber{Address: "a@example.com", All: true})

			full := storetest.Open(t, other(d))
			storetest.Suppress(t, full, "x@example.com")
			err := plan(src, full, store.CopyOptions{})
			if !errors.Is(err, store.ErrCopyRefused) || !strings.Contains(err.Error(), "suppressions has 1 row") {
				t.Errorf("non-empty target: %v", err)
			}
			if err := plan(src, full, store.CopyOptions{Restart: true}); err != nil {
				t.Errorf("non-empty target with restart: %v", err)
			}

			foreign := openRaw(t, other(d))
			storetest.Exec(t, foreign, "CREATE TABLE mine (id INTEGER PRIMARY KEY)")
			if err := plan(src, foreign, store.CopyOptions{}); !errors.Is(err, store.ErrCopyRefused) || !strings.Contains(err.Error(), "mine") {
				t.Errorf("foreign tables: %v", err)
			}

			storetest.Exec(t, src, "DELETE FROM goose_db_version WHERE version_id = (SELECT MAX(version_id) FROM goose_db_version)")
			if err := plan(src, openRaw(t, other(d)), store.CopyOptions{}); !errors.Is(err, store.ErrCopyRefused) || !strings.Contains(err.Error(), "herald migrate up") {
				t.Errorf("source behind: %v", err)
			}
		})
	}
}

// An interrupted copy leaves the target as it found it, migrated and
// empty, so running it again simply starts over.
func TestCopyInterruptedStartsOver(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d+"→"+other(d), func(t *testing.T) {
			src := storetest.Open(t, d)
			storetest.SeedSubscribers(t, src, gateway.SubscriberEmail, 6000)
			dst := openRaw(t, other(d))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			plan, err := store.PlanCopy(ctx, src, dst, store.CopyOptions{Watch: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			// Stopped part way through the subscribers, after other tables.
			if _, err := plan.Run(ctx, func(n int64) {
				if n >= 5000 {
					cancel()
				}
			}); err == nil {
				t.Fatal("the interrupted copy reported success")
			}
			again, err := store.PlanCopy(context.Background(), src, dst, store.CopyOptions{Watch: 50 * time.Millisecond})
			if err != nil {
				t.Fatalf("after the interruption: %v", err)
			}
			report, err := again.Run(context.Background(), nil)
			if err != nil || !report.OK() {
				t.Fatalf("the copy again: %v %+v", err, report)
			}
		})
	}
}
