package gctune

import (
	"errors"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"

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
	prevPercent := debug.SetGCPercent(100)
	prevLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
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
