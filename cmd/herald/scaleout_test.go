package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/internal/loopdns"
	"github.com/heraldstatus/herald/internal/mailsink"
)

// The scale-out test's configuration: one component for the incident, a
// generic source for ingest, a short delivery lease (so the deliveries the
// killed replica held go out again within the test) and an SMTP rate per
// replica that keeps the fan-out running long enough to be cut in the
// middle.
const scaleoutConfig = `components:
  - name: API
sources:
  - name: monitors
    kind: generic
    token: ${SOURCE_TOKEN}
smtp:
  rate: 250
delivery:
  lease: 15s
  send_timeout: 10s
`

const (
	scaleoutAdmin  = "hrld_scaleout_admin_token_0123456789"
	scaleoutSource = "src_scaleout_token_0123456789abcdef"
	supportAddress = "oncall@example.com"
)

// TestScaleOutSharesWorkAndSurvivesAKill runs three `herald serve`
// processes on one PostgreSQL, as three replicas behind a load balancer
// would: ingest answered by any replica is stored, one incident's fan-out
// to thousands of subscribers is shared, one replica is SIGKILLed in the
// middle of it and every subscriber still gets its message (duplicates
// counted: only a message the sink accepted in the instant before the kill
// can go twice), and the incident's update-due timer fires on exactly one
// replica.
func TestScaleOutSharesWorkAndSurvivesAKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary, runs three processes and waits out a delivery lease")
	}
	const emails, hooks, killAfter = 3000, 300, 900
	began := time.Now()
	bin := buildHerald(t)
	pg := storetest.PostgresURL(t)
	st := openMigrated(t, pg)
	storetest.SeedSubscribers(t, st, gateway.SubscriberEmail, emails)
	// Five receivers answering in 1 s: Herald sends at most 4 requests at
	// once per receiver, so 300 webhooks take about 5 s from 3 replicas.
	rcv := startHookReceiver(t, 5, time.Second)
	seedHooks(t, st, rcv, hooks)
	sink := mailsink.Start(t, mailsink.Options{Keep: mailsink.KeepEnvelope})

	env := map[string]string{
		"HERALD_CONFIG":                writeConfig(t, scaleoutConfig),
		"SOURCE_TOKEN":                 scaleoutSource,
		"HERALD_DATABASE_URL":          pg,
		"HERALD_SMTP_URL":              sink.URL(),
		"HERALD_ALLOW_PRIVATE_TARGETS": "true",
		"HERALD_ADMIN_TOKEN":           scaleoutAdmin,
		"HERALD_SUPPORT_EMAIL":         supportAddress,
		"HERALD_PUBLIC_URL":            "http://status.example.com",
	}
	// Started together: replicas race on the config sync, the admin key
	// and the support subscriber, and all must come up.
	replicas := make([]*child, 3)
	for i := range replicas {
		replicas[i] = startChild(t, bin, env)
	}
	for _, r := range replicas {
		r.waitReady(200, 90*time.Second)
	}

	// Ingest on every replica: each alert answered 2xx is stored.
	load := &ingestLoad{token: scaleoutSource}
	for i := range 30 {
		load.post(replicas[i%3].url, fmt.Sprintf("scale-%d", i), 10)
	}
	if load.accepted() != 300 {
		t.Fatalf("ingest accepted %d of 300 alerts: %v", load.accepted(), load.statuses())
	}
	if lost := load.lost(t, st); len(lost) > 0 {
		t.Fatalf("%d alerts answered 2xx are not stored, e.g. %s", len(lost), lost[0])
	}

	// The fan-out: a published incident reaches every subscriber, and
	// promises an update in a few seconds, which nobody posts.
	due := time.Now().Add(4 * time.Second).UTC().Format(time.RFC3339Nano)
	code, body := apiCall(t, replicas[0].url, "POST", "/api/v1/incidents", scaleoutAdmin, `{"name":"API down","status":"identified",
		"body":"Requests fail.","components":{"API":"major_outage"},"next_update_at":"`+due+`"}`)
	if code != 201 {
		t.Fatalf("create incident = %d %s", code, body)
	}

	// Hang guards below, not performance bounds.
	waitFor(t, 2*time.Minute, func() bool { return sink.Count() >= killAfter && rcv.total() >= hooks/5 },
		"the sinks to receive %d emails and %d webhooks", killAfter, hooks/5)
	owner := dispatcherOwner(t, replicas[1])
	replicas[1].kill()
	atKill, hooksAtKill := sink.Count(), rcv.total()
	// The kill must land mid-fan-out, with work in the killed replica's
	// hands, or the test proves nothing about losing a replica: its leases
	// outlive it (15 s), so this count is what it held at the kill.
	sentAtKill, leftAtKill := fanOutAt(t, st)
	held := storetest.MustCount(t, st, `SELECT COUNT(*) FROM deliveries WHERE status = 'sending' AND lease_owner LIKE ?`, owner+":%")
	t.Logf("killed replica 2 after %d emails and %d webhooks reached the sinks; %d deliveries recorded sent, %d not yet, %d of them held by replica 2",
		atKill, hooksAtKill, sentAtKill, leftAtKill, held)
	if sentAtKill == 0 || leftAtKill == 0 || held == 0 {
		t.Fatalf("the kill did not land mid-fan-out: %d sent, %d left, %d held by the killed replica", sentAtKill, leftAtKill, held)
	}

	var left int
	waitFor(t, 90*time.Second, func() bool {
		err := st.DB().QueryRow(`SELECT COUNT(*) FROM deliveries WHERE status IN ('queued', 'sending', 'retrying')`).Scan(&left)
		return err == nil && left == 0
	}, "the queue to drain (the killed replica's leases expire after 15 s)")
	// The update-due timer was due 4 s after the incident; wait for its
	// reminder to be delivered. No replica can fire it again later: a
	// firing deletes the timer's row in the transaction that writes the
	// event, only if it still holds the row's lease and due time
	// (store.FireTimer), so once the row is gone (and nobody posts an
	// update that sets a new one) there is nothing left to fire. So the
	// counts below are final, however long one watched.
	waitFor(t, 60*time.Second, func() bool { return countWhere(t, st, dueReminders+` AND d.status = 'sent'`) >= 1 },
		"the update-due reminder to be sent")
	if n := countWhere(t, st, `SELECT COUNT(*) FROM timers WHERE kind = 'update_due'`); n != 0 {
		t.Errorf("%d update-due timers left after the reminder; a later firing could duplicate it", n)
	}

	missing, dups, ids := deliveryCounts(sink, emails)
	// Support is a subscriber too, and rightly gets two messages: the
	// incident and the reminder. Only a third would be a duplicate.
	toSupport := perAddress(sink)[supportAddress]
	if toSupport > 1 {
		dups--
	}
	hookMissing, hookDups := rcv.count(hooks)
	events := countWhere(t, st, `SELECT COUNT(*) FROM events WHERE type = 'incident.update_due'`)
	reminders := countWhere(t, st, dueReminders)
	t.Logf("3 replicas, one SIGKILLed: %d email subscribers (missing %d, duplicates %d, %d distinct Message-IDs), "+
		"%d webhook subscribers (missing %d, duplicates %d); update-due events %d, reminders %d, messages to support %d; %s",
		emails, missing, dups, ids, hooks, hookMissing, hookDups, events, reminders, toSupport, time.Since(began).Round(time.Second))
	if missing != 0 || hookMissing != 0 {
		t.Errorf("%d email and %d webhook subscribers got nothing, want 0", missing, hookMissing)
	}
	if dups+hookDups > inHandBound {
		t.Errorf("%d duplicates, want at most the %d that can be in hand at the kill", dups+hookDups, inHandBound)
	}
	if events != 1 || reminders != 1 || toSupport != 2 {
		t.Errorf("the update-due timer made %d events and %d reminders, and support got %d messages; "+
			"want exactly 1 reminder, so 2 messages with the incident's", events, reminders, toSupport)
	}
	for i, r := range replicas {
		if i != 1 && strings.Contains(r.logs.String(), "panic") {
			t.Errorf("replica %d panicked:\n%s", i+1, r.logs)
		}
	}
}

// dispatcherOwner returns the lease owner the replica's dispatcher logged
// at start ("dispatcher started" owner=…): the prefix of its deliveries'
// lease_owner.
func dispatcherOwner(t *testing.T, c *child) string {
	t.Helper()
	var owner string
	waitFor(t, 30*time.Second, func() bool {
		m := ownerLog.FindStringSubmatch(c.logs.String())
		if m != nil {
			owner = m[1] + m[2]
		}
		return m != nil
	}, "the dispatcher's start in the replica's log")
	return owner
}

var ownerLog = regexp.MustCompile(`"msg":"dispatcher started".*?"owner":"([^"]+)"|msg="dispatcher started".*? owner=(\S+)`)

// dueReminders counts deliveries of incident.update_due events (extended
// with conditions on d).
const dueReminders = `SELECT COUNT(*) FROM deliveries d JOIN events e ON e.id = d.event_id WHERE e.type = 'incident.update_due'`

func countWhere(t *testing.T, st *store.Store, q string) int {
	t.Helper()
	var n int
	if err := st.DB().QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// seedHooks adds n active webhook subscribers of the whole page, the i-th
// at /hook/i of one of the receiver's endpoints (in turn).
func seedHooks(t *testing.T, st *store.Store, rcv *hookReceiver, n int) {
	t.Helper()
	for i := range n {
		storetest.AddSubscriber(t, st, storetest.Subscriber{Kind: gateway.SubscriberWebhook,
			Address: fmt.Sprintf("%s/hook/%d", rcv.urls[i%len(rcv.urls)], i), All: true})
	}
}

// hookReceiver is a few httptest webhook endpoints (distinct hosts, as
// distinct customers' receivers are) counting the requests to each path, as
// the SMTP sink counts messages to each address. Each answers after delay,
// so that the webhooks of a fan-out go out over a few seconds and a kill
// lands among them. A request whose sender is gone by then (killed) is not
// counted: nobody got its answer, and it will be sent again.
type hookReceiver struct {
	urls []string
	mu   sync.Mutex
	n    int
	hits map[string]int // path → requests answered 2xx
}

func startHookReceiver(t *testing.T, endpoints int, delay time.Duration) *hookReceiver {
	t.Helper()
	r := &hookReceiver{hits: map[string]int{}}
	handler := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		select {
		case <-time.After(delay):
		case <-req.Context().Done():
			return
		}
		r.mu.Lock()
		r.n++
		r.hits[req.URL.Path]++
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	for range endpoints {
		srv := httptest.NewServer(handler)
		t.Cleanup(srv.Close)
		r.urls = append(r.urls, srv.URL)
	}
	return r
}

func (r *hookReceiver) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// count returns how many of /hook/N (N < n) got nothing and how many
// requests beyond the first any path got.
func (r *hookReceiver) count(n int) (missing, dups int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range n {
		if r.hits[fmt.Sprintf("/hook/%d", i)] == 0 {
			missing++
		}
	}
	for _, c := range r.hits {
		dups += c - 1
	}
	return missing, dups
}

// apiCall sends one admin API request and returns the status and body.
func apiCall(t *testing.T, base, method, path, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestReplicasStartTogether starts five herald servers on one PostgreSQL
// schema at the same instant, as an orchestrator restarting a deployment
// does: they race on the config sync, the admin key and the support
// subscriber, and every one must come up. (The schema is migrated first:
// migrations wait on their lock seconds apart, which would stagger the
// replicas and hide the race. Before the config sync took a lock, most
// runs had replicas stop on "already exists".)
func TestReplicasStartTogether(t *testing.T) {
	if testing.Short() {
		t.Skip("replicas may wait on the migration lock, which retries every 5 s")
	}
	pg := storetest.PostgresURL(t)
	openMigrated(t, pg)
	cfgPath := filepath.Join(t.TempDir(), "herald.yml")
	writeSeedConfig(t, cfgPath)
	var wg sync.WaitGroup
	replicas := make([]*instance, 5)
	for i := range replicas {
		wg.Go(func() {
			replicas[i] = start(t, map[string]string{"HERALD_DATABASE_URL": pg, "HERALD_CONFIG": cfgPath,
				"PROM_TOKEN": "prom-token-0123456789", "HERALD_ADMIN_TOKEN": scaleoutAdmin, "HERALD_SUPPORT_EMAIL": supportAddress})
		})
	}
	wg.Wait()
	for i, r := range replicas {
		waitFor(t, 60*time.Second, func() bool {
			select {
			case err := <-r.done:
				t.Fatalf("replica %d stopped: %v\n%s", i+1, err, r.logs)
			default:
			}
			code, _ := r.get("/readyz", "")
			return code == 200
		}, "replica %d to be ready", i+1)
		if code, body := r.get("/api/v1/components", scaleoutAdmin); code != 200 {
			t.Errorf("replica %d: components = %d %s", i+1, code, body)
		}
	}
}

// writeConfig writes a herald config file for a test and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "herald.yml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// kill ends the child with SIGKILL and waits for it to be gone.
func (c *child) kill() {
	c.t.Helper()
	if err := c.cmd.Process.Kill(); err != nil {
		c.t.Fatal(err)
	}
	_ = c.cmd.Wait()
}

// TestProbesRunOncePerIntervalOnThreeReplicas runs three herald servers
// (in process, each with its own connections and probe runner) on one
// PostgreSQL, with http probes against a server that counts the requests
// to each path and dns probes against a loopback DNS server that counts
// the questions about each name, every second, for a bounded number of
// intervals (the probes' due times spread over the interval, so that the
// replicas, polling on fixed tickers, take turns). Counted at the
// targets, each probe ran once per interval:
//
//   - every request or question the target got is one run the database
//     recorded (two replicas running one due probe would make two hits
//     and one result: the second finish is refused), and
//   - the probe's schedule moved one interval per recorded run, from the
//     due time the test set to the next one left after the replicas stop:
//     no interval was run twice, and none was skipped.
//
// Nothing here measures time: the run is bounded by counting results.
func TestProbesRunOncePerIntervalOnThreeReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three servers for several probe intervals")
	}
	const every, rounds = time.Second, 5
	pg := storetest.PostgresURL(t)
	st := openMigrated(t, pg)
	ctx := context.Background()

	var mu sync.Mutex
	hits := map[string]int{} // probe name → requests or questions
	web := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[strings.TrimPrefix(r.URL.Path, "/")]++
		mu.Unlock()
	}))
	t.Cleanup(web.Close)
	dnsCtx, stopDNS := context.WithCancel(ctx)
	t.Cleanup(stopDNS)
	resolver, err := loopdns.Start(dnsCtx, loopdns.Options{})
	if err != nil {
		t.Fatal(err)
	}

	var names []string
	for i := range 4 {
		for _, p := range []*gateway.Probe{
			{Name: fmt.Sprintf("web-%d", i), Kind: gateway.ProbeHTTP, Target: fmt.Sprintf("%s/web-%d", web.URL, i)},
			{Name: fmt.Sprintf("dns-%d", i), Kind: gateway.ProbeDNS, Target: fmt.Sprintf("dns-%d.example.test", i), Resolvers: []string{resolver.Addr}},
		} {
			p.Interval, p.Timeout = every, 500*time.Millisecond
			p.Defaults()
			if err := st.CreateProbe(ctx, p); err != nil {
				t.Fatal(err)
			}
			names = append(names, p.Name)
		}
	}
	// Not due until the replicas are all up: then due at one instant.
	storetest.Exec(t, st, "UPDATE probes SET next_run_at = ?", time.Now().Add(time.Hour).UTC())

	replicas := make([]*instance, 3)
	for i := range replicas {
		replicas[i] = start(t, map[string]string{"HERALD_DATABASE_URL": pg, "HERALD_ADMIN_TOKEN": scaleoutAdmin, "HERALD_LOG_LEVEL": "warn"})
	}
	for _, r := range replicas {
		r.waitReady(200, 60*time.Second)
	}
	// Each probe's first due time a step of the interval after the
	// previous one's: the replicas poll on fixed tickers, and probes due
	// at one instant would all go to whichever polls first after it.
	base := time.Now().Add(300 * time.Millisecond).UTC().Truncate(time.Microsecond)
	first := map[string]time.Time{}
	for i, name := range names {
		first[name] = base.Add(time.Duration(i) * every / time.Duration(len(names)))
		storetest.Exec(t, st, "UPDATE probes SET next_run_at = ? WHERE name = ?", first[name], name)
	}

	results := func() map[string]int {
		rows, err := st.DB().Query(`SELECT p.name, COUNT(r.probe_id) FROM probes p LEFT JOIN probe_results r ON r.probe_id = p.id GROUP BY p.name`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]int{}
		for rows.Next() {
			var name string
			var n int
			if err := rows.Scan(&name, &n); err != nil {
				t.Fatal(err)
			}
			out[name] = n
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	waitFor(t, 60*time.Second, func() bool {
		for _, n := range results() {
			if n < rounds {
				return false
			}
		}
		return true
	}, "every probe to have run %d times", rounds)
	// Which replica ran how many, as each one's metrics say (the runs
	// between this look and the stop are not in it): for the log only,
	// since which replica polls first after a due time is chance.
	var shares []int
	for _, r := range replicas {
		_, body := r.get("/metrics", "")
		shares = append(shares, sumMetric(body, "herald_probe_duration_seconds_count{"))
	}
	t.Logf("runs per replica so far: %v", shares)
	// All three stop at once; each finishes and records its runs in flight.
	for _, r := range replicas {
		r.cancel()
	}
	for i, r := range replicas {
		if err := r.stop(); err != nil {
			t.Errorf("replica %d: %v", i+1, err)
		}
	}

	got := results()
	next := map[string]time.Time{}
	rows, err := st.DB().Query(`SELECT name, next_run_at FROM probes`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var at time.Time
		if err := rows.Scan(&name, &at); err != nil {
			t.Fatal(err)
		}
		next[name] = at
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, name := range names {
		at := hits[name]
		if strings.HasPrefix(name, "dns-") {
			at = int(resolver.QueriesFor(name + ".example.test"))
		}
		intervals := next[name].Sub(first[name])
		t.Logf("%s: %d runs at the target, %d recorded, schedule moved %v", name, at, got[name], intervals)
		if at != got[name] {
			t.Errorf("%s: the target saw %d runs, the database recorded %d: some due time was run twice", name, at, got[name])
		}
		if intervals != time.Duration(got[name])*every {
			t.Errorf("%s: %d runs recorded, but the schedule moved %v from the first due time: want one run per interval (%v)",
				name, got[name], intervals, time.Duration(got[name])*every)
		}
		if got[name] < rounds {
			t.Errorf("%s: %d runs recorded, want at least %d", name, got[name], rounds)
		}
	}
}

// sumMetric adds up the values of the samples whose line starts with
// prefix in a Prometheus text exposition.
func sumMetric(body, prefix string) int {
	var n int
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			n += int(v)
		}
	}
	return n
}
