package webhook_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/notify/webhook"
	"github.com/heraldstatus/herald/templates"
)

// receiver is a real HTTP server (httptest) that records every request
// and answers as its handler says: the receiver every test talks to.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []request
	answer   func(w http.ResponseWriter, r *http.Request, n int) // n: 0-based request number
}

type request struct {
	Header http.Header
	Body   []byte
}

func newReceiver(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, n int)) *receiver {
	t.Helper()
	rc := &receiver{answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		n := len(rc.requests)
		rc.requests = append(rc.requests, request{Header: r.Header.Clone(), Body: body})
		rc.mu.Unlock()
		if rc.answer != nil {
			rc.answer(w, r, n)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) got() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.requests...)
}

func status(code int) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(code) }
}

var now = time.Date(2021, 9, 16, 14, 52, 3, 0, time.UTC)

// loadTemplates parses the default templates once for all tests.
var loadTemplates = sync.OnceValues(func() (*templates.Set, error) { return templates.Load("") })

// newNotifier returns a notifier whose client may reach the loopback
// receivers of the tests, with the fixed clock now.
func newNotifier(t testing.TB, o webhook.Options) *webhook.Notifier {
	t.Helper()
	if o.Client == nil {
		o.Client = webhook.NewClient(webhook.ClientOptions{AllowPrivate: true})
	}
	set, err := loadTemplates()
	if err != nil {
		t.Fatal(err)
	}
	o.Templates = set
	if o.Now == nil {
		o.Now = func() time.Time { return now }
	}
	n, err := webhook.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// message returns delivery id of the sample event et to a webhook
// subscriber at url with the given format.
func message(t testing.TB, et gateway.EventType, format gateway.WebhookFormat, url string, id int64) *notify.Message {
	t.Helper()
	ev, err := templates.SampleEvent(et)
	if err != nil {
		t.Fatal(err)
	}
	return &notify.Message{
		DeliveryID: id, Event: ev,
		Subscriber: &gateway.Subscriber{
			ID: "s-hook", Kind: gateway.SubscriberWebhook, Address: url, Format: format,
			Status: gateway.SubscriberActive, Secret: secret,
		},
		ManageURL:      "https://status.example.com/subscriptions/tok-hook",
		UnsubscribeURL: "https://status.example.com/unsubscribe/tok-hook",
	}
}
