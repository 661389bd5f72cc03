package notify_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/metrics"
	"github.com/heraldstatus/herald/gateway/netguard"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/notify/email"
	"github.com/heraldstatus/herald/gateway/notify/webhook"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/internal/mailsink"
)

// Dependency faults of the fan-out (issue #9 point 3): real receivers that
// go down, hang, fail or cannot be resolved, and a dispatcher on the real
// clock (Run), on both stores.

// faultDispatcher runs a dispatcher with the given channels until the test
// ends; the backoff is short so retries happen within the test (the
// mechanism is the schedule's, whatever its steps).
func faultDispatcher(t *testing.T, s *store.Store, m *metrics.Metrics, chans map[gateway.Channel]notify.Notifier, tune func(*notify.Dispatcher)) {
	t.Helper()
	d := &notify.Dispatcher{Store: s, Notifiers: chans, Log: storetest.Logger(t), Metrics: m,
		Poll: 50 * time.Millisecond, StatsEvery: 100 * time.Millisecond,
		Backoff: notify.Backoff{Schedule: []time.Duration{300 * time.Millisecond, 600 * time.Millisecond, time.Second}, Jitter: -1}}
	if tune != nil {
		tune(d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

func broadcastAll(t *testing.T, s *store.Store, key string) string {
	t.Helper()
	res, err := (&notify.Planner{Store: s}).Broadcast(context.Background(), notify.Broadcast{
		Subject: "Maintenance " + key, Body: "Details.", IdempotencyKey: key})
	if err != nil {
		t.Fatal(err)
	}
	return res.Event.ID
}

func gauge(t *testing.T, g interface{ Write(*dto.Metric) error }) float64 {
	t.Helper()
	var v dto.Metric
	if err := g.Write(&v); err != nil {
		t.Fatal(err)
	}
	return v.GetGauge().GetValue()
}

func eventDeliveries(t *testing.T, s *store.Store, eventID string) []store.DeliveryLog {
	t.Helper()
	ds, err := s.Deliveries(context.Background(), store.DeliveryFilter{EventID: eventID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// TestSMTPServerDownPausesTheChannel stops the SMTP server for 20 seconds
// while a broadcast is due. The email channel pauses and probes instead of
// spending every delivery's retry schedule; once the server is back, every
// message goes out once, and no delivery counts an attempt for the outage.
// (The pause is the same for a minute or an hour: probes back off to
// PauseMax, 30 s by default; here 4 s so the test ends soon after.)
func TestSMTPServerDownPausesTheChannel(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		const subscribers = 60
		storetest.SeedSubscribers(t, s, gateway.SubscriberEmail, subscribers)
		sink := mailsink.Start(t, mailsink.Options{Keep: mailsink.KeepEnvelope})
		mail, err := email.NewSMTP(mailBuilder(t), email.SMTPOptions{URL: sink.URL(), MaxConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = mail.Close() })
		m := metrics.New()
		faultDispatcher(t, s, m, map[gateway.Channel]notify.Notifier{gateway.ChannelEmail: mail},
			func(d *notify.Dispatcher) { d.PauseMin, d.PauseMax = 250*time.Millisecond, 4*time.Second })
		paused := m.DeliveryChannelPaused.WithLabelValues("email")

		// Up: a first broadcast goes out, connections stay open.
		broadcastAll(t, s, "before")
		waitFor(t, "the first broadcast at the sink", func() bool { return sink.Count() == subscribers })

		// Down, then a second broadcast.
		sink.Close()
		down := time.Now()
		ev := broadcastAll(t, s, "during")
		waitFor(t, "the email channel to pause", func() bool { return gauge(t, paused) == 1 })
		time.Sleep(20*time.Second - time.Since(down))
		for _, d := range eventDeliveries(t, s, ev) {
			if d.Status == gateway.DeliverySent || d.Attempts != 0 && d.Status != gateway.DeliverySending {
				t.Fatalf("while the server is down: delivery %d is %s with %d attempts counted, want queued with none",
					d.ID, d.Status, d.Attempts)
			}
		}

		// Up again: a probe finds it and the channel resumes.
		sink.Restart(t)
		waitFor(t, "the second broadcast at the sink", func() bool { return sink.Count() == 2*subscribers })
		waitFor(t, "every delivery recorded", func() bool {
			for _, d := range eventDeliveries(t, s, ev) {
				if d.Status != gateway.DeliverySent {
					return false
				}
			}
			return true
		})
		if n := sink.Duplicates(); n != 0 {
			t.Errorf("%d messages were sent twice", n)
		}
		probes := 0
		for _, d := range eventDeliveries(t, s, ev) {
			if d.Attempts != 1 {
				t.Errorf("delivery %d counts %d attempts, want 1 (the outage is not its failure)", d.ID, d.Attempts)
			}
			for _, a := range d.Log {
				if a.Outcome == gateway.AttemptTemporary {
					probes++
					if !strings.Contains(a.Error, "connect") {
						t.Errorf("attempt during the outage says %q, want the connection failure", a.Error)
					}
				}
			}
		}
		// In hand when it went down (BacklogFactor per connection), then one
		// probe per wait: far fewer than one failed attempt per delivery.
		if probes == 0 || probes > 2*notify.BacklogFactor+20 {
			t.Errorf("%d failed attempts logged during the outage, want a few probes", probes)
		}
		if gauge(t, paused) != 0 {
			t.Error("the channel is still paused")
		}
		t.Logf("%d probes over 20 s down", probes)
	})
}

// TestBadWebhookReceiversAreIsolated sends to four receivers at once: one
// that hangs, one that answers 500, one that resets the connection, and a
// healthy one. The healthy receiver gets all its deliveries while the
// hanging one still holds its requests; the failing ones are retried with
// backoff, each attempt logged with what went wrong.
func TestBadWebhookReceiversAreIsolated(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		release := make(chan struct{})
		var hangingAt, hangingDone atomic.Int32
		hanging := newFaultReceiver(t, func(w http.ResponseWriter, r *http.Request) {
			hangingAt.Add(1)
			defer hangingDone.Add(1)
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		failing := newFaultReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
		})
		resetting := newFaultReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
			c, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				if tc, ok := c.(*net.TCPConn); ok {
					_ = tc.SetLinger(0) // RST, not FIN
				}
				c.Close()
			}
		})
		healthy := newFaultReceiver(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
		// More deliveries to the hanging receiver than there are workers:
		// waiting in line for its host would take them all.
		const perHanging, perBad, perHealthy = 40, 6, 60
		receiverOf := map[string]string{} // subscriber id → receiver URL
		for _, r := range []struct {
			rc *faultReceiver
			n  int
		}{{hanging, perHanging}, {failing, perBad}, {resetting, perBad}, {healthy, perHealthy}} {
			for i := range r.n {
				id := storetest.AddSubscriber(t, s, storetest.Subscriber{Kind: gateway.SubscriberWebhook,
					Address: fmt.Sprintf("%s/hook/%d", r.rc.URL, i), All: true})
				receiverOf[id] = r.rc.URL
			}
		}
		// Fewer slots per host (4) than workers (16), as in any
		// deployment (webhook_per_host against delivery.workers).
		hook, err := webhook.New(webhook.Options{Templates: defaultTemplates(t), BreakAfter: -1, PerHost: 4,
			Client: webhook.NewClient(webhook.ClientOptions{AllowPrivate: true, Timeout: 30 * time.Second})})
		if err != nil {
			t.Fatal(err)
		}
		faultDispatcher(t, s, nil, map[gateway.Channel]notify.Notifier{gateway.ChannelWebhook: hook},
			func(d *notify.Dispatcher) { d.Workers = 16 })
		ev := broadcastAll(t, s, "hooks")

		// The hanging receiver holds its host's 4 slots (and 4 wait; the
		// rest of its deliveries are deferred), and yet every healthy
		// delivery completes before any hanging request returns.
		waitFor(t, "the healthy receiver's deliveries", func() bool { return healthy.count() == perHealthy })
		if hangingAt.Load() == 0 || hangingDone.Load() != 0 {
			t.Errorf("when the healthy receiver had all: the hanging one got %d requests and answered %d, want some and none",
				hangingAt.Load(), hangingDone.Load())
		}
		// Deliveries to it that found its line full went back to the
		// queue, uncounted (while its host is saturated, they wait there).
		deferred := 0
		for _, d := range eventDeliveries(t, s, ev) {
			if receiverOf[d.SubscriberID] != hanging.URL {
				continue
			}
			if d.Attempts > 1 {
				t.Errorf("hanging delivery %d counts %d attempts; waiting for its host is not an attempt", d.ID, d.Attempts)
			}
			if strings.Contains(d.LastError, "deferred") {
				deferred++
			}
		}
		if deferred == 0 {
			t.Error("no delivery to the hanging receiver was deferred")
		}
		// The failing ones are retried: a request per attempt, with backoff.
		waitFor(t, "retries of the 500 and reset receivers", func() bool {
			return failing.count() >= 2*perBad && resetting.count() >= 2*perBad
		})
		close(release)

		byHost := map[string][]store.DeliveryLog{}
		for _, d := range eventDeliveries(t, s, ev) {
			byHost[receiverOf[d.SubscriberID]] = append(byHost[receiverOf[d.SubscriberID]], d)
		}
		for _, d := range byHost[healthy.URL] {
			if d.Status != gateway.DeliverySent || d.Attempts != 1 {
				t.Errorf("healthy delivery %d: %s after %d attempts, want sent after 1", d.ID, d.Status, d.Attempts)
			}
		}
		for _, rc := range []struct {
			url, want string
		}{{failing.URL, "500"}, {resetting.URL, "EOF"}} {
			for _, d := range byHost[rc.url] {
				if len(d.Log) == 0 {
					t.Errorf("delivery %d to %s: no attempt logged", d.ID, rc.url)
					continue
				}
				a := d.Log[0]
				if a.Outcome != gateway.AttemptTemporary || !strings.Contains(a.Error+fmt.Sprint(a.Code), rc.want) &&
					!strings.Contains(a.Error, "reset") {
					t.Errorf("delivery %d to %s: first attempt %+v, want a temporary failure mentioning %s", d.ID, rc.url, a, rc.want)
				}
				if d.Status == gateway.DeliverySent {
					t.Errorf("delivery %d to a failing receiver is sent", d.ID)
				}
			}
		}
	})
}

// TestUnresolvableHostsRetry points the SMTP server and a webhook at host
// names that do not resolve (a resolver that fails every lookup stands in
// for DNS): each attempt fails with the lookup error, is retried (email by
// pausing the channel, the webhook by its schedule), and nothing crashes.
func TestUnresolvableHostsRetry(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		resolver := &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("no DNS in this test")
		}}
		dialer := &net.Dialer{Timeout: 5 * time.Second, Resolver: resolver}
		mail, err := email.NewSMTP(mailBuilder(t), email.SMTPOptions{URL: "smtp://mail.example.invalid:25?tls=none", Dial: dialer.DialContext})
		if err != nil {
			t.Fatal(err)
		}
		guard := netguard.NewDialer(dialer, true)
		hook, err := webhook.New(webhook.Options{Templates: defaultTemplates(t),
			Client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: guard.DialContext}}})
		if err != nil {
			t.Fatal(err)
		}
		storetest.AddSubscriber(t, s, storetest.Subscriber{Address: "a@example.com", All: true})
		storetest.AddSubscriber(t, s, storetest.Subscriber{Kind: gateway.SubscriberWebhook, Address: "https://hooks.example.invalid/x", All: true})
		m := metrics.New()
		faultDispatcher(t, s, m, map[gateway.Channel]notify.Notifier{gateway.ChannelEmail: mail, gateway.ChannelWebhook: hook},
			func(d *notify.Dispatcher) { d.PauseMin, d.PauseMax = 100*time.Millisecond, 200*time.Millisecond })
		ev := broadcastAll(t, s, "dns")
		var mailD, hookD store.DeliveryLog
		waitFor(t, "failed attempts on both channels", func() bool {
			for _, d := range eventDeliveries(t, s, ev) {
				if d.Channel == gateway.ChannelEmail {
					mailD = d
				} else {
					hookD = d
				}
			}
			return len(mailD.Log) >= 2 && len(hookD.Log) >= 2
		})
		for _, d := range []store.DeliveryLog{mailD, hookD} {
			t.Logf("%s: %s, %d attempts counted, first error %q", d.Channel, d.Status, d.Attempts, d.Log[0].Error)
			for _, a := range d.Log[:2] {
				if a.Outcome != gateway.AttemptTemporary || !strings.Contains(a.Error, "lookup") || !strings.Contains(a.Error, ".invalid") {
					t.Errorf("%s attempt: %s %q, want a temporary failure naming the failed lookup", d.Channel, a.Outcome, a.Error)
				}
			}
		}
		if mailD.Attempts > 1 {
			t.Errorf("the email delivery counts %d attempts; an SMTP server that cannot be found is not its failure", mailD.Attempts)
		}
		if hookD.Attempts < 2 || hookD.Status == gateway.DeliveryDead && hookD.Attempts < 4 {
			t.Errorf("the webhook delivery: %s after %d attempts, want retried on its schedule", hookD.Status, hookD.Attempts)
		}
		if gauge(t, m.DeliveryChannelPaused.WithLabelValues("email")) != 1 {
			t.Error("the email channel is not paused")
		}
		for _, c := range []struct{ channel, reason string }{{"email", "channel_down"}, {"webhook", "dns"}} {
			var v dto.Metric
			if err := m.DeliveryFailures.WithLabelValues(c.channel, c.reason).Write(&v); err != nil || v.GetCounter().GetValue() < 1 {
				t.Errorf("herald_delivery_failures_total{channel=%q,reason=%q} = %v, want at least 1", c.channel, c.reason, v.GetCounter().GetValue())
			}
		}
	})
}

// faultReceiver is an httptest server counting its requests.
type faultReceiver struct {
	*httptest.Server
	n atomic.Int32
}

func newFaultReceiver(t *testing.T, h http.HandlerFunc) *faultReceiver {
	rc := &faultReceiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.n.Add(1)
		h(w, r)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *faultReceiver) count() int { return int(rc.n.Load()) }
