package console

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/subscribers"
)

// An admin imports a CSV of a few thousand rows through the form, watches
// the progress page refresh itself until the import ends, reads the
// report (with the bad row's line), then finds one imported subscriber
// and unsubscribes them.
func TestBrowserImportsAndUnsubscribes(t *testing.T) {
	var svc *subscribers.Service
	b := newBrowserEnv(t, "sqlite", withSubsService(&svc, func() func() time.Time { return time.Now }))
	ctx := context.Background()
	api := gateway.Component{Name: "API", Position: -1}
	if err := b.st.CreateComponent(ctx, &api); err != nil {
		t.Fatal(err)
	}
	const rows = 2500 // three batches of the importer: the page sees progress
	var csv strings.Builder
	csv.WriteString("email,components,confirmed\n")
	for i := range rows {
		if i == 1200 {
			csv.WriteString("someone at example dot com,API,true\n") // line 1202
		}
		fmt.Fprintf(&csv, "customer%d@example.com,API,true\n", i)
	}
	file := filepath.Join(t.TempDir(), "customers.csv")
	if err := os.WriteFile(file, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	b.signIn(gateway.RoleAdmin)
	b.run(
		chromedp.Navigate(b.url("/console/subscribers/import")),
		chromedp.WaitVisible(chromedp.ID("file")),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{file}),
		chromedp.SendKeys(chromedp.ID("consent_source"), "customer list of the old status page"),
		chromedp.Click(chromedp.ID("start-import")),
		chromedp.WaitVisible(chromedp.ID("import-state")),
	)
	// The page reloads itself (Refresh header) until the import is done;
	// read it between reloads. A read that races a reload just retries.
	deadline := time.Now().Add(90 * time.Second)
	for {
		done, _ := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.getElementById("import-done") !== null`))
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the import page never showed the end: %s", b.text("#import-state"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got := b.text("#added"); got != fmt.Sprint(rows) {
		t.Errorf("imported %s, want %d", got, rows)
	}
	if got := b.text("#invalid"); got != "1" {
		t.Errorf("errors %s, want 1", got)
	}
	if got := b.text("#import-errors tbody tr"); !strings.Contains(got, "1202") || !strings.Contains(got, "email") {
		t.Errorf("the bad row: %q", got)
	}

	found := chromedp.Search(`//table[@id="subscribers"]//a[text()="customer1234@example.com"]`)
	b.run(
		chromedp.Navigate(b.url("/console/subscribers")),
		chromedp.WaitVisible(chromedp.ID("q")),
		chromedp.SendKeys(chromedp.ID("q"), "Customer1234@Example.com"),
		chromedp.Click(chromedp.ID("search")),
		// The search's answer: the one address, normalized, as a link.
		chromedp.WaitVisible(found),
		chromedp.Click(found),
		chromedp.WaitVisible(chromedp.ID("unsubscribe")),
	)
	if got := b.text("#address"); got != "customer1234@example.com" {
		t.Fatalf("found %q", got)
	}
	b.run(chromedp.Click(chromedp.ID("unsubscribe")), chromedp.WaitVisible(chromedp.ID("flash")))
	if got := b.text("#status"); !strings.Contains(got, "unsubscribed") {
		t.Errorf("status after unsubscribe: %q", got)
	}
	sub, err := b.st.SubscriberByAddress(ctx, gateway.SubscriberEmail, "customer1234@example.com")
	if err != nil || sub.Status != gateway.SubscriberUnsubscribed {
		t.Errorf("stored: %+v, %v", sub, err)
	}
	b.wantAudit(t, "subscriber.update", b.name)
}
