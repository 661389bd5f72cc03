package probes_test

import (
	"context"
	"testing"

	"github.com/heraldstatus/herald/internal/loopdns"
)

// newResolver starts a loopback DNS server (see internal/loopdns) for one
// test: it answers A questions with 192.0.2.10 when right and 192.0.2.66
// when wrong, and stops when the test ends.
func newResolver(t *testing.T) *loopdns.Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	r, err := loopdns.Start(ctx, loopdns.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}
