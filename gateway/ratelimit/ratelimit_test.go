package ratelimit

import (
	"strconv"
	"testing"
	"time"
)

// TestKeyedMemoryIsBounded: more keys than the bound never keep more
// buckets than the bound, whether the old buckets are full again or still
// charged, and the key charged last is still limited after the eviction.
func TestKeyedMemoryIsBounded(t *testing.T) {
	for _, every := range []time.Duration{time.Nanosecond, time.Hour} {
		k := New(Limit{Burst: 1, Every: every}, 1000)
		now := time.Now()
		for i := range 25000 {
			k.Allow("10.0."+strconv.Itoa(i>>8)+"."+strconv.Itoa(i&255), now)
			if n := k.Len(); n > 1000 || len(k.m) != k.lru.Len() {
				t.Fatalf("every %v: %d keys (%d in the LRU list) after %d, want at most 1000", every, n, k.lru.Len(), i+1)
			}
		}
		if every == time.Hour {
			if ok, _ := k.Allow("10.0.97.167", now); ok { // the last key inserted
				t.Error("the last key charged is no longer limited")
			}
		}
	}
	if k := New(Limit{Burst: 1, Every: time.Hour}, 0); k.max != DefaultMaxKeys {
		t.Errorf("max %d for 0, want DefaultMaxKeys", k.max)
	}
}

// TestKeyedEvictsFullBucketsFirst: at the bound, buckets that are full
// again go before charged ones, however recently those were used.
func TestKeyedEvictsFullBucketsFirst(t *testing.T) {
	k := New(Limit{Burst: 1, Every: time.Minute}, 10)
	now := time.Now()
	k.Allow("charged", now)
	for i := range 9 {
		k.Allow("old"+strconv.Itoa(i), now.Add(-time.Hour)) // full again by now
	}
	k.Allow("new", now)
	if ok, _ := k.Check("charged", now); ok {
		t.Error("the charged bucket was evicted before the full ones")
	}
	if k.Len() != 2 {
		t.Errorf("%d keys, want 2 (charged, new)", k.Len())
	}
}

// TestKeyedAllowCheckReset: Allow takes tokens up to the burst and then
// says how long to wait; Check takes nothing; Reset forgets the key.
func TestKeyedAllowCheckReset(t *testing.T) {
	k := New(Limit{Burst: 2, Every: 10 * time.Second}, 0)
	now := time.Now()
	if ok, _ := k.Check("a", now); !ok || k.Len() != 0 {
		t.Fatal("an unknown key has no token or got a bucket from Check")
	}
	for i := range 2 {
		if ok, _ := k.Allow("a", now); !ok {
			t.Fatalf("request %d refused within the burst", i+1)
		}
	}
	ok, wait := k.Allow("a", now)
	if ok || wait != 10*time.Second {
		t.Fatalf("over the burst: ok %v wait %v, want refused for 10s", ok, wait)
	}
	if ok, wait := k.Check("a", now.Add(4*time.Second)); ok || (wait-6*time.Second).Abs() > time.Microsecond {
		t.Errorf("check: ok %v wait %v, want refused for 6s", ok, wait)
	}
	if ok, _ := k.Check("a", now.Add(10*time.Second)); !ok {
		t.Error("no token once one refilled")
	}
	if ok, _ := k.Allow("b", now); !ok {
		t.Error("another key shares a's bucket")
	}
	k.Reset("a")
	if ok, _ := k.Allow("a", now); !ok {
		t.Error("a reset key is still limited")
	}
}

// TestKeyedFailIsProgressive: past the burst, each failure in a row costs
// twice the one before, up to the burst; a bucket full again starts over.
func TestKeyedFailIsProgressive(t *testing.T) {
	l := Limit{Burst: 4, Every: time.Second}
	k := New(l, 0)
	now := time.Now()
	var waits []time.Duration
	for range 8 {
		k.Fail("x", now)
		_, d := k.Check("x", now)
		waits = append(waits, d)
	}
	// costs 1 1 1 1 2 4 4 4: tokens 3 2 1 0 -2 -6 -10 -14
	want := []time.Duration{0, 0, 0, time.Second, 3 * time.Second, 7 * time.Second, 11 * time.Second, 15 * time.Second}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("waits %v, want %v", waits, want)
		}
	}
	later := now.Add(time.Minute) // full again
	k.Fail("x", later)
	if ok, _ := k.Check("x", later); !ok {
		t.Error("the count of failures did not restart once the bucket was full")
	}
}

// TestKeyedAllowLimit: a key's own limit applies, and a changed one
// applies to its existing bucket.
func TestKeyedAllowLimit(t *testing.T) {
	k := New(Limit{}, 0)
	now := time.Now()
	one := PerSecond(1)
	if one.Burst != 1 || one.Every != time.Second {
		t.Fatalf("PerSecond(1) = %+v", one)
	}
	if b := PerSecond(2.5).Burst; b != 3 {
		t.Fatalf("PerSecond(2.5).Burst = %d, want 3", b)
	}
	if ok, _ := k.AllowLimit("src", one, now); !ok {
		t.Fatal("first request refused")
	}
	if ok, d := k.AllowLimit("src", one, now); ok || d != time.Second {
		t.Fatalf("second request: ok %v wait %v, want refused for 1s", ok, d)
	}
	k.AllowLimit("src", PerSecond(100), now.Add(500*time.Millisecond)) // half a token: refused
	// 0.5 + 100/s × 0.1 s: ten tokens at 600 ms
	for i := range 10 {
		if ok, _ := k.AllowLimit("src", PerSecond(100), now.Add(600*time.Millisecond)); !ok {
			t.Fatalf("request %d refused: a raised limit does not apply to the existing bucket", i+1)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	for d, want := range map[time.Duration]time.Duration{0: time.Second, time.Millisecond: time.Second,
		time.Second: time.Second, 1001 * time.Millisecond: 2 * time.Second} {
		if got := RetryAfter(d); got != want {
			t.Errorf("RetryAfter(%v) = %v, want %v", d, got, want)
		}
	}
}
