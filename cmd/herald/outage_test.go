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
func TestDatabaseOutageUnderIngestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("holds a database outage for several seconds")
	}
	const outage = 6 * time.Second
	pg := storetest.PostgresURL(t)
	st := openMigrated(t, pg)
	proxy := newProxy(t, hostOf(t, pg))
	proxy.up()
	env := ingestEnv(t, strings.Replace(pg, hostOf(t, pg), proxy.addr, 1))
	in := start(t, env)
	in.waitReady(200, 60*time.Second)

	load := &ingestLoad{token: scaleoutSource}
	stop := load.run(in.url, "outage", 4, 10, 10*time.Millisecond)
	time.Sleep(2 * time.Second) // steady load before the outage
	before := load.statuses()

	proxy.down()
	cut := time.Now()
	// /readyz follows the database down, within the outage.
	var ready []int
	for time.Since(cut) < outage {
		code, _ := in.get("/readyz", "")
		ready = append(ready, code)
		time.Sleep(200 * time.Millisecond)
	}
	during := diff(load.statuses(), before)
	proxy.up()

	// It recovers by itself: the same clients' requests are accepted again.
	upAt := time.Now()
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
	if during[503] == 0 {
		t.Errorf("no 503 during the outage (answers %v)", during)
	}
	if load.badRetry > 0 {
		t.Errorf("%d 503 answers without Retry-After", load.badRetry)
	}
	if summarize(ready)[503] == 0 {
		t.Errorf("/readyz never answered 503 during the outage: %v", summarize(ready))
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
