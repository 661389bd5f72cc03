package console

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// waitSent waits until the newest event of incident id has type typ and
// every delivery of it went out, and returns its progress; the bound is
// generous (the dispatcher polls; the test is not about speed).
func (e *testEnv) waitSent(t *testing.T, id string, typ gateway.EventType) progress {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(time.Minute)
	for {
		evs, err := e.st.IncidentEvents(ctx, id, 100)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(evs); n > 0 && evs[n-1].Type == typ {
			p, err := eventProgress(ctx, e.st, evs[n-1].ID)
			if err != nil {
				t.Fatal(err)
			}
			if p.Total > 0 && p.Done() {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s of incident %s was sent", typ, id)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBrowserPostsAnUpdateThatIsMailed is the seed's second update, posted
// by support in a real browser, reaching a subscriber's mailbox through
// the real dispatcher and SMTP.
func TestBrowserPostsAnUpdateThatIsMailed(t *testing.T) {
	b := newBrowserEnv(t, "sqlite", withPreviews(t))
	seedPage(t, b.st)
	storetest.AddSubscriber(t, b.st, storetest.Subscriber{Address: "facilities@example.com", All: true})
	inc := seedIncident(t, b.inc, false)
	sink := b.startDispatcher(t) // go-smtp in process, behind the real dispatcher
	b.waitSent(t, inc.ID, gateway.EventIncidentCreated)

	b.signIn(gateway.RoleSupport)
	const words = "Our incident response team has identified the issue and is working hard to bring services back online."
	b.run(
		chromedp.Navigate(b.url(incidentPath(inc.ID))),
		chromedp.WaitVisible(chromedp.ID("update")),
		chromedp.SetValue(chromedp.ID("status"), "identified"),
		chromedp.SendKeys(chromedp.ID("body"), words),
		// Preview first, as support would: the page comes back with the
		// email as it will be sent, and the form as typed.
		chromedp.Click(chromedp.ID("preview-button")),
		chromedp.WaitVisible(chromedp.ID("preview-subject")),
	)
	if got := b.text("#preview-text"); !strings.Contains(got, "identified the issue") {
		t.Errorf("email preview:\n%s", got)
	}
	if checked := value(b, chromedp.Evaluate[bool](`document.getElementById("notify").checked`)); !checked {
		t.Fatal("notify is off after the preview")
	}
	b.run(
		chromedp.Click(chromedp.ID("post-button")),
		chromedp.WaitVisible(chromedp.ID("flash")),
	)
	if got := b.text("#flash"); got != "Update posted; subscribers are being notified." {
		t.Errorf("flash %q", got)
	}
	if got := b.text("#incident-status"); got != "Identified" {
		t.Errorf("status on the page %q", got)
	}
	// The update's notice went out through SMTP: its one delivery is sent
	// (the dispatcher marks it so once the server accepted the message),
	// and the sink holds a second message for the subscriber.
	if p := b.waitSent(t, inc.ID, gateway.EventIncidentUpdated); p.Sent != 1 {
		t.Errorf("the update's notice: %+v, want one sent", p)
	}
	if got := sink.Recipients(); len(got) != 2 || got[1] != "facilities@example.com" {
		t.Errorf("the SMTP server received mail for %v, want the subscriber twice", got)
	}
	b.wantAudit(t, "incident.update", b.name)
}
