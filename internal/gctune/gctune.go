// Package gctune sets the garbage collector for Herald's workload, unless
// the operator set it through the environment.
//
// Herald's live heap is small (about 10 MiB serving a one-million-subscriber
// fan-out: nothing is held per subscriber) while a fan-out or an alert
// storm allocates fast. Go's default (GOGC=100: collect each time the heap
// doubles) then collects many times a second, and the collector took about
// a fifth of the CPU of a fan-out in the benchmarks. Letting the heap grow
// to five times the live data (GOGC=400) costs tens of MiB and gives that
// CPU back to sending. A soft memory limit keeps the larger target from
// growing without bound when the live heap is large (a big import): near
// it, the collector works harder again.
package gctune

import (
	"os"
	"runtime/debug"
)

// Defaults applied when GOGC or GOMEMLIMIT is unset.
const (
	Percent     = 400
	MemoryLimit = 512 << 20 // bytes
)

// Apply sets the collector's target and soft memory limit, each only when
// its environment variable (GOGC, GOMEMLIMIT) is unset, and reports
// whether it changed anything.
func Apply() bool {
	return apply(os.LookupEnv)
}

func apply(env func(string) (string, bool)) bool {
	changed := false
	if _, set := env("GOGC"); !set {
		debug.SetGCPercent(Percent)
		changed = true
	}
	if _, set := env("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(MemoryLimit)
		changed = true
	}
	return changed
}
