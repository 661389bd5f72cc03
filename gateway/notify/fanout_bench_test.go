package notify_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/notify/email"
	"github.com/heraldstatus/herald/gateway/notify/webhook"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/internal/gctune"
	"github.com/heraldstatus/herald/internal/mailsink"
)

// The fan-out benchmarks (issue #6 point 10): a broadcast to n subscribers
// through Herald's real channels (template rendering, MIME building,
// signing, the queue on a real store) to an in-process sink, and then the
// same number of the same messages sent to the same sink by a bare client
// with the same concurrency, in the same run. They report msgs/s for
// both, their ratio, the CPU time per message of each (the process's, the
// in-process sink's included on both sides) and the peak heap while Herald
// ran (flat: nothing is held per subscriber).
//
//	go test ./gateway/notify -run '^$' -bench 'FanOut' -benchtime 1x
//
// HERALD_BENCH_SUBSCRIBERS changes n (default 100,000) for a quick run
// (see storetest.BenchSubscribers).

// Concurrency shared by Herald and the bare clients.
const (
	benchSMTPConns   = 16 // smtp.max_conns's default
	benchHookPerHost = 16 // every webhook goes to one receiver here; the shared client keeps 16 idle connections per host
)

func benchSubscribers(b *testing.B) int {
	// The collector as `herald serve` sets it (see internal/gctune), so the
	// figures are the service's; the bare clients run with it too.
	gctune.Apply()
	return storetest.BenchSubscribers(b, 100_000)
}

func BenchmarkFanOutEmail(b *testing.B) {
	n := benchSubscribers(b)
	builder := mailBuilder(b)
	for _, d := range storetest.Databases() {
		b.Run(d, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				s := storetest.Open(b, d)
				storetest.SeedSubscribers(b, s, gateway.SubscriberEmail, n)
				// Count only, so that the heap measured is Herald's.
				sink := mailsink.Start(b, mailsink.Options{Keep: mailsink.KeepCount})
				mail, err := email.NewSMTP(builder, email.SMTPOptions{URL: sink.URL(),
					MaxConns: benchSMTPConns, MessagesPerConn: 1 << 30})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				herald, heap := runFanOut(b, s, gateway.ChannelEmail, mail, n, func() int64 { return int64(sink.Count()) })
				b.StopTimer()
				_ = mail.Close()

				// The bare client sends a message Herald built, to each
				// subscriber's address, on as many connections.
				msg := sampleMessage(b, s)
				env, err := builder.Build(msg)
				if err != nil {
					b.Fatal(err)
				}
				sink.Reset()
				bare := bareRate(b, n, benchSMTPConns, func() (func(i int) error, func()) {
					c, err := smtp.Dial(sink.Addr())
					if err != nil {
						b.Fatal(err)
					}
					return func(i int) error {
							return c.SendMail(env.From, []string{fmt.Sprintf("user%d@example.com", i)}, bytes.NewReader(env.Data))
						},
						func() { _ = c.Quit() }
				})
				if got := sink.Count(); got != n {
					b.Fatalf("the bare client delivered %d, want %d", got, n)
				}
				report(b, herald, bare, heap)
				b.StartTimer()
			}
		})
	}
}

func BenchmarkFanOutWebhook(b *testing.B) {
	n := benchSubscribers(b)
	tmpl := defaultTemplates(b)
	for _, d := range storetest.Databases() {
		b.Run(d, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				var got atomic.Int64
				recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_, _ = io.Copy(io.Discard, r.Body)
					got.Add(1)
					w.WriteHeader(http.StatusNoContent)
				}))
				s := storetest.Open(b, d)
				storetest.SeedSubscribers(b, s, gateway.SubscriberWebhook, n)
				storetest.Exec(b, s, `UPDATE subscribers SET address = REPLACE(address, 'https://hooks.example.com', ?)`, recv.URL)
				hook, err := webhook.New(webhook.Options{Client: webhook.NewClient(webhook.ClientOptions{AllowPrivate: true}),
					Templates: tmpl, PerHost: benchHookPerHost})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				herald, heap := runFanOut(b, s, gateway.ChannelWebhook, hook, n, got.Load)
				b.StopTimer()

				// The bare client posts the body Herald sends, with a
				// transport allowed as many connections.
				body, err := hook.Body(sampleMessage(b, s), time.Now())
				if err != nil {
					b.Fatal(err)
				}
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchHookPerHost}}
				got.Store(0)
				bare := bareRate(b, n, benchHookPerHost, func() (func(int) error, func()) {
					return func(int) error {
						res, err := client.Post(recv.URL, "application/json", bytes.NewReader(body))
						if err != nil {
							return err
						}
						_, _ = io.Copy(io.Discard, res.Body)
						return res.Body.Close()
					}, func() {}
				})
				if got.Load() != int64(n) {
					b.Fatalf("the bare client delivered %d, want %d", got.Load(), n)
				}
				client.CloseIdleConnections()
				recv.Close()
				report(b, herald, bare, heap)
				b.StartTimer()
			}
		})
	}
}

// phase is one side of a fan-out benchmark: messages a second, and the
// process's CPU time per message meanwhile. The sink runs in the process
// on both sides alike and waiting is not counted, so the difference in CPU
// is Herald's own work, which the rates mix with the host's state.
type phase struct {
	rate float64
	cpu  time.Duration // per message
}

// measure runs fn, which sends n messages, and returns its phase.
func measure(n int, fn func()) phase {
	start, cpu := time.Now(), processCPU()
	fn()
	return phase{rate: float64(n) / time.Since(start).Seconds(), cpu: (processCPU() - cpu) / time.Duration(n)}
}

// runFanOut broadcasts to everyone and runs a dispatcher with the one
// channel until the sink counted n messages and every outcome is recorded;
// it returns Herald's phase and the peak heap in use meanwhile.
func runFanOut(b *testing.B, s *store.Store, ch gateway.Channel, n notify.Notifier, want int, received func() int64) (herald phase, peakHeap uint64) {
	b.Helper()
	disp := &notify.Dispatcher{Store: s, Log: storetest.Logger(b), Poll: 50 * time.Millisecond,
		Notifiers: map[gateway.Channel]notify.Notifier{ch: n}, Links: benchLinks}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	stopHeap := make(chan struct{})
	heap := make(chan uint64, 1)
	go func() { heap <- sampleHeap(stopHeap) }()
	var res *notify.BroadcastResult
	herald = measure(want, func() {
		go func() { done <- disp.Run(ctx) }()
		p := &notify.Planner{Store: s, Wake: disp.Wake}
		var err error
		res, err = p.Broadcast(ctx, notify.Broadcast{Subject: "Maintenance tonight", Body: "The database moves at 22:00 UTC.", IdempotencyKey: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		storetest.WaitFor(b, storetest.HangGuard(want), 5*time.Millisecond, func() bool { return received() >= int64(want) },
			"the sink to receive every message")
		cancel()
		if err := <-done; err != nil { // Run returns once every outcome is recorded
			b.Fatal(err)
		}
	})
	close(stopHeap)
	counts, err := s.DeliveryCounts(context.Background(), res.Event.ID)
	if err != nil || counts[gateway.DeliverySent] != want || received() != int64(want) {
		b.Fatalf("after the run: %v, %v, %d received; want %d sent and received", counts, err, received(), want)
	}
	return herald, <-heap
}

// benchLinks are links shaped like the subscribers service's: the public
// URL and a token of purpose, subscriber id and a base64url MAC.
func benchLinks(sub *gateway.Subscriber) (manage, unsubscribe string) {
	const mac = "q0Zb3mX_Yk2-Lr9TfW1cJg"
	return "https://status.example.com/subscriptions/manage." + sub.ID + "." + mac,
		"https://status.example.com/unsubscribe/unsubscribe." + sub.ID + "." + mac
}

// sampleHeap returns the largest HeapInuse seen every 100 ms until stop.
func sampleHeap(stop chan struct{}) uint64 {
	var peak uint64
	var ms runtime.MemStats
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
		select {
		case <-stop:
			return peak
		case <-t.C:
		}
	}
}

// bareRate sends n messages on conns workers, each opened by open (which
// returns its send function and its close), and returns the phase.
func bareRate(b *testing.B, n, conns int, open func() (send func(i int) error, close func())) phase {
	b.Helper()
	var next atomic.Int64
	return measure(n, func() {
		var wg sync.WaitGroup
		for range conns {
			send, closeConn := open()
			wg.Go(func() {
				defer closeConn()
				for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
					if err := send(i); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
	})
}

// sampleMessage is a delivery of the benchmark's broadcast to one of its
// subscribers, as the dispatcher hands it to a channel.
func sampleMessage(b *testing.B, s *store.Store) *notify.Message {
	b.Helper()
	ds, err := s.Deliveries(context.Background(), store.DeliveryFilter{Limit: 1})
	if err != nil || len(ds) == 0 {
		b.Fatalf("a delivery to copy: %v", err)
	}
	events, recipients, err := s.Batch(context.Background(), []gateway.Delivery{ds[0].Delivery})
	if err != nil {
		b.Fatal(err)
	}
	r := recipients[ds[0].SubscriberID]
	m := &notify.Message{DeliveryID: ds[0].ID, Event: events[ds[0].EventID], Subscriber: &r.Subscriber}
	m.ManageURL, m.UnsubscribeURL = benchLinks(m.Subscriber)
	return m
}

func report(b *testing.B, herald, bare phase, heap uint64) {
	b.ReportMetric(herald.rate, "herald-msgs/s")
	b.ReportMetric(bare.rate, "bare-msgs/s")
	b.ReportMetric(herald.rate/bare.rate, "herald/bare")
	b.ReportMetric(float64(herald.cpu.Microseconds()), "herald-cpu-µs/msg")
	b.ReportMetric(float64(bare.cpu.Microseconds()), "bare-cpu-µs/msg")
	b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")
}
