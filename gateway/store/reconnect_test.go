package store_test

import (
	"context"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// TestAfterAnOutageNoRequestGetsADeadConnection: the connections idle in
// the pool are dead sockets once PostgreSQL went away. pgx checks a
// connection before reuse only when it was idle for more than a second, so
// without more, every connection used in the second before the outage
// fails one request after the database is back, although /readyz already
// says 200. Once the store has seen the database gone (here its Ping, as
// /readyz does), it checks them all before reuse.
func TestAfterAnOutageNoRequestGetsADeadConnection(t *testing.T) {
	u, err := url.Parse(storetest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	o := storetest.NewProxy(t, u.Host)
	o.Up()
	u.Host = o.Addr
	st := storetest.OpenURL(t, u.String())
	ctx := context.Background()

	const conns = 8
	for round := 0; round < 2; round++ {
		// Fill the pool with connections used a moment ago: each query
		// holds its connection until all of them have one.
		var wg sync.WaitGroup
		for i := 0; i < conns; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := st.DB().ExecContext(ctx, "SELECT pg_sleep(0.05)"); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if idle := st.DB().Stats().Idle; idle < conns/2 {
			t.Fatalf("only %d idle connections in the pool", idle)
		}

		start := time.Now()
		o.Down()
		if err := st.Ping(ctx); err == nil {
			t.Fatal("Ping succeeded with the database away")
		}
		o.Up()
		// As many requests at once as there are pooled connections.
		var failed atomic.Int32
		for i := 0; i < conns; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := st.Components(ctx); err != nil {
					t.Log(err)
					failed.Add(1)
				}
			}()
		}
		wg.Wait()
		if time.Since(start) > 900*time.Millisecond {
			t.Skip("the machine is too slow for this test: pgx's own one-second check took over")
		}
		if n := failed.Load(); n > 0 {
			t.Errorf("round %d: %d of %d requests failed after the database came back", round, n, conns)
		}
	}
}
