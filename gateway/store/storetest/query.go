package storetest

import (
	"testing"

	"github.com/heraldstatus/herald/gateway/store"
)

// MustCount runs a query written with ? placeholders that returns one
// integer (a COUNT(*), usually) and returns it; an error fails the test.
// A check that something did not happen ("no row", "count is 0") must see
// its query succeed, or a broken query passes it: gateway's
// TestNoDiscardedReadErrors refuses a Scan whose error is thrown away.
func MustCount(tb testing.TB, s *store.Store, q string, args ...any) int {
	tb.Helper()
	var n int
	if err := s.DB().QueryRow(Rebind(s, q), args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	return n
}
