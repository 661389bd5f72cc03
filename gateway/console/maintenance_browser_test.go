package console

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/heraldstatus/herald/gateway"
)

// TestBrowserMaintenanceTakesLocalTimes schedules a maintenance from a
// browser in Paris: the form takes the times in the browser's zone, and
// the maintenance's page shows them in UTC with the local time beside.
func TestBrowserMaintenanceTakesLocalTimes(t *testing.T) {
	t.Setenv("TZ", "Europe/Paris") // Chromium's zone: it inherits the environment
	b := newBrowserEnv(t, "sqlite")
	f := seedBroadcastFixture(t, b.st)
	b.signIn(gateway.RoleSupport)
	b.run(
		chromedp.Navigate(b.url("/console/maintenances/new")),
		chromedp.WaitVisible(chromedp.ID("schedule")),
	)
	if zone := value(b, chromedp.Evaluate[string](`document.getElementById("zone").value`)); zone != "Europe/Paris" {
		t.Errorf("the form takes times in %q, want the browser's Europe/Paris", zone)
	}
	b.run(
		chromedp.SendKeys(chromedp.ID("name"), "Booking database upgrade"),
		chromedp.SendKeys(chromedp.ID("body"), "Space booking is read-only."),
		chromedp.Click(chromedp.CSS(`input[name="components"][value="`+f.space+`"]`)),
		chromedp.SetValue(chromedp.ID("starts"), "2030-06-01T10:00"),
		chromedp.SetValue(chromedp.ID("ends"), "2030-06-01T12:30"),
		chromedp.Click(chromedp.ID("schedule-button")),
		chromedp.WaitVisible(chromedp.ID("plan")),
	)
	starts := b.text("#starts-at")
	if !strings.HasPrefix(starts, "Sat 1 Jun 2030 08:00 UTC") || !strings.Contains(starts, "your time") || !strings.Contains(starts, "10:00") {
		t.Errorf("starts %q, want 08:00 UTC and 10:00 local", starts)
	}
	if ends := b.text("#ends-at"); !strings.HasPrefix(ends, "Sat 1 Jun 2030 10:30 UTC") {
		t.Errorf("ends %q", ends)
	}
}
