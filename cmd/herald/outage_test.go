package main

import (
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// TestDatabaseOutageUnderIngestLoad cuts PostgreSQL away (every connection
// reset, new ones refused, as a database restart does) for several seconds
// under a steady ingest load: ingest answers 503 with Retry-After while it
// is gone, never a 2xx for an alert it did not store and never a 500;
// /readyz says so; and herald recovers by itself when the database is back,
// with every alert it accepted stored.
//
// "While it is gone" is exact: every ingest request and every /readyz
// probe sent after the cut and answered before the database came back is
// a 503, and there must be some. A request sent just before the cut may
// still be answered 202 after it (its alerts were committed), and one sent
// just before the database came back may be answered 202 after: both are
// outside the window and counted only in the totals (202 or 503).
func TestDatabaseOutageUnderIngestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("holds a database outage for several seconds")
	}
	const outage = 6 * time.Second
	pg := storetest.PostgresURL(t)
	st := openMigrated(t, pg)
	proxy := storetest.NewProxy(t, hostOf(t, pg))
	proxy.Up()
	env := ingestEnv(t, strings.Replace(pg, hostOf(t, pg), proxy.Addr, 1))
	in := start(t, env)
	in.waitReady(200, 60*time.Second)

	load := &ingestLoad{token: scaleoutSource}
	stop := load.run(in.url, "outage", 4, 10, 10*time.Millisecond)
	time.Sleep(2 * time.Second) // steady load before the outage
	before := load.statuses()

	proxy.Down()
	cut := time.Now()
	// /readyz follows the database down, within the outage.
	type probe struct {
		answered time.Time
		code     int
	}
	var probes []probe
	for time.Since(cut) < outage {
		code, _ := in.get("/readyz", "")
		probes = append(probes, probe{time.Now(), code})
		time.Sleep(200 * time.Millisecond)
	}
	during := diff(load.statuses(), before)
	upAt := time.Now()
	proxy.Up()
	var ready []int // probes sent after the cut and answered before the end
	for _, p := range probes {
		if p.answered.Before(upAt) {
			ready = append(ready, p.code)
		}
	}

	// It recovers by itself: the same clients' requests are accepted again.
	mark := load.accepted()
	waitFor(t, 60*time.Second, func() bool { return load.accepted() > mark }, "ingest to accept alerts again")
	recovered := time.Since(upAt)
	time.Sleep(2 * time.Second) // steady load after the outage
	stop()
	in.waitReady(200, 30*time.Second)

	all := load.statuses()
	lost := load.lost(t, st)
	t.Logf("outage %v under 4 clients × 10-alert batches: before %v, during %v, all %v; /readyz during %v; "+
		"accepting again %v after the database came back; %d alerts accepted, %d lost",
		outage, before, during, all, summarize(ready), recovered.Round(10*time.Millisecond), load.accepted(), len(lost))
	if len(lost) > 0 {
		t.Errorf("%d alerts answered 2xx are not stored, e.g. %s", len(lost), lost[0])
	}
	for code, n := range all {
		if code != 202 && code != 503 {
			t.Errorf("%d answers of status %d, want only 202 and 503", n, code)
		}
	}
	// Throughout the cut: only 503 for what was sent and answered within it.
	inCut := load.within(cut, upAt)
	for code, n := range inCut {
		if code != 503 {
			t.Errorf("%d requests sent and answered during the outage got %d, want 503 throughout (answers %v)", n, code, inCut)
		}
	}
	if inCut[503] == 0 {
		t.Errorf("no request was both sent and answered during the outage (answers %v); the test proved nothing", inCut)
	}
	if load.badRetry > 0 {
		t.Errorf("%d 503 answers without Retry-After", load.badRetry)
	}
	if got := summarize(ready); got[503] == 0 || len(got) != 1 {
		t.Errorf("/readyz during the outage answered %v, want 503 throughout", got)
	}
}

// diff returns the counts of now not yet in before.
func diff(now, before map[int]int) map[int]int {
	out := map[int]int{}
	for k, v := range now {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// summarize counts the statuses in codes.
func summarize(codes []int) map[int]int {
	out := map[int]int{}
	for _, c := range codes {
		out[c]++
	}
	return out
}
