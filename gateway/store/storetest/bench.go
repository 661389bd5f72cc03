package storetest

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// BenchSubscribers returns how many subscribers a benchmark seeds: def,
// the size its figures are quoted at, or HERALD_BENCH_SUBSCRIBERS when
// set. CI runs every benchmark once at a small size (.ci/run), so that
// the checks inside the benchmarks run on every change; the figures of
// such a run mean nothing.
func BenchSubscribers(tb testing.TB, def int) int {
	tb.Helper()
	v := os.Getenv("HERALD_BENCH_SUBSCRIBERS")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		tb.Fatalf("HERALD_BENCH_SUBSCRIBERS=%q: want a positive number", v)
	}
	return n
}

// WaitFor polls cond every interval until it holds, and fails tb when it
// still does not after within: a hang guard for a benchmark or test that
// waits for work to finish, never a performance bound.
func WaitFor(tb testing.TB, within, interval time.Duration, cond func() bool, what string) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("gave up after %v waiting for %s", within, what)
		}
		time.Sleep(interval)
	}
}

// HangGuard is how long a benchmark waits for n deliveries before it
// gives up: far beyond any plausible rate, so it only ends a hang.
func HangGuard(n int) time.Duration { return 2*time.Minute + time.Duration(n)*2*time.Millisecond }
