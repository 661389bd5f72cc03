// Package gctune sets the garbage collector for Herald's workload, unless
// the operator set it through the environment.
//
// Herald's live heap is small (about 10 MiB serving a one-million-subscriber
// fan-out: nothing is held per subscriber) while a fan-out or an alert
// storm allocates fast. Go's default (GOGC=100: collect each time the heap
// doubles) then collects many times a second, and the collector took about
// a fifth of the CPU of a fan-out in the benchmarks. Letting the heap grow
// to five times the live data (GOGC=400) costs tens of MiB and gives that
// CPU back to sending.
//
// A soft memory limit keeps that larger target inside the box Herald runs
// in: near the limit the collector works harder again instead of letting
// the kernel kill the process. In a container (a cgroup with a memory
// limit) the soft limit is 90 % of the cgroup's limit, leaving the rest to
// memory Go does not count (thread stacks, SQLite's page cache, the
// binary); elsewhere it is a fixed 512 MiB. A container limited to 256 MB
// thus gets a soft limit of about 230 MB instead of 512 MiB, which it could
// never reach alive.
//
// GOGC=400 is right for a small live heap and wrong for a large one: a
// storm of new alerts held about 80 MiB live while the reconcile pass
// caught up, and five times that (400 MiB, capped by the soft limit) was
// the process's RSS, more than a 256 MB container holds although the
// live data fitted four times over. So where Herald sets GOGC itself, it
// also caps how far the heap grows past its live data: after each
// collection the percentage is chosen so that the next goal is at most
// Headroom above the live heap, but never below GOGC=100 (Go's default),
// whose cost the benchmarks measured. A live heap up to Headroom/4 (4 MiB)
// keeps GOGC=400; a fan-out's 7 MiB gets about 230 (a goal near 23 MiB);
// 16 MiB and more get 100.
//
// A broadcast's live heap is that small: a larger Headroom let its heap,
// and so the process's peak RSS, grow by tens of MiB for little CPU saved
// (the figures are in docs/performance.md).
//
// Reading the cgroup limit (v1 and v2, nested hierarchies, mount points)
// is left to github.com/KimMachineGun/automemlimit, which handles the
// cases Herald would otherwise get wrong; Herald only decides which figure
// wins.
package gctune

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// Defaults applied when GOGC or GOMEMLIMIT is unset.
const (
	Percent = 400
	// MemoryLimit is the soft limit, in bytes, where no cgroup limits
	// the process's memory.
	MemoryLimit = 512 << 20
	// CgroupRatio is the share of a cgroup memory limit used as the soft
	// limit.
	CgroupRatio = 0.9
	// Headroom is the most the heap grows past its live data before the
	// next collection, where GOGC=Percent would let it grow further; the
	// percentage it leads to is never below MinPercent.
	Headroom   = 16 << 20
	MinPercent = 100
)

// Settings says what Apply chose, for the start-up log.
type Settings struct {
	// Percent is the GOGC value set, or 0 when GOGC was left alone.
	Percent int
	// MemoryLimit is the soft limit set in bytes, or 0 when GOMEMLIMIT
	// was left alone.
	MemoryLimit int64
	// FromCgroup reports that MemoryLimit was derived from the cgroup's
	// memory limit.
	FromCgroup bool
}

// Changed reports whether Apply set anything.
func (s Settings) Changed() bool { return s.Percent != 0 || s.MemoryLimit != 0 }

// Apply sets the collector's target and soft memory limit, each only when
// its environment variable (GOGC, GOMEMLIMIT) is unset, and reports what
// it set.
func Apply() Settings {
	return apply(os.LookupEnv, memlimit.FromCgroup)
}

// apply is Apply with the environment and the cgroup reader as parameters,
// so tests can decide both.
func apply(env func(string) (string, bool), cgroup memlimit.Provider) Settings {
	var s Settings
	if _, set := env("GOGC"); !set {
		debug.SetGCPercent(Percent)
		s.Percent = Percent
		startCapping()
	}
	if _, set := env("GOMEMLIMIT"); !set {
		s.MemoryLimit, s.FromCgroup = memoryLimit(cgroup)
		debug.SetMemoryLimit(s.MemoryLimit)
	}
	return s
}

// memoryLimit decides the soft limit: CgroupRatio of the cgroup's limit
// when there is one, MemoryLimit otherwise (no cgroup limit, not Linux,
// or a cgroup tree that cannot be read: a wrong guess must not stop
// Herald from starting).
func memoryLimit(cgroup memlimit.Provider) (limit int64, fromCgroup bool) {
	n, err := memlimit.ApplyRatio(cgroup, CgroupRatio)()
	switch {
	case err != nil || n == 0:
		return MemoryLimit, false
	case n > math.MaxInt64:
		return math.MaxInt64, true
	}
	return int64(n), true
}

// Settle collects once, returning what is free to the operating system.
// Call it when start-up is over. Start-up leaves about 20 MiB of garbage
// (parsed templates' intermediates, the API description, migrations) that
// is still reachable at the first collection, and the collector sets its
// next goal from that: five times 20 MiB with GOGC=400. The first burst of
// work after start-up (a million-subscriber broadcast's first seconds)
// then grew the heap to about 100 MiB before the second collection, the
// process's peak RSS for the rest of its life. Collected once start-up's
// garbage is unreachable, the goal follows the service's live heap (6-7
// MiB serving a fan-out) instead.
func Settle() { debug.FreeOSMemory() }

// PercentFor returns the GOGC that gives a heap of live bytes its next
// goal: Percent of live above it while that is at most Headroom, else
// Headroom above it, but never less than MinPercent of live.
func PercentFor(live uint64) int {
	if live == 0 {
		return Percent
	}
	growth := min(live*Percent/100, max(live*MinPercent/100, Headroom))
	return int(growth * 100 / live)
}

// generation counts startCapping's and stopCapping's calls: a finalizer
// armed by an earlier generation neither tunes nor arms another (tests
// start and stop capping several times in one process).
var (
	capMu      sync.Mutex
	generation atomic.Int64
	capping    bool
)

// startCapping sets the percentage from the live heap after every
// collection, from then on. A finalizer runs after each collection that
// found its object unreachable; each run arms the next with a new object.
func startCapping() {
	capMu.Lock()
	defer capMu.Unlock()
	if capping {
		return // armed already
	}
	capping = true
	lastPercent.Store(0)
	arm(generation.Add(1))
}

// stopCapping leaves the percentage where it is from then on, for tests.
func stopCapping() {
	capMu.Lock()
	defer capMu.Unlock()
	capping = false
	generation.Add(1)
}

// sentinel is the object whose finalizer runs after each collection: large
// enough to get an allocation of its own (the tiny allocator's objects may
// never be finalized).
type sentinel struct{ _ [32]byte }

func arm(gen int64) {
	runtime.SetFinalizer(&sentinel{}, func(*sentinel) {
		capMu.Lock()
		defer capMu.Unlock()
		if generation.Load() != gen {
			return
		}
		tune()
		arm(gen)
	})
}

var lastPercent atomic.Int64

// tune sets the percentage for the live heap the last collection marked.
func tune() {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	p := PercentFor(s[0].Value.Uint64())
	if lastPercent.Swap(int64(p)) != int64(p) {
		debug.SetGCPercent(p)
	}
}
