package subscribers_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/subscribers"
)

const publicURL = "https://status.example.com"

// clock is a settable clock for the service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// resolver answers host lookups from a table, so tests need no DNS.
type resolver map[string][]netip.Addr

func (r resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := r[host]; ok {
		return a, nil
	}
	return nil, &netErr{host}
}

type netErr struct{ host string }

func (e *netErr) Error() string { return "no such host " + e.host }

var testResolver = resolver{
	"hooks.example.com": {netip.MustParseAddr("93.184.216.34")},
	"localhost":         {netip.MustParseAddr("127.0.0.1")},
	"internal.example":  {netip.MustParseAddr("10.1.2.3")},
	"mixed.example.com": {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("192.168.1.1")},
}

// env is a service over a fresh store with a page of components.
type env struct {
	st    *store.Store
	svc   *subscribers.Service
	clock *clock
	// comps are component ids by name: Space, Move (group Modules), App.
	comps  map[string]string
	groups map[string]string
}

func newEnv(t testing.TB, st *store.Store, tweak ...func(*subscribers.Options)) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{st: st, clock: &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)},
		comps: map[string]string{}, groups: map[string]string{}}
	g := gateway.ComponentGroup{Name: "Modules", Position: -1}
	if err := st.CreateComponentGroup(ctx, &g); err != nil {
		t.Fatal(err)
	}
	e.groups["Modules"] = g.ID
	for _, c := range []gateway.Component{{Name: "Space", GroupID: g.ID}, {Name: "Move", GroupID: g.ID}, {Name: "App"}} {
		c.Position = -1
		if err := st.CreateComponent(ctx, &c); err != nil {
			t.Fatal(err)
		}
		e.comps[c.Name] = c.ID
	}
	o := subscribers.Options{Key: []byte("0123456789abcdef0123456789abcdef"), PublicURL: publicURL,
		Page: gateway.PageInfo{Name: "Example", URL: publicURL}, Log: storetest.Logger(t), Now: e.clock.Now,
		Resolver: testResolver, IPBurst: 1000}
	for _, f := range tweak {
		f(&o)
	}
	e.svc = subscribers.New(st, o)
	return e
}

// subscriberID finds an email subscriber by its stored address.
func (e *env) subscriberID(t testing.TB, addr string) string {
	t.Helper()
	sub, err := e.st.SubscriberByAddress(context.Background(), gateway.SubscriberEmail, addr)
	if err != nil {
		t.Fatalf("subscriber %s: %v", addr, err)
	}
	return sub.ID
}

// confirmations returns the subscriber.confirm events of a subscriber,
// oldest first.
func (e *env) confirmations(t testing.TB, subID string) []*gateway.Event {
	t.Helper()
	rows, err := e.st.DB().Query(storetest.Rebind(e.st,
		`SELECT id FROM events WHERE subscriber_id = ? AND type = 'subscriber.confirm' ORDER BY created_at, id`), subID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	var out []*gateway.Event
	for _, id := range ids {
		ev, err := e.st.Event(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

// notify writes an incident event on the named components, plans it, and
// returns the subscriber ids it planned deliveries for.
func (e *env) notify(t testing.TB, components ...string) map[string]bool {
	t.Helper()
	ctx := context.Background()
	ev := gateway.Event{Type: gateway.EventIncidentUpdated, Notify: true}
	for _, c := range components {
		ev.ComponentIDs = append(ev.ComponentIDs, e.comps[c])
	}
	if err := e.st.CreateEvent(ctx, &ev); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.PlanEvent(ctx, ev.ID); err != nil {
		t.Fatal(err)
	}
	return e.deliveredTo(t, ev.ID)
}

func (e *env) deliveredTo(t testing.TB, eventID string) map[string]bool {
	t.Helper()
	rows, err := e.st.DB().Query(storetest.Rebind(e.st, `SELECT subscriber_id FROM deliveries WHERE event_id = ?`), eventID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out[id] = true
	}
	return out
}

// tokenOf takes the token out of a link.
func tokenOf(t testing.TB, link, prefix string) string {
	t.Helper()
	tok, ok := strings.CutPrefix(link, publicURL+prefix)
	if !ok || tok == "" {
		t.Fatalf("link %q does not start with %s", link, publicURL+prefix)
	}
	return tok
}

// fieldOf returns the field an error names, "" when none.
func fieldOf(err error) string {
	var ge *gateway.Error
	if !errors.As(err, &ge) {
		return ""
	}
	for k := range ge.Fields {
		return k
	}
	return ""
}
