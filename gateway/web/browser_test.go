package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/internal/browsertest"
)

// newBrowser starts a headless Chromium for the test (see browsertest);
// it skips the test where no Chromium is installed.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	return browsertest.Start(t, 1280, 1000)
}

// step bounds one browser action.
func step(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// artifact saves a file for people to look at after the run: under
// $HERALD_ARTIFACTS when set (CI keeps it), else in the test's temporary
// directory.
func artifact(t *testing.T, name string, b []byte) {
	t.Helper()
	dir := os.Getenv("HERALD_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("saved %s", p)
}

func TestBrowserShowsComponentsAndTheActiveIncident(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t, storetest.Open(t, "sqlite"))
	inc := e.seedOutage()

	if err := chromedp.Do(step(t, ctx), chromedp.Navigate(e.srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#overall"))); err != nil {
		t.Fatal(err)
	}
	banner, err := chromedp.Run(step(t, ctx), chromedp.Text(chromedp.CSS("#overall")))
	if err != nil || banner != "Major System Outage" {
		t.Errorf("banner = %q, %v", banner, err)
	}
	title, err := chromedp.Run(step(t, ctx), chromedp.Text(chromedp.CSS("#incident-"+inc.ID)))
	if err != nil || title != "Customers cannot reach their sites" {
		t.Errorf("incident title = %q, %v", title, err)
	}
	// What a reader sees: every component, the groups expanded (something
	// in each is down), the timeline newest first.
	got, err := chromedp.Run(step(t, ctx), chromedp.Evaluate[struct {
		Components, Visible, Groups, Open int
		Words                             []string
	}](`({
		Components: document.querySelectorAll('.component').length,
		Visible: [...document.querySelectorAll('.component')].filter(c => c.offsetParent !== null).length,
		Groups: document.querySelectorAll('details.group').length,
		Open: document.querySelectorAll('details.group[open]').length,
		Words: [...document.querySelectorAll('.incident .timeline .word')].map(w => w.textContent),
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if got.Components != 11 || got.Visible != 11 || got.Groups != 2 || got.Open != 2 {
		t.Errorf("components %d (visible %d), groups %d (open %d); want 11, 11, 2, 2", got.Components, got.Visible, got.Groups, got.Open)
	}
	if strings.Join(got.Words, ",") != "Update,Identified,Investigating" {
		t.Errorf("timeline words = %v", got.Words)
	}

	// A group folds with the keyboard, without JavaScript of ours.
	if err := chromedp.Do(step(t, ctx), chromedp.Focus(chromedp.CSS("details.group summary")), chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	open, err := chromedp.Run(step(t, ctx), chromedp.Evaluate[int](`document.querySelectorAll('details.group[open]').length`))
	if err != nil || open != 1 {
		t.Errorf("after Enter on a group: %d open, %v; want 1", open, err)
	}
	// A day with an outage takes the focus and shows its tooltip.
	tip, err := chromedp.Run(step(t, ctx), chromedp.Evaluate[string](`(() => {
		const day = document.querySelector('details[open] .bar li[tabindex="0"]');
		day.focus();
		return getComputedStyle(day, '::after').display + ' ' + getComputedStyle(day, '::after').content;
	})()`))
	if err != nil || !strings.HasPrefix(tip, `block "Sep 16, 2021: Degraded Performance`) {
		t.Errorf("focused day's tooltip = %q, %v", tip, err)
	}

	shot, err := chromedp.Run(step(t, ctx), chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	artifact(t, "status-page.png", shot)

	// On a phone: no sideways scrolling, thirty days of bars.
	err = chromedp.Do(step(t, ctx), chromedp.EmulateViewport(390, 844), chromedp.Navigate(e.srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#overall")))
	if err != nil {
		t.Fatal(err)
	}
	phone, err := chromedp.Run(step(t, ctx), chromedp.Evaluate[struct{ Overflow, Days int }](`({
		Overflow: document.documentElement.scrollWidth - window.innerWidth,
		Days: [...document.querySelector('.bar').children].filter(d => getComputedStyle(d).display !== 'none').length,
	})`))
	if err != nil || phone.Overflow > 0 || phone.Days != 30 {
		t.Errorf("on a phone: %d px too wide, %d days shown (%v); want 0 and 30", phone.Overflow, phone.Days, err)
	}
	if shot, err = chromedp.Run(step(t, ctx), chromedp.FullScreenshot(100)); err == nil {
		artifact(t, "status-page-phone.png", shot)
	}
}
