package console

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/templates"
)

// broadcastFixture is a page with two groups' worth of components and
// subscribers that a broadcast to Space Module must and must not reach.
type broadcastFixture struct {
	space, move, app string // component ids
	// spaceTo are the addresses a broadcast to Space Module reaches.
	spaceTo []string
	// everyone is how many an everyone broadcast reaches.
	everyone int
}

func seedBroadcastFixture(t *testing.T, st *store.Store) broadcastFixture {
	t.Helper()
	ctx := context.Background()
	g := gateway.ComponentGroup{Name: "Workplace", Position: -1}
	if err := st.CreateComponentGroup(ctx, &g); err != nil {
		t.Fatal(err)
	}
	comp := func(name, group string) string {
		c := gateway.Component{Name: name, GroupID: group, Position: -1}
		if err := st.CreateComponent(ctx, &c); err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	f := broadcastFixture{space: comp("Space Module", g.ID), move: comp("Move Module", g.ID), app: comp("Hummingbird App", "")}
	add := func(addr string, status gateway.SubscriberStatus, all bool, comps, groups []string) {
		storetest.AddSubscriber(t, st, storetest.Subscriber{Address: addr, Status: status, All: all, Components: comps, Groups: groups})
	}
	for _, a := range []string{"ana@example.com", "bo@example.com", "cy@example.com"} {
		add(a, "", false, []string{f.space}, nil) // confirmed, to the component
	}
	add("group@example.com", "", false, nil, []string{g.ID}) // to its group
	add("page@example.com", "", true, nil, nil)              // to the whole page
	add("app1@example.com", "", false, []string{f.app}, nil) // to another component
	add("app2@example.com", "", false, []string{f.app, f.move}, nil)
	add("pending@example.com", gateway.SubscriberPending, false, []string{f.space}, nil) // unconfirmed
	add("gone@example.com", gateway.SubscriberUnsubscribed, false, []string{f.space}, nil)
	f.spaceTo = []string{"ana@example.com", "bo@example.com", "cy@example.com", "group@example.com", "page@example.com"}
	f.everyone = 7
	return f
}

// newBroadcastEnv is a console with email templates over the fixture, and
// a support person signed in.
func newBroadcastEnv(t *testing.T, dialect string) (*testEnv, broadcastFixture, *client) {
	t.Helper()
	e := newTestEnv(t, dialect, withTemplates(t))
	f := seedBroadcastFixture(t, e.st)
	return e, f, e.signIn(gateway.RoleSupport)
}

func withTemplates(t *testing.T) envOption {
	t.Helper()
	set, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	return withOptions(func(o *Options) { o.Templates = set })
}

var (
	formByID    = `(?s)<form[^>]*\bid="%s"[^>]*>(.*?)</form>`
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	countText   = regexp.MustCompile(`id="recipient-count">(\d+)<`)
)

// hiddenFields are the hidden inputs of the form with id in body: what
// the browser would post with it.
func hiddenFields(t *testing.T, body, id string) url.Values {
	t.Helper()
	m := regexp.MustCompile(strings.ReplaceAll(formByID, "%s", regexp.QuoteMeta(id))).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no form #%s in:\n%s", id, body)
	}
	v := url.Values{}
	for _, f := range hiddenInput.FindAllStringSubmatch(m[1], -1) {
		v.Add(f[1], html.UnescapeString(f[2]))
	}
	return v
}

// preview fills the compose form (whose key it keeps) and posts it.
func (c *client) preview(t *testing.T, form url.Values) response {
	t.Helper()
	page := c.get("/console/broadcasts/new")
	page.wantStatus(t, http.StatusOK)
	f := hiddenFields(t, page.body, "compose")
	for k, v := range form {
		f[k] = v
	}
	return c.post("/console/broadcasts/preview", f)
}

// withField is a copy of form with field k set to v.
func withField(form url.Values, k, v string) url.Values {
	out := url.Values{}
	for name, vals := range form {
		out[name] = vals
	}
	out.Set(k, v)
	return out
}

func recipientCount(t *testing.T, res response) string {
	t.Helper()
	m := countText.FindStringSubmatch(res.body)
	if m == nil {
		t.Fatalf("no recipient count (%d):\n%s", res.status, res.body)
	}
	return m[1]
}

// broadcasts is every broadcast event in the store.
func (e *testEnv) broadcasts(t *testing.T) []*gateway.Event {
	t.Helper()
	evs, err := e.st.EventsOfType(context.Background(), gateway.EventBroadcast, 0)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func (e *testEnv) deliveries(t *testing.T, eventID string) []store.DeliveryLog {
	t.Helper()
	ds, err := e.st.Deliveries(context.Background(), store.DeliveryFilter{EventID: eventID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestBroadcastPreviewCountsExactly(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e, f, c := newBroadcastEnv(t, d)
			for _, tc := range []struct {
				name      string
				form      url.Values
				status    int
				count     string
				want, not []string
			}{
				{"one component", url.Values{"audience": {"components"}, "components": {f.space}, "subject": {"Planned work"}, "body": {"Space booking pauses.\n\nBack soon."}},
					http.StatusOK, "5", []string{"Send to 5 recipients", "the subscribers of Space Module", "[Example Status] Planned work", "Space booking pauses."}, nil},
				{"two components", url.Values{"audience": {"components"}, "components": {f.space, f.app}, "subject": {"Two"}, "body": {"x"}},
					http.StatusOK, "7", []string{"Space Module, Hummingbird App"}, nil},
				{"everyone ignores the boxes", url.Values{"audience": {"everyone"}, "components": {f.space}, "subject": {"All"}, "body": {"x"}},
					http.StatusOK, "7", []string{"everyone subscribed"}, nil},
				// Support's words are escaped in the rendered email and the page.
				{"markup is text", url.Values{"audience": {"everyone"}, "subject": {`<script>alert(1)</script>`}, "body": {`<img src=x onerror=alert(1)>`}},
					http.StatusOK, "7", []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;"}, []string{"<script>alert", "<img src=x"}},
				{"no component chosen", url.Values{"audience": {"components"}, "subject": {"S"}, "body": {"x"}},
					http.StatusUnprocessableEntity, "", []string{"choose at least one component"}, nil},
				{"no subject", url.Values{"audience": {"everyone"}, "subject": {"  "}, "body": {"x"}},
					http.StatusUnprocessableEntity, "", []string{"Subject is required"}, nil},
				{"two-line subject", url.Values{"audience": {"everyone"}, "subject": {"a\r\nBcc: x@example.com"}, "body": {"x"}},
					http.StatusUnprocessableEntity, "", []string{"Subject must be one line"}, nil},
			} {
				t.Run(tc.name, func(t *testing.T) {
					res := c.preview(t, tc.form)
					res.wantStatus(t, tc.status)
					if tc.count != "" {
						if got := recipientCount(t, res); got != tc.count {
							t.Errorf("recipients %s, want %s", got, tc.count)
						}
					}
					for _, w := range tc.want {
						res.wantContains(t, w)
					}
					for _, n := range tc.not {
						if strings.Contains(res.body, n) {
							t.Errorf("page contains %q", n)
						}
					}
				})
			}
			if n := len(e.broadcasts(t)); n != 0 {
				t.Errorf("previews wrote %d broadcasts", n)
			}
		})
	}
}

func TestBroadcastSendsOncePerForm(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e, f, c := newBroadcastEnv(t, d)
			confirm := c.preview(t, url.Values{"audience": {"components"}, "components": {f.space},
				"subject": {"Space booking maintenance"}, "body": {"Tonight, 22:00 UTC.\r\n\r\nBack by midnight."}})
			confirm.wantStatus(t, http.StatusOK)
			send := hiddenFields(t, confirm.body, "send")
			// "Change the message" goes back to the words, with the same key.
			edit := c.post("/console/broadcasts/edit", send)
			edit.wantStatus(t, http.StatusOK)
			edit.wantContains(t, `value="Space booking maintenance"`)
			if got := hiddenFields(t, edit.body, "compose").Get("key"); got != send.Get("key") {
				t.Errorf("the edit form's key %q, want the previewed %q", got, send.Get("key"))
			}

			first := c.post("/console/broadcasts", send)
			first.wantStatus(t, http.StatusOK)
			first.wantContains(t, "Broadcast sent to 5 recipients.")
			if !strings.HasPrefix(first.url.Path, "/console/broadcasts/") {
				t.Fatalf("landed on %s, want the broadcast's progress page", first.url)
			}
			first.wantContains(t, `id="count-queued">5<`)
			if got := first.header.Get("Refresh"); got != "5" { // until the dispatcher sent them
				t.Errorf("progress page Refresh %q, want 5", got)
			}
			e.wantAudit(t, "broadcast.create", c.name)

			// The same form again (a double click, a retry, back and resubmit).
			again := c.post("/console/broadcasts", send)
			again.wantStatus(t, http.StatusOK)
			again.wantContains(t, "This broadcast was already sent; nothing more was sent.")
			if again.url.Path != first.url.Path {
				t.Errorf("repeat landed on %s, want %s", again.url.Path, first.url.Path)
			}
			// Browsers post the hidden copy of the words with LF or CRLF
			// line breaks: either is the same broadcast.
			for _, nl := range []string{"\n", "\r\n"} {
				repeat := withField(send, "body", "Tonight, 22:00 UTC."+nl+nl+"Back by midnight.")
				c.post("/console/broadcasts", repeat).wantContains(t, "This broadcast was already sent")
			}
			evs := e.broadcasts(t)
			if len(evs) != 1 {
				t.Fatalf("%d broadcasts, want 1", len(evs))
			}
			got := map[string]int{}
			for _, dl := range e.deliveries(t, evs[0].ID) {
				sub, err := e.st.Subscriber(context.Background(), dl.SubscriberID)
				if err != nil {
					t.Fatal(err)
				}
				got[sub.Address]++
			}
			if len(got) != len(f.spaceTo) {
				t.Errorf("deliveries to %v, want one to each of %v", got, f.spaceTo)
			}
			for _, a := range f.spaceTo {
				if got[a] != 1 {
					t.Errorf("%s has %d deliveries, want 1", a, got[a])
				}
			}

			// The same form with other words (edited after sending) sends nothing.
			conflict := c.post("/console/broadcasts", withField(send, "subject", "Another subject"))
			conflict.wantStatus(t, http.StatusConflict)
			conflict.wantContains(t, "already used to send a different broadcast")
			if n := len(e.broadcasts(t)); n != 1 {
				t.Errorf("%d broadcasts after the edited repeat, want 1", n)
			}

			// The list shows it with its progress.
			list := c.get("/console/broadcasts")
			list.wantStatus(t, http.StatusOK)
			list.wantContains(t, "Space booking maintenance")
			list.wantContains(t, c.name)
		})
	}
}

func TestBroadcastSaysWhenTheCountChanged(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e, f, c := newBroadcastEnv(t, d)
			confirm := c.preview(t, url.Values{"audience": {"components"}, "components": {f.space}, "subject": {"S"}, "body": {"B"}})
			send := hiddenFields(t, confirm.body, "send")
			storetest.AddSubscriber(t, e.st, storetest.Subscriber{Address: "late@example.com", Components: []string{f.space}})

			changed := c.post("/console/broadcasts", send)
			changed.wantStatus(t, http.StatusConflict)
			changed.wantContains(t, "changed from 5 to 6 since your preview")
			if got := recipientCount(t, changed); got != "6" {
				t.Errorf("recipients %s, want 6", got)
			}
			if n := len(e.broadcasts(t)); n != 0 {
				t.Fatalf("a changed count sent %d broadcasts", n)
			}
			sent := c.post("/console/broadcasts", hiddenFields(t, changed.body, "send"))
			sent.wantContains(t, "Broadcast sent to 6 recipients.")

			// A send that skipped the preview is shown the confirm page.
			skipped := withField(hiddenFields(t, confirm.body, "send"), "key", "console-other-form")
			skipped.Del("previewed")
			res := c.post("/console/broadcasts", skipped)
			res.wantStatus(t, http.StatusOK)
			res.wantContains(t, "Send to 6 recipients")
			if n := len(e.broadcasts(t)); n != 1 {
				t.Errorf("%d broadcasts, want 1", n)
			}
		})
	}
}

func TestBroadcastRefusesViewers(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e, _, support := newBroadcastEnv(t, d)
			confirm := support.preview(t, url.Values{"audience": {"everyone"}, "subject": {"S"}, "body": {"B"}})
			send := hiddenFields(t, confirm.body, "send")

			viewer := e.signIn(gateway.RoleViewer)
			list := viewer.get("/console/broadcasts")
			list.wantStatus(t, http.StatusOK)
			if strings.Contains(list.body, "/console/broadcasts/new") {
				t.Error("a viewer is offered to write a broadcast")
			}
			viewer.get("/console/broadcasts/new").wantStatus(t, http.StatusForbidden)
			send.Set("_csrf", viewer.csrf("/console/broadcasts"))
			viewer.post("/console/broadcasts", send).wantStatus(t, http.StatusForbidden)
			viewer.post("/console/broadcasts/preview", send).wantStatus(t, http.StatusForbidden)
			// Without the CSRF token even support is refused.
			noToken := hiddenFields(t, confirm.body, "send")
			noToken.Del("_csrf")
			support.post("/console/broadcasts", noToken).wantStatus(t, http.StatusForbidden)
			if n := len(e.broadcasts(t)); n != 0 {
				t.Errorf("%d broadcasts, want none", n)
			}
		})
	}
}
