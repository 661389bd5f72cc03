package console

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/internal/browsertest"
)

// Browser helpers for screen tests. A typical test:
//
//	b := newBrowserEnv(t, "sqlite")             // console + headless Chromium
//	b.signIn(gateway.RoleSupport)               // through the sign-in form
//	b.run(chromedp.Navigate(b.url("/console/incidents")), chromedp.WaitVisible(chromedp.ID("incidents")))
//	title := b.text(chromedp.CSS("h1"))
//
// They skip where no Chromium is installed (CI installs Debian's; set
// HERALD_CHROMIUM to use another) and under -short, since a browser
// takes seconds to start.

// browserEnv is a console test env with a headless Chromium.
type browserEnv struct {
	*testEnv
	ctx  context.Context // the browser tab
	name string          // the signed-in person, after signIn
}

// newBrowserEnv starts a console on dialect and a headless Chromium with
// a profile of its own that reaches nothing beyond loopback.
func newBrowserEnv(t *testing.T, dialect string, options ...envOption) *browserEnv {
	t.Helper()
	ctx := browsertest.Start(t, 1280, 900)
	e := newTestEnv(t, dialect, options...)
	return &browserEnv{testEnv: e, ctx: ctx}
}

// url is the absolute URL of a console path.
func (b *browserEnv) url(path string) string { return b.srv.URL + path }

// run performs browser actions in order, the batch bounded to 30 s.
func (b *browserEnv) run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatal(err)
	}
}

// value runs one action that returns a value (chromedp.Text,
// chromedp.Location, chromedp.Evaluate[T]…), bounded to 30 s.
func value[T any](b *browserEnv, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

// text is the visible text of the element sel selects.
func (b *browserEnv) text(sel chromedp.CSS) string {
	b.t.Helper()
	return value(b, chromedp.Text(sel))
}

// signIn creates a user of role and signs in through the form, as a
// person would, ending on the dashboard.
func (b *browserEnv) signIn(role gateway.Role) {
	b.t.Helper()
	b.name = "Ann " + string(role)
	email, password := b.createUser(role, b.name)
	b.run(
		chromedp.Navigate(b.url("/console/login")),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.ID("who-name")),
	)
}

func TestBrowserSignsInToTheDashboard(t *testing.T) {
	b := newBrowserEnv(t, "sqlite")
	// A signed-out visit lands on the sign-in page.
	b.run(chromedp.Navigate(b.url("/console")), chromedp.WaitVisible(chromedp.ID("email")))
	b.signIn(gateway.RoleSupport)
	who, greeting := b.text("#who-name"), b.text("#greeting")
	if who != b.name || greeting != "Signed in as "+b.name+" (support)." {
		t.Errorf("dashboard: who %q, greeting %q", who, greeting)
	}
	if at := value(b, chromedp.Location()); at != b.url("/console") {
		t.Errorf("landed on %s, want /console", at)
	}
	// Sign out with the keyboard: the button is reachable, and the flash
	// message says what happened.
	b.run(
		chromedp.Focus(chromedp.CSS("form.inline button")),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.ID("flash")),
	)
	if got := b.text("#flash"); got != "You are signed out." {
		t.Errorf("after sign-out: %q", got)
	}
}
