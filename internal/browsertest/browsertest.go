// Package browsertest starts the headless Chromium that the browser tests
// of the status page and the support console drive (with chromedp), the
// same way for both: Debian's Chromium (HERALD_CHROMIUM names another),
// a profile of its own per test, and nothing that reaches beyond
// loopback. Only tests import it.
//
// Where no Chromium is installed the browser tests skip, unless
// HERALD_TEST_REQUIRE_BROWSER is set (CI sets it): then a missing browser
// fails them, so a run that proved nothing about the pages cannot pass.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// Path returns the browser to drive, or "" when none is installed.
func Path() string {
	if p := os.Getenv("HERALD_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Start starts a headless Chromium with a window of width×height and
// returns its first tab, closed when the test ends. It skips the test
// where no Chromium is installed (.ci/run installs Debian's), or fails it
// under HERALD_TEST_REQUIRE_BROWSER.
func Start(t testing.TB, width, height int) context.Context {
	t.Helper()
	path := Path()
	if path == "" {
		const msg = "no Chromium on this machine (apt-get install chromium, or set HERALD_CHROMIUM); the browser tests need it"
		if os.Getenv("HERALD_TEST_REQUIRE_BROWSER") != "" {
			t.Fatal(msg + "; HERALD_TEST_REQUIRE_BROWSER is set")
		}
		t.Skip(msg)
	}
	// The background-networking flags matter: without them Chromium
	// keeps trying to reach Google's hosts, which a closed network refuses.
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(width, height))
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // start it now, without a deadline
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	return ctx
}
