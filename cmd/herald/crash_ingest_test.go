package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// ingestConfig declares the generic source the ingest tests post to.
const ingestConfig = `sources:
  - name: monitors
    kind: generic
    token: ${SOURCE_TOKEN}
`

// crashSeeds are the seeds of TestCrashDuringIngestLosesNoAcceptedAlert,
// fixed so that a failure can be replayed: each picks when the kill lands.
var crashSeeds = []uint64{1, 2, 3}

// TestCrashDuringIngestLosesNoAcceptedAlert posts alert batches from
// several clients at once to a herald child process, SIGKILLs it at a
// seeded random moment, starts it again on the same database with nothing
// done by hand, and checks that every alert whose request was answered 2xx
// is stored.
func TestCrashDuringIngestLosesNoAcceptedAlert(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it several times")
	}
	bin := buildHerald(t)
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			dbURL := storetest.URL(t, d)
			st := openMigrated(t, dbURL)
			env := ingestEnv(t, dbURL)
			for _, seed := range crashSeeds {
				rng := rand.New(rand.NewPCG(seed, 0x5eed))
				// The kill lands between 0.2 s and 2 s into the load.
				killAt := 200*time.Millisecond + time.Duration(rng.Int64N(int64(1800*time.Millisecond)))
				c := startChild(t, bin, env)
				c.waitReady(200, 60*time.Second)

				load := &ingestLoad{token: scaleoutSource}
				stop := load.run(c.url, fmt.Sprintf("crash-%s-%d", d, seed), 4, 20, 0)
				time.Sleep(killAt)
				c.kill()
				stop()

				// The restart needs nothing manual: same command, same database.
				again := startChild(t, bin, env)
				again.waitReady(200, 60*time.Second)
				after := &ingestLoad{token: scaleoutSource}
				after.post(again.url, fmt.Sprintf("after-%s-%d", d, seed), 5)
				lost := load.lost(t, st)
				t.Logf("%s seed %d: killed at %v; %d alerts accepted (answers %v), %d lost; after restart %v",
					d, seed, killAt.Round(time.Millisecond), load.accepted(), load.statuses(), len(lost), after.statuses())
				if len(lost) > 0 {
					t.Errorf("seed %d: %d alerts answered 2xx are not stored, e.g. %s", seed, len(lost), lost[0])
				}
				if load.accepted() == 0 {
					t.Errorf("seed %d: no request was accepted before the kill; the test proved nothing", seed)
				}
				if after.accepted() != 5 {
					t.Errorf("seed %d: after the restart ingest answered %v, want 202", seed, after.statuses())
				}
				again.kill()
			}
		})
	}
}

// ingestEnv is the environment of a herald child ingesting into dbURL.
func ingestEnv(t *testing.T, dbURL string) map[string]string {
	t.Helper()
	return map[string]string{"HERALD_CONFIG": writeConfig(t, ingestConfig), "SOURCE_TOKEN": scaleoutSource,
		"HERALD_DATABASE_URL": dbURL, "HERALD_OUTBOX_DIR": t.TempDir()}
}

// ingestLoad posts batches of uniquely fingerprinted alerts to the generic
// source "monitors" and remembers the answers: which fingerprints were
// accepted (2xx) and how many answers of each status came back (0 for a
// request that got no answer).
type ingestLoad struct {
	token string
	// badRetry counts 503 and 429 answers without Retry-After.
	badRetry int

	mu       sync.Mutex
	fps      []string
	statusOf map[int]int
	answers  []timedAnswer
}

// timedAnswer is one request's status with when it was sent and when its
// answer (or error) came back.
type timedAnswer struct {
	sent, answered time.Time
	code           int
}

// within counts, by status, the answers to requests sent at or after from
// and answered before to: those that saw nothing but the state between.
func (l *ingestLoad) within(from, to time.Time) map[int]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[int]int{}
	for _, a := range l.answers {
		if !a.sent.Before(from) && a.answered.Before(to) {
			out[a.code]++
		}
	}
	return out
}

// post sends one batch of n alerts, fingerprinted prefix-0 … prefix-(n-1),
// and returns the answer's status.
func (l *ingestLoad) post(base, prefix string, n int) int {
	type alert struct {
		Fingerprint string            `json:"fingerprint"`
		Status      string            `json:"status"`
		Summary     string            `json:"summary"`
		Labels      map[string]string `json:"labels"`
	}
	batch := struct {
		Alerts []alert `json:"alerts"`
	}{}
	fps := make([]string, n)
	for i := range n {
		fps[i] = fmt.Sprintf("%s-%d", prefix, i)
		batch.Alerts = append(batch.Alerts, alert{Fingerprint: fps[i], Status: "firing",
			Summary: "load " + fps[i], Labels: map[string]string{"job": "load", "instance": fps[i]}})
	}
	body, _ := json.Marshal(batch)
	req, _ := http.NewRequest("POST", base+"/ingest/monitors", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+l.token)
	code, retry := 0, ""
	sent := time.Now()
	res, err := ingestClient.Do(req)
	if err == nil {
		res.Body.Close()
		code, retry = res.StatusCode, res.Header.Get("Retry-After")
	}
	answered := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.answers = append(l.answers, timedAnswer{sent: sent, answered: answered, code: code})
	if l.statusOf == nil {
		l.statusOf = map[int]int{}
	}
	l.statusOf[code]++
	if code >= 200 && code < 300 {
		l.fps = append(l.fps, fps...)
	}
	if (code == 503 || code == 429) && retry == "" {
		l.badRetry++
	}
	return code
}

// ingestClient bounds each request, so a load never hangs a test.
var ingestClient = &http.Client{Timeout: 30 * time.Second}

// run posts batches of size alerts from clients goroutines, each pausing
// pause between requests, until the returned stop is called (which waits
// for them) or, for each client, until a request gets no answer.
func (l *ingestLoad) run(base, prefix string, clients, size int, pause time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				if l.post(base, fmt.Sprintf("%s-c%d-r%d", prefix, c, i), size) == 0 {
					return // herald is gone (killed): this request was in flight
				}
				time.Sleep(pause)
			}
		})
	}
	return func() { close(done); wg.Wait() }
}

func (l *ingestLoad) accepted() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.fps)
}

func (l *ingestLoad) statuses() map[int]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[int]int, len(l.statusOf))
	for k, v := range l.statusOf {
		out[k] = v
	}
	return out
}

// lost returns the accepted fingerprints that st does not hold.
func (l *ingestLoad) lost(t *testing.T, st *store.Store) []string {
	t.Helper()
	rows, err := st.DB().Query(`SELECT fingerprint FROM alerts`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	stored := map[string]bool{}
	for rows.Next() {
		var fp string
		if err := rows.Scan(&fp); err != nil {
			t.Fatal(err)
		}
		stored[fp] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var lost []string
	for _, fp := range l.fps {
		if !stored[fp] {
			lost = append(lost, fp)
		}
	}
	return lost
}
