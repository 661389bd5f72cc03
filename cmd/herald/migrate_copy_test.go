package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify/webhook"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/gateway/web"
)

// The seed's page (the demo's replay: incidents with their updates and a
// postmortem, a maintenance, 90 days of history) plus subscribers of every
// kind and status, a suppression, a delivery being sent, a failed attempt,
// an API key, a console user with a session, goes SQLite → PostgreSQL →
// SQLite: every table comes back as it was stored, and the status page,
// summary.json and the history read the same from all three.
func TestMigrateCopyRoundTripsTheSeed(t *testing.T) {
	dir := t.TempDir()
	a := "sqlite:" + filepath.Join(dir, "a.db")
	vars := map[string]string{"HERALD_ADDR": "127.0.0.1:0", "HERALD_OUTBOX_DIR": filepath.Join(dir, "outbox"), "HERALD_LOG_LEVEL": "error"}
	if out, err := run(t, vars, "demo", "--step", "10ms", "--exit", "--database", a); err != nil {
		t.Fatalf("herald demo: %v\n%s", err, out)
	}
	vars["HERALD_DATABASE_URL"] = a
	for _, args := range [][]string{
		{"apikey", "create", "--name", "ops", "--role", "support"},
		{"user", "create", "--email", "ann@example.com", "--name", "Ann", "--role", "admin"},
	} {
		if out, err := run(t, vars, args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	src := openMigrated(t, a)
	fillEveryKind(t, src)

	b, c := storetest.PostgresURL(t), storetest.SQLiteURL(t)
	for _, hop := range [][2]string{{a, b}, {b, c}} {
		out, err := run(t, vars, "migrate", "copy", "--watch", "200ms", "--from", hop[0], "--to", hop[1])
		if err != nil || !strings.Contains(out, "copied and verified") || strings.Contains(out, "MISMATCH") {
			t.Fatalf("migrate copy %s → %s: %v\n%s", hop[0], hop[1], err, out)
		}
	}
	back := openMigrated(t, c)

	tables, err := src.Tables(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// What the copy changes on purpose: a delivery being sent is due again
	// and no timer stays leased; everything else is as stored, byte for byte.
	changed := map[string][]string{
		"deliveries": {"status", "next_attempt_at", "lease_until", "lease_owner", "last_error", "updated_at"},
		"timers":     {"lease_until", "lease_owner"},
	}
	for _, tb := range tables {
		got, want := storedRows(t, back, tb, changed[tb.Name]), storedRows(t, src, tb, changed[tb.Name])
		if len(want) == 0 && tb.Name != "goose_db_version" {
			t.Errorf("table %s is empty in the seed: fill it, so the round trip proves something", tb.Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("table %s differs after the round trip:\n got %q\nwant %q", tb.Name, got, want)
		}
	}
	sending := storetest.MustCount(t, back, "SELECT COUNT(*) FROM deliveries WHERE status = 'sending' OR lease_owner IS NOT NULL")
	leased := storetest.MustCount(t, back, "SELECT COUNT(*) FROM timers WHERE lease_owner IS NOT NULL")
	if sending != 0 || leased != 0 {
		t.Errorf("%d deliveries still sending and %d timers leased after the copy", sending, leased)
	}
	var status string
	if err := back.DB().QueryRow("SELECT status FROM deliveries WHERE last_error LIKE 'moved%'").Scan(&status); err != nil || status != "retrying" {
		t.Errorf("the delivery that was being sent is %q (%v), want retrying", status, err)
	}

	mid := openMigrated(t, b)
	var seedID string
	if err := src.DB().QueryRow("SELECT id FROM incidents WHERE name LIKE 'iOFFICE%'").Scan(&seedID); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	pages := []string{"/", "/history", "/history.atom", "/incidents/" + seedID, "/api/v2/summary.json",
		"/api/v2/incidents.json", "/api/v2/scheduled-maintenances.json"}
	want := renderPages(t, src, now, pages)
	for name, st := range map[string]*store.Store{"postgres": mid, "sqlite again": back} {
		got := renderPages(t, st, now, pages)
		for i, p := range pages {
			if got[i] != want[i] {
				t.Errorf("%s on %s differs from the original:\n got %.300s\nwant %.300s", p, name, got[i], want[i])
			}
		}
	}
}

// fillEveryKind adds what the demo does not make: subscribers of each kind
// and status, a suppression, a session, a failed attempt, and a delivery
// caught while being sent.
func fillEveryKind(t *testing.T, st *store.Store) {
	t.Helper()
	var comp string
	if err := st.DB().QueryRow("SELECT id FROM components ORDER BY name LIMIT 1").Scan(&comp); err != nil {
		t.Fatal(err)
	}
	// Times as Herald stores them: UTC, microseconds.
	now := time.Now().UTC().Truncate(time.Microsecond)
	for i, s := range []struct{ kind, address, status, secret string }{
		{"email", "pending@example.com", "pending", ""},
		{"email", "gone@example.com", "unsubscribed", ""},
		{"email", "bounced@example.com", "disabled", ""},
		{"webhook", "https://hooks.example.com/x", "active", "sealed:v1:opaque"},
	} {
		id := "sub-" + strconv.Itoa(i)
		storetest.Exec(t, st, `INSERT INTO subscribers (id, kind, address, status, secret, format, all_components, token_nonce, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 'statuspage', FALSE, 'n', ?, ?)`, id, s.kind, s.address, s.status, s.secret, now, now)
		storetest.Exec(t, st, `INSERT INTO subscriptions (subscriber_id, component_id, created_at) VALUES (?, ?, ?)`, id, comp, now)
	}
	storetest.Exec(t, st, `INSERT INTO suppressions (address_hash, reason, created_at) VALUES (?, 'bounce', ?)`,
		gateway.AddressHash("bounced@example.com"), now)
	storetest.Exec(t, st, `INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at)
		SELECT 'h1', id, ?, ?, ? FROM users`, now, now, now.Add(time.Hour))
	storetest.Exec(t, st, `INSERT INTO delivery_attempts (delivery_id, attempted_at, duration_ms, outcome, code, error)
		SELECT MIN(id), ?, 12, 'temporary', 451, 'try later' FROM deliveries`, now)
	storetest.Exec(t, st, `UPDATE deliveries SET status = 'sending', attempts = attempts + 1, lease_until = ?, lease_owner = 'node-a'
		WHERE id = (SELECT MAX(id) FROM deliveries)`, now.Add(time.Minute))
	// A dependency and a probe with its results: the seed's DNS fault, as
	// a later Herald would model it.
	storetest.Exec(t, st, `INSERT INTO component_dependencies (component_id, depends_on_id)
		SELECT a.id, b.id FROM components a, components b WHERE a.id = ? AND b.id <> a.id ORDER BY b.name LIMIT 1`, comp)
	storetest.Exec(t, st, `INSERT INTO probes (id, name, kind, component_id, spec, next_run_at, up, fails, created_at, updated_at)
		VALUES ('probe-app-dns', 'app-dns', 'dns', ?, '{"target":"app.example.com","record":"A","interval":"30s"}', ?, FALSE, 2, ?, ?)`, comp, now, now, now)
	for i := range 3 {
		storetest.Exec(t, st, `INSERT INTO probe_results (probe_id, at, ok, duration_ms, message) VALUES ('probe-app-dns', ?, ?, ?, ?)`,
			now.Add(time.Duration(i-3)*30*time.Second), i == 0, 12.5+float64(i), "resolver 127.0.0.1:53: SERVFAIL")
	}
}

// storedRows reads a SQLite table as stored: each row as SQLite's quote()
// of every column (its storage class and bytes), leaving out skip, sorted.
func storedRows(t *testing.T, st *store.Store, tb store.Table, skip []string) []string {
	t.Helper()
	var cols []string
	for _, c := range tb.Columns {
		if !slices.Contains(skip, c.Name) {
			cols = append(cols, `quote("`+c.Name+`")`)
		}
	}
	rows, err := st.DB().Query(`SELECT ` + strings.Join(cols, " || ',' || ") + ` FROM "` + tb.Name + `"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s sql.NullString
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s.String)
	}
	slices.Sort(out)
	return out
}

// renderPages serves the public pages from st with the clock stopped at
// now and returns their bodies.
func renderPages(t *testing.T, st *store.Store, now time.Time, paths []string) []string {
	t.Helper()
	e := echo.New()
	web.Register(e, web.Options{Page: gateway.PageInfo{Name: "Eptura Workplace", URL: "https://status.example.com"},
		Store: st, Now: func() time.Time { return now }, Log: storetest.Logger(t)})
	out := make([]string, len(paths))
	for i, p := range paths {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s = %d %s", p, rec.Code, rec.Body)
		}
		out[i] = rec.Body.String()
	}
	return out
}

// hookCall is one request a webhook receiver got.
type hookCall struct {
	id, ts, sig string
	body        []byte
}

// Moving keeps subscribers' links and webhook secrets working: with the
// generated key (no HERALD_SECRET_KEY), which travels in the settings
// table, an unsubscribe link mailed before the move unsubscribes after
// it, and a webhook sent after it verifies with the secret given before.
// While herald serve runs on the source, the copy refuses.
func TestMigrateCopyKeepsLinksAndWebhookSecrets(t *testing.T) {
	calls := make(chan hookCall, 16)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		calls <- hookCall{r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), b}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)
	const key = "hrld_move_admin_token_0123456789"
	outbox := t.TempDir()
	src, dst := storetest.SQLiteURL(t), storetest.PostgresURL(t)
	vars := map[string]string{"HERALD_DATABASE_URL": src, "HERALD_OUTBOX_DIR": outbox, "HERALD_ADMIN_TOKEN": key,
		"HERALD_ALLOW_PRIVATE_TARGETS": "true", "HERALD_LOG_LEVEL": "error"}

	in := start(t, vars)
	in.waitReady(200, 30*time.Second)
	code, body := in.postAPI("/api/v1/subscribers", key, `{"email":"move@example.com","confirmed":true,"consent_source":"test"}`)
	if code != http.StatusCreated {
		t.Fatalf("subscribe by email = %d %s", code, body)
	}
	var mailSub struct{ ID string }
	_ = json.Unmarshal([]byte(body), &mailSub)
	code, body = in.postAPI("/api/v1/subscribers", key, `{"url":"`+hook.URL+`/hook","format":"generic","confirmed":true,"consent_source":"test"}`)
	var hookSub struct{ Secret string }
	if err := json.Unmarshal([]byte(body), &hookSub); code != http.StatusCreated || err != nil || hookSub.Secret == "" {
		t.Fatalf("subscribe a webhook = %d %s", code, body)
	}
	broadcast(t, in, key, "before-move", "Before the move")
	unsubscribe := waitUnsubscribeLink(t, outbox)
	waitHook(t, calls, "Before the move")

	out, err := run(t, vars, "migrate", "copy", "--from", src, "--to", dst)
	if err == nil || !strings.Contains(err.Error(), "running Herald") {
		t.Fatalf("copy from a served database: %v\n%s", err, out)
	}
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, vars, "migrate", "copy", "--from", src, "--to", dst); err != nil {
		t.Fatalf("migrate copy: %v\n%s", err, out)
	}

	vars["HERALD_DATABASE_URL"] = dst
	moved := start(t, vars)
	moved.waitReady(200, 30*time.Second)
	broadcast(t, moved, key, "after-move", "After the move")
	call := waitHook(t, calls, "After the move")
	sec, _ := strconv.ParseInt(call.ts, 10, 64)
	want, err := webhook.Sign(hookSub.Secret, call.id, time.Unix(sec, 0), call.body)
	if err != nil || !slices.Contains(strings.Fields(call.sig), want) {
		t.Errorf("the webhook after the move is signed %q, want %q with the secret given before it (%v)", call.sig, want, err)
	}

	res, err := http.Post(moved.url+"/unsubscribe/"+unsubscribe, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("one-click unsubscribe with a link from before the move = %d", res.StatusCode)
	}
	code, body = moved.get("/api/v1/subscribers/"+mailSub.ID, key)
	if code != http.StatusOK || !strings.Contains(body, `"unsubscribed"`) {
		t.Errorf("the subscriber after unsubscribing: %d %s", code, body)
	}
}

func broadcast(t *testing.T, in *instance, key, idem, subject string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, in.url+"/api/v1/broadcasts", strings.NewReader(`{"subject":"`+subject+`","body":"Hello."}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Idempotency-Key", idem)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("broadcast = %d", res.StatusCode)
	}
}

var unsubscribeLink = regexp.MustCompile(`/unsubscribe/([^>\s"]+)>`)

// waitUnsubscribeLink waits for the first message in outbox and returns
// the token of its List-Unsubscribe link.
func waitUnsubscribeLink(t *testing.T, outbox string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // a hang guard, not a performance bound
	for time.Now().Before(deadline) {
		files, _ := filepath.Glob(filepath.Join(outbox, "*.eml"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			if m := unsubscribeLink.FindSubmatch(b); m != nil {
				return string(m[1])
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no message with an unsubscribe link in the outbox")
	return ""
}

// waitHook waits for a webhook call whose body mentions want.
func waitHook(t *testing.T, calls <-chan hookCall, want string) hookCall {
	t.Helper()
	timeout := time.After(30 * time.Second) // a hang guard, not a performance bound
	var others []string
	for {
		select {
		case c := <-calls:
			if strings.Contains(string(c.body), want) {
				return c
			}
			others = append(others, string(c.body))
		case <-timeout:
			t.Fatalf("no webhook call with %q; others: %q", want, others)
		}
	}
}
