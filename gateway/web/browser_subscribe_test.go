package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// A person subscribes in a real browser, the confirmation mail reaches an
// SMTP server through Herald's own delivery path, its link confirms, the
// manage page changes the choice, and the unsubscribe page ends it.
func TestBrowserSubscribeFlow(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t, storetest.Open(t, "sqlite"))
	sink := e.startMail(t)
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(step(t, ctx), chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}

	// From the status page's header to the form, keyboard and mouse alike.
	err := chromedp.Do(step(t, ctx), chromedp.Navigate(e.srv.URL+"/"), chromedp.Click(chromedp.CSS(`a.button[href="/subscribe"]`)),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "dana@example.com"),
		chromedp.Click(chromedp.CSS(`input[name="scope"][value="some"]`)),
		chromedp.Click(chromedp.Search(`//label[contains(., "Hummingbird App")]/input`)),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#message-heading")))
	if err != nil {
		t.Fatal(err)
	}
	if h := text("#message-heading"); h != "Check your inbox" {
		t.Fatalf("after subscribing: %q", h)
	}
	sub := e.subscriber(t, "dana@example.com")
	if sub.Status != gateway.SubscriberPending || sub.AllComponents || len(sub.ComponentIDs) != 1 {
		t.Fatalf("subscriber = %+v, want pending, the app alone", sub)
	}

	msg := string(sink.Next(t).Data)
	if !strings.Contains(msg, "dana@example.com") {
		t.Errorf("the confirmation went elsewhere:\n%.500s", msg)
	}
	confirm := link(t, msg)
	if err := chromedp.Do(step(t, ctx), chromedp.Navigate(confirm), chromedp.WaitVisible(chromedp.CSS("#message-heading"))); err != nil {
		t.Fatal(err)
	}
	if h := text("#message-heading"); h != "You are subscribed" {
		t.Fatalf("the confirmation link shows %q", h)
	}
	if got := e.subscriber(t, "dana@example.com"); got.Status != gateway.SubscriberActive {
		t.Fatalf("after the link: %s", got.Status)
	}

	// The manage page: everything instead of the app.
	err = chromedp.Do(step(t, ctx), chromedp.Click(chromedp.CSS(".message a.button")), chromedp.WaitVisible(chromedp.CSS(".lead strong")),
		chromedp.Click(chromedp.CSS(`input[name="scope"][value="all"]`)),
		chromedp.Click(chromedp.Search(`//button[text()="Save"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.notice[role="status"]`)))
	if err != nil {
		t.Fatal(err)
	}
	if got := e.subscriber(t, "dana@example.com"); !got.AllComponents {
		t.Errorf("after saving: %+v, want all components", got)
	}
	shot, err := chromedp.Run(step(t, ctx), chromedp.FullScreenshot(100))
	if err == nil {
		artifact(t, "manage-page.png", shot)
	}

	// The unsubscribe link of every message: a page, then one button.
	_, unsub := e.subs.Load().Links(sub)
	err = chromedp.Do(step(t, ctx), chromedp.Navigate(unsub), chromedp.WaitVisible(chromedp.CSS("#unsubscribe-heading")),
		chromedp.Click(chromedp.CSS(`button.danger`)), chromedp.WaitVisible(chromedp.CSS("#message-heading")))
	if err != nil {
		t.Fatal(err)
	}
	if h := text("#message-heading"); h != "You are unsubscribed" {
		t.Errorf("after unsubscribing: %q", h)
	}
	if got := e.subscriber(t, "dana@example.com"); got.Status != gateway.SubscriberUnsubscribed {
		t.Errorf("subscriber = %s, want unsubscribed", got.Status)
	}
}
