package email

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// conn is one SMTP connection of the pool, between transactions.
type conn struct {
	client *smtp.Client
	raw    net.Conn // the TCP connection under any TLS: closing it aborts whatever runs
	sent   int      // messages accepted on this connection
	idle   time.Time
	reused bool // handed out before: it may have been closed by the server meanwhile
	broken bool // closed under a transaction (its context ended)
}

// errClosed is returned once the sender is closed.
var errClosed = errors.New("email: smtp sender is closed")

// pool keeps at most cap(slots) connections, idle or in use, to one
// server. A slot is held for as long as a connection exists (or is being
// dialled), so max_conns bounds what the server sees, not only what runs.
type pool struct {
	slots chan struct{}
	idle  chan *conn
	dial  func(ctx context.Context) (*conn, error)
	quit  func(*conn) // ends a connection politely, bounded in time

	idleTimeout time.Duration
	perConn     int // messages after which a connection is retired
	now         func() time.Time

	mu     sync.Mutex
	closed bool
}

func newPool(size, perConn int, idleTimeout time.Duration, dial func(context.Context) (*conn, error), quit func(*conn)) *pool {
	return &pool{
		slots: make(chan struct{}, size), idle: make(chan *conn, size),
		dial: dial, quit: quit, idleTimeout: idleTimeout, perConn: perConn, now: time.Now,
	}
}

// get returns an idle connection that has not idled too long, or dials a
// new one when a slot is free, or waits for either until ctx ends.
func (p *pool) get(ctx context.Context) (*conn, error) {
	for {
		if p.isClosed() {
			return nil, errClosed
		}
		select {
		case c := <-p.idle:
			if c = p.fresh(c); c != nil {
				return c, nil
			}
			continue
		default:
		}
		select {
		case c := <-p.idle:
			if c = p.fresh(c); c != nil {
				return c, nil
			}
		case p.slots <- struct{}{}:
			c, err := p.dial(ctx)
			if err != nil {
				<-p.slots
				return nil, err
			}
			return c, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// fresh returns c marked as reused, or nil (having closed it and freed its
// slot) when it idled past the idle timeout: servers drop idle clients,
// and a connection they dropped fails the next transaction.
func (p *pool) fresh(c *conn) *conn {
	if p.now().Sub(c.idle) > p.idleTimeout {
		c.raw.Close()
		<-p.slots
		return nil
	}
	c.reused = true
	return c
}

// put takes c back after a transaction. A healthy connection goes back
// to the idle list, unless it has carried perConn messages or the pool is
// closed: then it ends with QUIT. A broken one is closed. Either way an
// ended connection frees its slot.
func (p *pool) put(c *conn, healthy bool) {
	p.mu.Lock()
	keep := healthy && !p.closed && c.sent < p.perConn
	if keep {
		c.idle = p.now()
		p.idle <- c // never blocks: idle has room for every slot
	}
	p.mu.Unlock()
	switch {
	case keep:
		return
	case healthy:
		p.quit(c)
	default:
		c.raw.Close()
	}
	<-p.slots
}

func (p *pool) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// close ends the idle connections; those in use end when they come back.
func (p *pool) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	for {
		select {
		case c := <-p.idle:
			p.quit(c)
			<-p.slots
		default:
			return
		}
	}
}
