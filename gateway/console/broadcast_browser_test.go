package console

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify/email"
	"github.com/heraldstatus/herald/gateway/notify/notifytest"
	"github.com/heraldstatus/herald/internal/mailsink"
)

// startDispatcher runs the sink and Herald's real mail path to it (the
// templates, the email builder, the SMTP channel and the dispatcher).
func (e *testEnv) startDispatcher(t *testing.T) *mailsink.Sink {
	t.Helper()
	sink := mailsink.Start(t, mailsink.Options{Keep: mailsink.KeepEnvelope})
	b, err := email.NewBuilder(email.Options{From: "Example Status <status@example.com>", Templates: e.h.opt.Templates})
	if err != nil {
		t.Fatal(err)
	}
	notifytest.RunMail(t, e.st, b, sink.URL(), nil)
	return sink
}

// TestBrowserBroadcastSendsOnce composes a broadcast to one component,
// checks the preview's exact count, then sends it with a double click and
// two more posts of the same form: one event, one delivery and one email
// per recipient.
func TestBrowserBroadcastSendsOnce(t *testing.T) {
	b := newBrowserEnv(t, "sqlite", withTemplates(t))
	f := seedBroadcastFixture(t, b.st)
	sink := b.startDispatcher(t)
	b.signIn(gateway.RoleSupport)

	b.run(
		chromedp.Navigate(b.url("/console/broadcasts")),
		chromedp.Click(chromedp.ID("new-broadcast")),
		chromedp.WaitVisible(chromedp.ID("compose")),
		chromedp.Click(chromedp.ID("audience-components")),
		chromedp.Click(chromedp.CSS(`input[name="components"][value="`+f.space+`"]`)),
		chromedp.SendKeys(chromedp.ID("subject"), "Space booking is paused"),
		chromedp.SendKeys(chromedp.ID("body"), "We are moving the booking database.\n\nIt is back within the hour."),
		chromedp.Click(chromedp.ID("preview")),
		chromedp.WaitVisible(chromedp.ID("recipient-count")),
	)
	if got := b.text("#recipient-count"); got != "5" {
		t.Fatalf("preview counts %s recipients, want 5", got)
	}
	if got := b.text("#send-button"); got != "Send to 5 recipients" {
		t.Errorf("send button %q", got)
	}
	if got := b.text("#preview-subject"); got != "[Example Status] Space booking is paused" {
		t.Errorf("preview subject %q", got)
	}
	if got := b.text("#preview-html"); !strings.Contains(got, "It is back within the hour.") {
		t.Errorf("preview email lacks the message: %q", got)
	}

	// Keep the form as the browser would post it, then double-click Send.
	form := value(b, chromedp.Evaluate[string](`new URLSearchParams(new FormData(document.getElementById("send"))).toString()`))
	b.run(
		chromedp.DoubleClick(chromedp.ID("send-button")),
		chromedp.WaitVisible(chromedp.ID("progress")),
	)
	if got := b.text("#flash"); got != "Broadcast sent to 5 recipients." {
		t.Errorf("after send: %q", got)
	}
	// The same form posted twice more at once, from the same session (a
	// browser retry, back and resubmit): both land on the first
	// broadcast's page. (Which of them shows the flash message is a race
	// over the one flash cookie, so the test reads where they landed.)
	progressPage := value(b, chromedp.Location())
	landed := value(b, chromedp.Evaluate[[]string](`Promise.all([1, 2].map(() =>
		fetch("/console/broadcasts", {method: "POST", body: new URLSearchParams(`+jsString(form)+`)}).then(r => r.status + " " + r.url)))`,
		chromedp.EvalAsValue, chromedp.EvalAwaitPromise))
	if want := "200 " + progressPage; !slices.Equal(landed, []string{want, want}) {
		t.Errorf("repeats landed on %v, want both on %s", landed, want)
	}
	evs := b.broadcasts(t)
	if len(evs) != 1 {
		t.Fatalf("%d broadcast events, want 1", len(evs))
	}
	if n := len(b.deliveries(t, evs[0].ID)); n != len(f.spaceTo) {
		t.Errorf("%d deliveries, want %d", n, len(f.spaceTo))
	}
	// Wait until the dispatcher sent them all (bounded; not a speed test).
	deadline := time.Now().Add(time.Minute)
	for {
		counts, err := b.st.DeliveryCounts(context.Background(), evs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if counts[gateway.DeliverySent] == len(f.spaceTo) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries not sent: %v", counts)
		}
		time.Sleep(50 * time.Millisecond)
	}
	got := sink.Recipients()
	slices.Sort(got)
	if !slices.Equal(got, f.spaceTo) {
		t.Errorf("the SMTP server got mail for %v, want one for each of %v", got, f.spaceTo)
	}

	// The progress page shows the finished fan-out.
	b.run(chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("progress")))
	if sent, state := b.text("#count-sent"), b.text("#progress-state"); sent != "5" || !strings.HasPrefix(state, "Finished") {
		t.Errorf("progress: sent %s, %q", sent, state)
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "\r", `\r`).Replace(s) + "'"
}
