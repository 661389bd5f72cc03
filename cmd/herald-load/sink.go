package main

// The sink mode is the receiving end of a fan-out benchmark: an SMTP
// server (go-smtp) and an HTTP server that accept everything, count it,
// and print the rate, so that Herald's delivery rate is measured where the
// messages arrive:
//
//	herald-load sink -smtp 127.0.0.1:2525 -http 127.0.0.1:8099 [-expect 1000000]
//
// GET /count on the HTTP address answers the counts as JSON, for scripts
// that wait for a fan-out to finish; any other request is a webhook
// delivery and is answered 200. Message-IDs (mail) and webhook-id headers
// are remembered, so re-sends show as duplicates instead of as speed.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/heraldstatus/herald/internal/mailsink"
)

// sinkCounts is what arrived. One mutex: a message costs far more than the
// lock, and the sink is never the bottleneck of a Herald fan-out.
type sinkCounts struct {
	mu                     sync.Mutex
	emails, webhooks, dups int64
	first, last            time.Time
	seen                   map[string]struct{}
}

// sinkSnapshot is /count's answer.
type sinkSnapshot struct {
	Emails     int64   `json:"emails"`
	Webhooks   int64   `json:"webhooks"`
	Duplicates int64   `json:"duplicates"`
	Seconds    float64 `json:"seconds"` // first to last arrival
}

// add counts one arrival; id (Message-ID or webhook-id) may be empty.
func (s *sinkCounts) add(email bool, id string) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.first.IsZero() {
		s.first = now
	}
	s.last = now
	if email {
		s.emails++
	} else {
		s.webhooks++
	}
	if id == "" {
		return
	}
	if _, dup := s.seen[id]; dup {
		s.dups++
		return
	}
	s.seen[id] = struct{}{}
}

func (s *sinkCounts) snapshot() sinkSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sinkSnapshot{Emails: s.emails, Webhooks: s.webhooks, Duplicates: s.dups, Seconds: s.last.Sub(s.first).Seconds()}
}

// addMail counts a message once per recipient, as a real server would
// deliver it.
func (s *sinkCounts) addMail(m mailsink.Message) {
	for i := range max(len(m.To), 1) {
		key := m.MessageID
		if i > 0 && key != "" {
			key = fmt.Sprintf("%s/%d", key, i)
		}
		s.add(true, key)
	}
}

// sinkMain runs the sink mode until interrupted or -expect arrivals, and
// returns the process's exit code.
func sinkMain(args []string) int {
	fs := flag.NewFlagSet("herald-load sink", flag.ContinueOnError)
	smtpAddr := fs.String("smtp", "127.0.0.1:2525", "SMTP listen address (empty: none)")
	httpAddr := fs.String("http", "127.0.0.1:8099", "HTTP listen address for webhooks and GET /count (empty: none)")
	every := fs.Duration("every", 5*time.Second, "print the counts and the rate this often")
	expect := fs.Int64("expect", 0, "exit once this many messages (emails and webhooks) arrived (0: run until interrupted)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *every <= 0 {
		*every = 5 * time.Second
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	counts := &sinkCounts{seen: map[string]struct{}{}}
	var lns [2]net.Listener
	for i, addr := range []string{*smtpAddr, *httpAddr} {
		if addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "herald-load sink:", err)
			return 1
		}
		lns[i] = ln
	}
	serveSink(ctx, counts, lns[0], lns[1])
	fmt.Printf("sink: smtp %s, http %s\n", *smtpAddr, *httpAddr)
	tick := time.NewTicker(*every)
	defer tick.Stop()
	start, prev := time.Now(), int64(0)
	for {
		select {
		case <-ctx.Done():
			printSink(counts.snapshot())
			return 0
		case <-tick.C:
		}
		s := counts.snapshot()
		n := s.Emails + s.Webhooks
		fmt.Printf("%6.0fs  emails %d  webhooks %d  duplicates %d  %.0f/s\n",
			time.Since(start).Seconds(), s.Emails, s.Webhooks, s.Duplicates, float64(n-prev)/every.Seconds())
		prev = n
		if *expect > 0 && n >= *expect {
			printSink(s)
			return 0
		}
	}
}

func printSink(s sinkSnapshot) {
	n := s.Emails + s.Webhooks
	rate := 0.0
	if s.Seconds > 0 {
		rate = float64(n) / s.Seconds
	}
	fmt.Printf("total   emails %d, webhooks %d, duplicates %d; %.1f s from first to last: %.0f msgs/s\n",
		s.Emails, s.Webhooks, s.Duplicates, s.Seconds, rate)
}

// serveSink serves SMTP on smtpLn and HTTP on httpLn (either may be nil)
// until ctx ends.
func serveSink(ctx context.Context, counts *sinkCounts, smtpLn, httpLn net.Listener) {
	if smtpLn != nil {
		mail := mailsink.New(mailsink.Options{Keep: mailsink.KeepCount, OnMessage: counts.addMail})
		go func() { _ = mail.Serve(smtpLn) }()
		context.AfterFunc(ctx, mail.Close)
	}
	if httpLn != nil {
		srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.TrimSuffix(r.URL.Path, "/") == "/count" {
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(counts.snapshot())
				return
			}
			_, _ = io.Copy(io.Discard, r.Body)
			counts.add(false, r.Header.Get("Webhook-Id"))
		})}
		go func() {
			if err := srv.Serve(httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				fmt.Fprintln(os.Stderr, "herald-load sink: http:", err)
			}
		}()
		context.AfterFunc(ctx, func() { _ = srv.Close() })
	}
}
