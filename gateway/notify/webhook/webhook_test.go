package webhook_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/netguard"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/notify/webhook"
)

// TestSignVector checks Sign against the example of the Standard Webhooks
// specification.
func TestSignVector(t *testing.T) {
	got, err := webhook.Sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; err != nil || got != want {
		t.Errorf("Sign = %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{"", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_c2hvcnQ="} {
		if _, err := webhook.Sign(bad, "id", now, nil); !errors.Is(err, webhook.ErrSecret) {
			t.Errorf("Sign(secret %q) = %v, want ErrSecret", bad, err)
		}
	}
}

func TestNewSecret(t *testing.T) {
	a, b := webhook.NewSecret(), webhook.NewSecret()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "whsec_"))
	if !strings.HasPrefix(a, "whsec_") || err != nil || len(key) != 24 || a == b {
		t.Errorf("NewSecret = %q, %q (%v)", a, b, err)
	}
	if _, err := standardwebhooks.NewWebhook(a); err != nil {
		t.Errorf("the Standard Webhooks library refuses %q: %v", a, err)
	}
}

// TestNotifySigned: every format arrives signed so that the Standard
// Webhooks library verifies it, with a webhook-id that stays the same on a
// retry.
func TestNotifySigned(t *testing.T) {
	rc := newReceiver(t, status(http.StatusNoContent))
	n := newNotifier(t, webhook.Options{Now: time.Now}) // the library checks the timestamp against its clock
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	for i, format := range []gateway.WebhookFormat{"", gateway.FormatStatuspage, gateway.FormatSlack, gateway.FormatGeneric} {
		m := message(t, gateway.EventIncidentCreated, format, rc.URL+"/hook?x=1", int64(i))
		for range 2 {
			res, retry, err := n.Notify(context.Background(), m)
			if err != nil || retry || res.Code != http.StatusNoContent {
				t.Fatalf("%q: Notify = %+v retry=%v err=%v", format, res, retry, err)
			}
		}
	}
	reqs := rc.got()
	if len(reqs) != 8 {
		t.Fatalf("receiver got %d requests, want 8", len(reqs))
	}
	for i, r := range reqs {
		if err := wh.Verify(r.Body, r.Header); err != nil {
			t.Errorf("request %d: signature does not verify: %v", i, err)
		}
		if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("User-Agent") != "Herald-Webhooks/1" {
			t.Errorf("request %d: headers %v", i, r.Header)
		}
		if i%2 == 1 && r.Header.Get("webhook-id") != reqs[i-1].Header.Get("webhook-id") {
			t.Errorf("retry of request %d has webhook-id %q, first %q", i, r.Header.Get("webhook-id"), reqs[i-1].Header.Get("webhook-id"))
		}
	}
	if reqs[0].Header.Get("webhook-id") == reqs[2].Header.Get("webhook-id") {
		t.Error("two deliveries share a webhook-id")
	}
}

// TestStatuses: how each answer of a receiver is classified.
func TestStatuses(t *testing.T) {
	tests := []struct {
		code  int
		retry bool
		ok    bool
		gone  bool
	}{
		{200, false, true, false}, {201, false, true, false}, {202, false, true, false}, {204, false, true, false},
		{301, false, false, false}, {302, false, false, false}, {307, false, false, false}, {308, false, false, false},
		{400, false, false, false}, {401, false, false, false}, {403, false, false, false}, {404, false, false, false},
		{413, false, false, false}, {422, false, false, false},
		{408, true, false, false}, {429, true, false, false},
		{500, true, false, false}, {502, true, false, false}, {503, true, false, false}, {504, true, false, false},
		{410, false, false, true},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.code), func(t *testing.T) {
			elsewhere := newReceiver(t, status(200))
			rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.Header().Set("Location", elsewhere.URL)
				w.WriteHeader(tt.code)
				w.Write([]byte("answer " + strconv.Itoa(tt.code)))
			})
			res, retry, err := newNotifier(t, webhook.Options{}).Notify(context.Background(), message(t, gateway.EventTest, gateway.FormatGeneric, rc.URL, 1))
			if (err == nil) != tt.ok || retry != tt.retry || res.Gone != tt.gone || res.Code != tt.code {
				t.Errorf("Notify = %+v retry=%v err=%v; want ok=%v retry=%v gone=%v", res, retry, err, tt.ok, tt.retry, tt.gone)
			}
			if tt.code != 204 && tt.code != 304 && res.Response != "answer "+strconv.Itoa(tt.code) {
				t.Errorf("Response = %q", res.Response)
			}
			if n := len(elsewhere.got()); n != 0 {
				t.Errorf("the redirect target got %d requests: a redirect was followed", n)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tt := range []struct {
		header string
		want   time.Duration
	}{
		{"120", 2 * time.Minute},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"soon", 0},
		{"-5", 0},
		{"", 0},
	} {
		rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
			if tt.header != "" {
				w.Header().Set("Retry-After", tt.header)
			}
			w.WriteHeader(http.StatusTooManyRequests)
		})
		res, retry, _ := newNotifier(t, webhook.Options{}).Notify(context.Background(), message(t, gateway.EventTest, gateway.FormatGeneric, rc.URL, 1))
		if !retry || res.RetryAfter != tt.want {
			t.Errorf("Retry-After %q: RetryAfter = %v retry=%v, want %v", tt.header, res.RetryAfter, retry, tt.want)
		}
	}
}

// TestErrorThenOK: a 500 is retried and the retry succeeds.
func TestErrorThenOK(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 0 {
			http.Error(w, "database is down", http.StatusInternalServerError)
		}
	})
	n := newNotifier(t, webhook.Options{})
	m := message(t, gateway.EventIncidentResolved, gateway.FormatStatuspage, rc.URL, 9)
	if res, retry, err := n.Notify(context.Background(), m); err == nil || !retry || res.Code != 500 || res.Response != "database is down\n" {
		t.Fatalf("first: %+v retry=%v err=%v", res, retry, err)
	}
	if res, retry, err := n.Notify(context.Background(), m); err != nil || retry || res.Code != 200 {
		t.Fatalf("second: %+v retry=%v err=%v", res, retry, err)
	}
}

// TestSSRF: the default client refuses the loopback receiver at dial time,
// permanently; a name that resolves to loopback is refused the same way.
func TestSSRF(t *testing.T) {
	rc := newReceiver(t, status(200))
	n := newNotifier(t, webhook.Options{Client: webhook.NewClient(webhook.ClientOptions{})})
	port := rc.URL[strings.LastIndexByte(rc.URL, ':'):]
	for _, target := range []string{rc.URL, "http://localhost" + port + "/hook"} {
		_, retry, err := n.Notify(context.Background(), message(t, gateway.EventTest, gateway.FormatGeneric, target, 1))
		if retry || !errors.Is(err, netguard.ErrForbidden) {
			t.Errorf("%s: retry=%v err=%v, want a permanent refusal", target, retry, err)
		}
	}
	if len(rc.got()) != 0 {
		t.Error("the receiver was reached")
	}
}

func TestConnectionErrors(t *testing.T) {
	rc := newReceiver(t, status(200))
	url := rc.URL
	rc.Close() // nothing listens there any more
	_, retry, err := newNotifier(t, webhook.Options{}).Notify(context.Background(), message(t, gateway.EventTest, gateway.FormatGeneric, url, 1))
	if err == nil || !retry {
		t.Errorf("refused connection: retry=%v err=%v, want an error to retry", retry, err)
	}
}

// TestTimeout: a receiver that never answers is given up on and retried.
func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, func(http.ResponseWriter, *http.Request, int) { <-release })
	defer close(release)
	client := webhook.NewClient(webhook.ClientOptions{AllowPrivate: true, Timeout: 50 * time.Millisecond})
	_, retry, err := newNotifier(t, webhook.Options{Client: client}).Notify(context.Background(), message(t, gateway.EventTest, gateway.FormatGeneric, rc.URL, 1))
	if err == nil || !retry {
		t.Errorf("hanging receiver: retry=%v err=%v, want a timeout to retry", retry, err)
	}
}

// TestPerHost: a receiver that hangs holds at most PerHost workers; another
// receiver is served meanwhile, and a third request to the hanging one
// waits for a slot without reaching it.
func TestPerHost(t *testing.T) {
	release := make(chan struct{})
	var entered sync.WaitGroup
	entered.Add(2)
	slow := newReceiver(t, func(http.ResponseWriter, *http.Request, int) { entered.Done(); <-release })
	fast := newReceiver(t, status(200))
	n := newNotifier(t, webhook.Options{PerHost: 2})
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			n.Notify(context.Background(), message(t, gateway.EventTest, gateway.FormatGeneric, slow.URL, int64(i)))
		})
	}
	entered.Wait() // both slots of the slow host are taken
	if _, _, err := n.Notify(context.Background(), message(t, gateway.EventTest, gateway.FormatGeneric, fast.URL, 3)); err != nil {
		t.Errorf("fast receiver while the slow one hangs: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan bool)
	go func() {
		_, retry, err := n.Notify(ctx, message(t, gateway.EventTest, gateway.FormatGeneric, slow.URL, 4))
		done <- retry && errors.Is(err, context.Canceled)
	}()
	cancel()
	if !<-done {
		t.Error("a request waiting for a slot was not given up as retryable")
	}
	close(release)
	wg.Wait()
	if got := len(slow.got()); got != 2 {
		t.Errorf("slow receiver got %d requests, want 2", got)
	}
}

// TestPerHostDefers: with every slot of a host taken and the line not
// moving, a request is not kept waiting: within about a second it comes
// back deferred (retry, nothing sent), so its worker can serve other
// receivers; past that, requests to the stuck host are deferred at once.
func TestPerHostDefers(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	slow := newReceiver(t, func(http.ResponseWriter, *http.Request, int) { entered <- struct{}{}; <-release })
	n := newNotifier(t, webhook.Options{PerHost: 1})
	var wg sync.WaitGroup
	wg.Go(func() {
		n.Notify(context.Background(), message(t, gateway.EventTest, gateway.FormatGeneric, slow.URL, 1))
	})
	<-entered // the one slot is taken
	for i, when := range []string{"waiting in line", "with the host stuck"} {
		res, retry, err := n.Notify(context.Background(), message(t, gateway.EventTest, gateway.FormatGeneric, slow.URL, int64(2+i)))
		if !res.Deferred || !retry || err == nil || !strings.Contains(err.Error(), "deferred") {
			t.Errorf("%s: %+v retry=%v err=%v, want deferred", when, res, retry, err)
		}
	}
	close(release)
	wg.Wait()
	if got := len(slow.got()); got != 1 {
		t.Errorf("slow receiver got %d requests, want 1", got)
	}
	if _, _, err := n.Notify(context.Background(), message(t, gateway.EventTest, gateway.FormatGeneric, slow.URL, 4)); err != nil {
		t.Errorf("once the host answers again: %v", err)
	}
}

// TestResponseLimit: only ResponseLimit bytes of a large answer are kept.
func TestResponseLimit(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Write([]byte(strings.Repeat("x", 1<<20)))
	})
	res, _, err := newNotifier(t, webhook.Options{ResponseLimit: 1000}).Notify(context.Background(), message(t, gateway.EventTest, gateway.FormatGeneric, rc.URL, 1))
	if err != nil || len(res.Response) != 1000 {
		t.Errorf("Response of %d bytes (%v), want 1000", len(res.Response), err)
	}
}

// TestInvalid: deliveries that can never be sent are permanent failures.
func TestInvalid(t *testing.T) {
	rc := newReceiver(t, status(200))
	n := newNotifier(t, webhook.Options{})
	badSecret := message(t, gateway.EventTest, gateway.FormatGeneric, rc.URL, 1)
	badSecret.Subscriber.Secret = "hunter2"
	badEvent := message(t, gateway.EventTest, gateway.FormatSlack, rc.URL, 1)
	badEvent.Event.Type = "nope"
	for name, m := range map[string]*notify.Message{
		"format": message(t, gateway.EventTest, "xml", rc.URL, 1),
		"url":    message(t, gateway.EventTest, gateway.FormatGeneric, "ftp://example.com/x", 1),
		"no url": message(t, gateway.EventTest, gateway.FormatGeneric, "", 1),
		"secret": badSecret,
		"event":  badEvent,
	} {
		_, retry, err := n.Notify(context.Background(), m)
		if retry || !errors.Is(err, webhook.ErrInvalid) {
			t.Errorf("%s: retry=%v err=%v, want ErrInvalid", name, retry, err)
		}
	}
	if len(rc.got()) != 0 {
		t.Error("an invalid delivery reached the receiver")
	}
}
