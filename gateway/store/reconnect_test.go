package store_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// outage forwards TCP connections to a database and can take it away and
// bring it back on the same address: a PostgreSQL restart or failover, as a
// running herald sees it.
type outage struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newOutage(t *testing.T, target string) *outage {
	o := &outage{t: t, target: target}
	o.up()
	o.addr = o.ln.Addr().String()
	t.Cleanup(o.down)
	return o
}

func (o *outage) up() {
	addr := o.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		o.t.Fatal(err)
	}
	o.mu.Lock()
	o.ln = ln
	o.mu.Unlock()
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", o.target)
			if err != nil {
				in.Close()
				continue
			}
			o.mu.Lock()
			o.conns = append(o.conns, in, out)
			o.mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
}

// down refuses new connections and severs the open ones.
func (o *outage) down() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ln != nil {
		o.ln.Close()
		o.ln = nil
	}
	for _, c := range o.conns {
		c.Close()
	}
	o.conns = nil
}

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
	o := newOutage(t, u.Host)
	u.Host = o.addr
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
		o.down()
		if err := st.Ping(ctx); err == nil {
			t.Fatal("Ping succeeded with the database away")
		}
		o.up()
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
