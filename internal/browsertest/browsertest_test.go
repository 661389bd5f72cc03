package browsertest

import (
	"runtime"
	"testing"
)

// outcome records how Start ended a test without ending this one.
type outcome struct {
	testing.TB
	skipped, failed bool
}

func (o *outcome) Skip(...any)  { o.skipped = true; runtime.Goexit() }
func (o *outcome) Fatal(...any) { o.failed = true; runtime.Goexit() }

func startWithout(t *testing.T) *outcome {
	t.Setenv("PATH", t.TempDir()) // no chromium, chromium-browser or google-chrome
	t.Setenv("HERALD_CHROMIUM", "")
	o := &outcome{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(o, 100, 100)
		t.Error("Start returned without a browser")
	}()
	<-done
	return o
}

// TestMissingBrowserSkipsOrFails: without Chromium the browser tests skip
// on a developer's machine, and fail where HERALD_TEST_REQUIRE_BROWSER
// says a browser must be there.
func TestMissingBrowserSkipsOrFails(t *testing.T) {
	t.Setenv("HERALD_TEST_REQUIRE_BROWSER", "")
	if o := startWithout(t); !o.skipped || o.failed {
		t.Errorf("without HERALD_TEST_REQUIRE_BROWSER: skipped %v, failed %v; want a skip", o.skipped, o.failed)
	}
	t.Setenv("HERALD_TEST_REQUIRE_BROWSER", "1")
	if o := startWithout(t); o.skipped || !o.failed {
		t.Errorf("with HERALD_TEST_REQUIRE_BROWSER=1: skipped %v, failed %v; want a failure", o.skipped, o.failed)
	}
}
