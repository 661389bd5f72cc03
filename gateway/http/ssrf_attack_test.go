package http_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/notify/webhook"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/subscribers"
	"github.com/heraldstatus/herald/templates"
)

// The SSRF attacks below go through the real paths: POST
// /api/v1/subscribers, which checks a webhook URL when it is accepted
// (subscribers.CheckWebhookURL → netguard.CheckURL), and the dispatcher
// sending through webhook.NewClient, whose dialer checks the address of
// every connection (netguard.Dialer). The unit tests of those pieces are in
// gateway/netguard (every range, the odd IP spellings, FuzzCheckURL,
// FuzzCheck, the dialer against a loopback server) and
// gateway/notify/webhook (TestSSRF: loopback and localhost refused at dial
// time; TestStatuses: no 3xx is followed). The public subscribe form takes
// only an email address, so it has no URL to attack.

// attackResolver answers the SSRF check's lookups from a table, so that a
// name can resolve to an address this machine never has; names it does not
// know go to the system resolver (localhost comes from /etc/hosts).
type attackResolver map[string]string

func (r attackResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if a, ok := r[host]; ok {
		return []netip.Addr{netip.MustParseAddr(a)}, nil
	}
	return net.DefaultResolver.LookupNetIP(ctx, network, host)
}

// ssrfEnv is a server whose subscribers service resolves webhook hosts
// with r and may allow private targets.
func ssrfEnv(t *testing.T, st *store.Store, r attackResolver, allowPrivate bool) *env {
	t.Helper()
	e := withSubscribers(t, newEnv(t, st, herhttp.Options{}), st)
	key, err := subscribers.LoadKey(context.Background(), st, "")
	if err != nil {
		t.Fatal(err)
	}
	e.publish(func(s *herhttp.Services) {
		s.Subscribers = subscribers.New(st, subscribers.Options{Key: key, PublicURL: "https://status.example.com",
			Log: storetest.Logger(t), Resolver: r, AllowPrivateTargets: allowPrivate})
	})
	return e
}

func subscribeURL(e *env, u string) response {
	e.t.Helper()
	b, _ := json.Marshal(map[string]any{"url": u, "format": "generic", "all": true})
	return e.do("POST", "/api/v1/subscribers", gateway.RoleSupport, string(b))
}

// TestSSRFWebhookURLsAreRefusedAtSubscribe: every way of naming Herald's
// own network in a webhook URL is refused with 422 naming "url", and no
// subscriber is stored.
func TestSSRFWebhookURLsAreRefusedAtSubscribe(t *testing.T) {
	resolver := attackResolver{
		"loopback.attacker.example": "127.0.0.1",
		"mapped.attacker.example":   "::ffff:127.0.0.1",
		"private.attacker.example":  "10.0.0.5",
		"metadata.attacker.example": "169.254.169.254",
	}
	targets := []string{
		"http://127.0.0.1/", "http://127.0.0.1:9090/metrics", "http://127.9.9.9/", "http://[::1]/",
		"http://10.0.0.1/", "http://172.16.5.4/", "http://192.168.1.1/", // private
		"http://169.254.1.1/", "http://[fe80::1]/", // link-local
		"http://100.64.0.1/",                                    // CGNAT
		"http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", // IPv4-mapped IPv6
		"http://0.0.0.0/", "http://0.0.0.0:8080/", "http://[::]/", // this host, "any"
		"http://169.254.169.254/latest/meta-data/iam/security-credentials/", // cloud metadata
		"http://[fd00:ec2::254]/latest/meta-data/",
		"http://2130706433/", "http://0x7f000001/", "http://017700000001/", // 127.0.0.1 spelt as one number
		"http://0x7f.0.0.1/", "http://0177.0.0.1/", "http://127.1/",
		"http://localhost/", "http://localhost:8080/hook", // the system resolver says 127.0.0.1
		"http://loopback.attacker.example/", "http://mapped.attacker.example/",
		"http://private.attacker.example/", "http://metadata.attacker.example/",
		"gopher://127.0.0.1:25/", "file:///etc/passwd", "http://user:pw@hooks.example.com/",
	}
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := ssrfEnv(t, st, resolver, false)
		for _, target := range targets {
			r := subscribeURL(e, target)
			if r.status != 422 || !strings.Contains(r.body, `"url"`) {
				t.Errorf("subscribe %s = %d %s, want 422 naming url", target, r.status, r.body)
			}
		}
		if r := e.do("GET", "/api/v1/subscribers?kind=webhook", gateway.RoleSupport, ""); !strings.Contains(r.body, `"data":[]`) {
			t.Errorf("refused URLs were stored: %s", r.body)
		}
	})
}

// sendAll plans a broadcast to every subscriber and runs a dispatcher with
// the real webhook notifier on client until nothing is left to do; it
// returns the deliveries as the API lists them.
func sendAll(t *testing.T, e *env, st *store.Store, client *http.Client) []deliveryJSON {
	t.Helper()
	if r := e.broadcast(gateway.RoleSupport, "ssrf-"+t.Name(), `{"subject":"Test","body":"Hello."}`); r.status != 202 {
		t.Fatalf("broadcast = %d %s", r.status, r.body)
	}
	set, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	hooks, err := webhook.New(webhook.Options{Client: client, Templates: set, BreakAfter: -1})
	if err != nil {
		t.Fatal(err)
	}
	d := &notify.Dispatcher{Store: st, Notifiers: map[gateway.Channel]notify.Notifier{gateway.ChannelWebhook: hooks},
		Log: storetest.Logger(t), Owner: "ssrf-test", Backoff: notify.Backoff{Jitter: -1}}
	for range 20 { // a bound: each round handles at least one delivery
		n, err := d.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	var page struct{ Data []deliveryJSON }
	e.do("GET", "/api/v1/deliveries", gateway.RoleViewer, "").decode(t, &page)
	return page.Data
}

type deliveryJSON struct {
	Status   string `json:"status"`
	Attempts []struct {
		Outcome string `json:"outcome"`
		Code    int    `json:"code"`
		Error   string `json:"error"`
	} `json:"attempts"`
}

// deadOnce fails unless ds is one delivery, dead after a single permanent
// attempt whose error or code is as want says.
func deadOnce(t *testing.T, ds []deliveryJSON, code int, errPart string) {
	t.Helper()
	if len(ds) != 1 || ds[0].Status != string(gateway.DeliveryDead) || len(ds[0].Attempts) != 1 {
		t.Fatalf("deliveries = %+v, want one dead after one attempt", ds)
	}
	a := ds[0].Attempts[0]
	if a.Outcome != string(gateway.AttemptPermanent) || a.Code != code || !strings.Contains(a.Error, errPart) {
		t.Errorf("attempt = %+v, want permanent, code %d, error containing %q", a, code, errPart)
	}
}

// TestSSRFDNSRebindingIsRefusedAtDialTime: a name that resolved to a
// public address when the subscriber was accepted and resolves to
// loopback when the delivery is sent is refused at the dial, permanently,
// and the loopback server listening there never sees a request. "localhost"
// plays the rebinding name: the check at subscribe time is given a public
// answer for it, the dialer asks the system resolver (127.0.0.1).
func TestSSRFDNSRebindingIsRefusedAtDialTime(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		var hits atomic.Int32
		internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
		defer internal.Close()
		u, _ := url.Parse(internal.URL)
		e := ssrfEnv(t, st, attackResolver{"localhost": "93.184.216.34"}, false)
		target := "http://localhost:" + u.Port() + "/admin"
		if r := subscribeURL(e, target); r.status != 201 {
			t.Fatalf("subscribe %s while it resolves publicly = %d %s, want 201", target, r.status, r.body)
		}
		ds := sendAll(t, e, st, webhook.NewClient(webhook.ClientOptions{}))
		deadOnce(t, ds, 0, "not an allowed target")
		if n := hits.Load(); n != 0 {
			t.Errorf("the loopback server got %d requests", n)
		}
	})
}

// TestSSRFRedirectsAreNotFollowed: a receiver that answers 302 or 307
// pointing at an internal address is never followed, even with private
// targets allowed (here, to reach the test's loopback receiver at all):
// the attempt is a permanent failure with the 3xx, and the internal server
// is not reached.
func TestSSRFRedirectsAreNotFollowed(t *testing.T) {
	for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, st *store.Store) {
				var hits atomic.Int32
				internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
				defer internal.Close()
				receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, internal.URL+"/latest/meta-data/", code)
				}))
				defer receiver.Close()
				e := ssrfEnv(t, st, nil, true)
				if r := subscribeURL(e, receiver.URL+"/hook"); r.status != 201 {
					t.Fatalf("subscribe = %d %s", r.status, r.body)
				}
				ds := sendAll(t, e, st, webhook.NewClient(webhook.ClientOptions{AllowPrivate: true}))
				deadOnce(t, ds, code, "")
				if n := hits.Load(); n != 0 {
					t.Errorf("the redirect target got %d requests: the redirect was followed", n)
				}
			})
		})
	}
}
