package gctune

import (
	"errors"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

func TestApplyLeavesWhatTheOperatorSet(t *testing.T) {
	restoreCollector(t)
	noCgroup := func() (uint64, error) { return 0, memlimit.ErrNoLimit }
	for _, tc := range []struct {
		name        string
		env         map[string]string
		wantPercent int
		wantLimit   int64
	}{
		{"unset", nil, Percent, MemoryLimit},
		{"GOGC set", map[string]string{"GOGC": "100"}, 100, MemoryLimit},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB"}, Percent, math.MaxInt64},
		{"both set", map[string]string{"GOGC": "off", "GOMEMLIMIT": "1GiB"}, 100, math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(math.MaxInt64)
			s := apply(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }, noCgroup)
			if got := debug.SetGCPercent(100); got != tc.wantPercent {
				t.Errorf("GC percent = %d, want %d", got, tc.wantPercent)
			}
			if got := debug.SetMemoryLimit(-1); got != tc.wantLimit {
				t.Errorf("memory limit = %d, want %d", got, tc.wantLimit)
			}
			if want := len(tc.env) < 2; s.Changed() != want {
				t.Errorf("changed = %v, want %v", s.Changed(), want)
			}
		})
	}
}

// The soft limit follows the box: 90 % of a cgroup limit when there is
// one, whether it is below or above the fixed default, and the fixed
// default when the cgroup sets none or cannot be read. An operator's
// GOMEMLIMIT still wins over the cgroup.
func TestApplyDerivesTheMemoryLimitFromTheCgroup(t *testing.T) {
	restoreCollector(t)
	unset := func(string) (string, bool) { return "", false }
	for _, tc := range []struct {
		name       string
		env        func(string) (string, bool)
		cgroup     memlimit.Provider
		wantLimit  int64
		wantCgroup bool
	}{
		{"container of 256 MB", unset, memlimit.Limit(256 << 20), 256 << 20 * 9 / 10, true},
		{"container of 4 GiB", unset, memlimit.Limit(4 << 30), 4 << 30 * 9 / 10, true},
		{"no cgroup limit", unset, func() (uint64, error) { return 0, memlimit.ErrNoLimit }, MemoryLimit, false},
		{"unreadable cgroup", unset, func() (uint64, error) { return 0, errors.New("no mountinfo") }, MemoryLimit, false},
		{"huge cgroup limit", unset, memlimit.Limit(math.MaxUint64), math.MaxInt64, true},
		{"GOMEMLIMIT beats the cgroup", func(k string) (string, bool) { return "1GiB", k == "GOMEMLIMIT" }, memlimit.Limit(256 << 20), math.MaxInt64, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetMemoryLimit(math.MaxInt64)
			s := apply(tc.env, tc.cgroup)
			got := debug.SetMemoryLimit(-1)
			// The ratio is applied in floating point: allow a byte of rounding.
			if d := got - tc.wantLimit; d < -1 || d > 1 {
				t.Errorf("memory limit = %d, want %d", got, tc.wantLimit)
			}
			if s.FromCgroup != tc.wantCgroup {
				t.Errorf("FromCgroup = %v, want %v", s.FromCgroup, tc.wantCgroup)
			}
		})
	}
}

func restoreCollector(t *testing.T) {
	t.Helper()
	stopCapping()
	prevPercent := debug.SetGCPercent(100)
	prevLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		stopCapping()
		debug.SetGCPercent(prevPercent)
		debug.SetMemoryLimit(prevLimit)
	})
}

// After Settle, the collector's goal follows the heap that is live now,
// not the one that was live at the last collection (start-up's).
func TestSettleResetsTheGoalAfterStartUp(t *testing.T) {
	restoreCollector(t)
	debug.SetGCPercent(Percent)
	startUp := make([][]byte, 0, 64)
	for range 64 { // 32 MiB live at a collection, as start-up leaves
		startUp = append(startUp, make([]byte, 512<<10))
	}
	runtime.GC()
	before := heapGoal()
	runtime.KeepAlive(startUp)
	Settle()
	after := heapGoal()
	// The goal was five times 32 MiB (160 MiB and more); after, five times
	// what the test binary holds besides, a few MiB.
	if before < 150<<20 || after > before/2 {
		t.Errorf("heap goal: %d MiB before Settle, %d MiB after; want at least 150 before and less than half of it after",
			before>>20, after>>20)
	}
}

func heapGoal() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// A small live heap keeps GOGC=400; a larger one grows at most Headroom
// past its live data, never by less than the live data itself.
func TestPercentForCapsTheHeadroom(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, Percent},
		{2 << 20, 400},
		{4 << 20, 400},
		{7 << 20, 228},
		{8 << 20, 200},
		{16 << 20, 100},
		{40 << 20, 100},
		{64 << 20, 100},
		{80 << 20, 100},
		{1 << 30, 100},
	} {
		if got := PercentFor(tc.live); got != tc.want {
			t.Errorf("PercentFor(%d MiB) = %d, want %d", tc.live>>20, got, tc.want)
		}
	}
}

// With GOGC unset, the heap goal follows the live heap after each
// collection: 48 MiB live gets a goal of 96 MiB (GOGC=100), where
// GOGC=400 made it 240 MiB; once that is freed, GOGC=400 again.
func TestApplyCapsTheHeapGoal(t *testing.T) {
	restoreCollector(t)
	noCgroup := func() (uint64, error) { return 0, memlimit.ErrNoLimit }
	apply(func(string) (string, bool) { return "", false }, noCgroup)
	live := make([][]byte, 0, 96)
	for range 96 {
		live = append(live, make([]byte, 512<<10))
	}
	waitPercent(t, "below Percent", func(p int) bool { return p < Percent })
	if want := uint64(48<<20) * uint64(100+PercentFor(48<<20)) / 100; heapGoal() > want*11/10 {
		t.Errorf("heap goal %d MiB with 48 MiB live, want at most %d", heapGoal()>>20, want>>20)
	}
	runtime.KeepAlive(live) // its last use: unreachable from here on
	waitPercent(t, "Percent", func(p int) bool { return p == Percent })
}

// waitPercent collects until the tuner, which runs in the finalizer
// goroutine after a collection, has set GOGC to what ok accepts.
func waitPercent(t *testing.T, want string, ok func(int) bool) {
	t.Helper()
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	for range 200 {
		runtime.GC()
		runtime.Gosched()
		metrics.Read(s)
		if ok(int(s[0].Value.Uint64())) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("GOGC = %d, want %s", s[0].Value.Uint64(), want)
}
