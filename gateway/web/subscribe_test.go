package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/subscribers"
)

// visitor is a browser without JavaScript: cookies, forms, no
// Sec-Fetch-Site (so the CSRF token is the cookie's, repeated in the form).
type visitor struct {
	t      *testing.T
	e      *env
	client *http.Client
}

func newVisitor(t *testing.T, e *env) *visitor {
	jar, _ := cookiejar.New(nil)
	return &visitor{t: t, e: e, client: &http.Client{Jar: jar}}
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// page GETs path and returns the status, the body and the form's token.
func (v *visitor) page(path string) (int, string, string) {
	v.t.Helper()
	res, err := v.client.Get(v.e.srv.URL + path)
	if err != nil {
		v.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	token := ""
	if m := csrfField.FindStringSubmatch(string(b)); m != nil {
		token = m[1]
	}
	return res.StatusCode, string(b), token
}

// post submits a form to path.
func (v *visitor) post(path string, form url.Values) (*http.Response, string) {
	v.t.Helper()
	res, err := v.client.PostForm(v.e.srv.URL+path, form)
	if err != nil {
		v.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func (e *env) subscriber(t *testing.T, address string) *gateway.Subscriber {
	t.Helper()
	subs, _, err := e.subs.Load().List(e.ctx, subscribers.ListFilter{Query: address})
	if err != nil || len(subs) != 1 {
		t.Fatalf("subscriber %s: %v, %v", address, subs, err)
	}
	return &subs[0]
}

func TestSubscribeConfirmManageUnsubscribe(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		v := newVisitor(t, e)
		status, body, token := v.page("/subscribe")
		if status != http.StatusOK || token == "" {
			t.Fatalf("GET /subscribe = %d, token %q", status, token)
		}
		wantIn(t, "the form", body, `<input type="email" id="email" name="email"`, `name="scope" value="all" checked`,
			"Eptura Workplace Modules", `name="components"`, `name="groups"`, `class="honeypot"`, "Hummingbird App")
		if !strings.Contains(body, `<a class="button" href="/subscribe">Subscribe to updates</a>`) {
			t.Error("the header has no subscribe link")
		}
		space, err := st.Component(e.ctx, "Space Module")
		if err != nil {
			t.Fatal(err)
		}

		// Without the token, or with another, the form is refused.
		for _, form := range []url.Values{{"email": {"ann@example.com"}}, {"email": {"ann@example.com"}, "_csrf": {"forged"}}} {
			if res, body := v.post("/subscribe", form); res.StatusCode != http.StatusForbidden || !strings.Contains(body, "reload the page") {
				t.Errorf("POST without a good token = %d", res.StatusCode)
			}
		}
		// Mistakes come back on the form, with what was typed.
		res, body := v.post("/subscribe", url.Values{"_csrf": {token}, "email": {"not an address"}, "scope": {"all"}})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Please enter a valid email address") ||
			!strings.Contains(body, `value="not an address"`) || !strings.Contains(body, `aria-invalid="true"`) {
			t.Errorf("a bad address = %d: %.400s", res.StatusCode, body)
		}
		res, body = v.post("/subscribe", url.Values{"_csrf": {token}, "email": {"ann@example.com"}, "scope": {"some"}})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Please choose at least one component, or all of them.") {
			t.Errorf("nothing chosen = %d", res.StatusCode)
		}
		// A bot that fills the honeypot is thanked and forgotten.
		res, body = v.post("/subscribe", url.Values{"_csrf": {token}, "email": {"bot@example.com"}, "website": {"http://spam"}})
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "Check your inbox") {
			t.Errorf("honeypot = %d", res.StatusCode)
		}
		if subs, _, err := e.subs.Load().List(e.ctx, subscribers.ListFilter{Query: "bot@"}); err != nil {
			t.Fatal(err)
		} else if len(subs) != 0 {
			t.Error("the honeypot subscribed the bot")
		}

		res, body = v.post("/subscribe", url.Values{"_csrf": {token}, "email": {"Ann@Example.com"}, "scope": {"some"},
			"components": {space.ID}})
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "We sent a confirmation link to Ann@Example.com.") ||
			res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("subscribe = %d %q: %.300s", res.StatusCode, res.Header.Get("Cache-Control"), body)
		}
		sub := e.subscriber(t, "ann@example.com")
		if sub.Status != gateway.SubscriberPending || sub.AllComponents || len(sub.ComponentIDs) != 1 || sub.ComponentIDs[0] != space.ID {
			t.Fatalf("after subscribing: %+v", sub)
		}

		// The confirmation link activates it and leads to the manage page.
		link := e.subs.Load().ConfirmLink(sub)
		status, body, _ = v.page(strings.TrimPrefix(link, e.srv.URL))
		manage, unsub := e.subs.Load().Links(sub)
		if status != http.StatusOK || !strings.Contains(body, "You are subscribed") || !strings.Contains(body, manage) {
			t.Fatalf("confirm = %d: %.300s", status, body)
		}
		if got := e.subscriber(t, "ann@example.com"); got.Status != gateway.SubscriberActive {
			t.Errorf("after confirming: %s", got.Status)
		}
		if status, _, _ := v.page("/subscribe/confirm/c.nope.nope.nope"); status != http.StatusNotFound {
			t.Errorf("a forged confirmation link = %d, want 404", status)
		}

		managePath := strings.TrimPrefix(manage, e.srv.URL)
		status, body, token = v.page(managePath)
		if status != http.StatusOK || !strings.Contains(body, "<strong>Ann@example.com</strong>") ||
			!strings.Contains(body, `value="`+space.ID+`" checked`) || !strings.Contains(body, `value="some" checked`) {
			t.Fatalf("manage = %d: %s", status, body[strings.Index(body, "<main"):])
		}
		res, body = v.post(managePath, url.Values{"_csrf": {token}, "scope": {"all"}})
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "Saved.") {
			t.Errorf("save = %d", res.StatusCode)
		}
		if got := e.subscriber(t, "ann@example.com"); !got.AllComponents {
			t.Errorf("after saving all: %+v", got)
		}

		// One click from a mail client: no cookie, no token, 200.
		unsubPath := strings.TrimPrefix(unsub, e.srv.URL)
		status, body, _ = v.page(unsubPath)
		if status != http.StatusOK || !strings.Contains(body, `<form method="post" action="`+unsubPath+`">`) {
			t.Errorf("the unsubscribe page = %d: %.400s", status, body)
		}
		if got := e.subscriber(t, "ann@example.com"); got.Status != gateway.SubscriberActive {
			t.Error("looking at the unsubscribe page unsubscribed")
		}
		for range 2 { // again is no error
			r, err := http.Post(e.srv.URL+unsubPath, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
			if err != nil {
				t.Fatal(err)
			}
			r.Body.Close()
			if r.StatusCode != http.StatusOK {
				t.Errorf("one-click unsubscribe = %d, want 200", r.StatusCode)
			}
		}
		if got := e.subscriber(t, "ann@example.com"); got.Status != gateway.SubscriberUnsubscribed {
			t.Errorf("after one click: %s", got.Status)
		}
		status, body, _ = v.page(managePath)
		if status != http.StatusOK || !strings.Contains(body, "This subscription has ended") || strings.Contains(body, "/leave") {
			t.Errorf("the manage page of an ended subscription = %d", status)
		}
	})
}

func TestSubscribeByJSONAndTheLimits(t *testing.T) {
	e := newEnv(t, storetest.Open(t, "sqlite"))
	post := func(body string) (int, map[string]any) {
		t.Helper()
		res, err := http.Post(e.srv.URL+"/subscribe", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var got map[string]any
		_ = json.NewDecoder(res.Body).Decode(&got)
		return res.StatusCode, got
	}
	if status, got := post(`{"email":"bob@example.com","components":["Hummingbird App"]}`); status != http.StatusAccepted ||
		got["status"] != "pending" || got["email"] != "bob@example.com" {
		t.Errorf("JSON subscribe = %d %v", status, got)
	}
	if sub := e.subscriber(t, "bob@example.com"); sub.AllComponents || len(sub.ComponentIDs) != 1 {
		t.Errorf("bob = %+v, want the app alone", sub)
	}
	if status, got := post(`{"email":"nope"}`); status != http.StatusUnprocessableEntity {
		t.Errorf("a bad address = %d %v", status, got)
	}
	if status, _ := post(`{"email":`); status != http.StatusBadRequest {
		t.Errorf("bad JSON = %d", status)
	}
	// The environment allows five requests an hour per address.
	status := 0
	for i := 0; i < 5 && status != http.StatusTooManyRequests; i++ {
		status, _ = post(`{"email":"carol@example.com"}`)
	}
	if status != http.StatusTooManyRequests {
		t.Errorf("after six requests: %d, want 429", status)
	}
	res, err := http.PostForm(e.srv.URL+"/subscriptions/m.x.y/leave", url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("a form without a token = %d, want 403", res.StatusCode)
	}
}
