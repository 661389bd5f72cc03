package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// The demo replays the whole seed, fast: alerts through ingest open one
// incident on all eleven components, support's words take it to the
// postmortem, and the subscribers' mail lands in the outbox.
func TestDemoReplaysTheSeedOutage(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "demo.db")
	vars := map[string]string{"HERALD_ADDR": "127.0.0.1:0", "HERALD_OUTBOX_DIR": filepath.Join(dir, "outbox"), "HERALD_LOG_LEVEL": "error"}
	var out bytes.Buffer // written by the command's goroutine only, read after it
	a := &app{stdout: &out, stderr: io.Discard, env: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
	cmd := a.command()
	cmd.SetArgs([]string{"demo", "--step", "25ms", "--exit", "--database", db})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("herald demo: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "118s Postmortem") {
		t.Errorf("the replay did not reach the postmortem:\n%s", out.String())
	}

	st, err := store.Open(context.Background(), db, storetest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	all, err := st.Incidents(context.Background(), store.IncidentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var seed *gateway.Incident
	for i := range all {
		if strings.HasPrefix(all[i].Name, "iOFFICE") {
			seed = &all[i]
		}
	}
	if len(all) != 3 || seed == nil {
		t.Fatalf("incidents = %d (%+v), want the seed's and two past ones", len(all), all)
	}
	inc, err := st.Incident(context.Background(), seed.ID)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Status != gateway.Postmortem || !inc.Automated || len(inc.Components) != 11 || len(inc.Updates) < 10 {
		t.Errorf("the seed's incident: %s, automated %v, %d components, %d updates; want postmortem, opened by alerts, 11, ≥ 10",
			inc.Status, inc.Automated, len(inc.Components), len(inc.Updates))
	}

	mails, _ := filepath.Glob(filepath.Join(dir, "outbox", "*.eml"))
	var toFacilities int
	for _, m := range mails {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("facilities@example.com")) {
			toFacilities++
		}
	}
	if toFacilities == 0 {
		t.Errorf("no mail to the demo subscriber among %d in the outbox", len(mails))
	}
}

// postAPI POSTs a JSON body to path with the admin key and returns the
// status and body.
func (in *instance) postAPI(path, key, body string) (int, string) {
	in.t.Helper()
	return in.call(http.MethodPost, path, key, body)
}

// The demo's page takes a webhook subscriber on this machine when
// HERALD_ALLOW_PRIVATE_TARGETS says so, as herald serve does, and refuses
// one otherwise.
func TestDemoHonoursAllowPrivateTargets(t *testing.T) {
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(receiver.Close)
	const key = "hrld_demo_admin_token_0123456789"
	for _, tc := range []struct {
		allow string
		want  int
	}{{"true", http.StatusCreated}, {"", http.StatusUnprocessableEntity}} {
		t.Run("allow="+tc.allow, func(t *testing.T) {
			vars := map[string]string{"HERALD_ADMIN_TOKEN": key, "HERALD_LOG_LEVEL": "error",
				"HERALD_OUTBOX_DIR": filepath.Join(t.TempDir(), "outbox")}
			if tc.allow != "" {
				vars["HERALD_ALLOW_PRIVATE_TARGETS"] = tc.allow
			}
			// A step of an hour: the replay does not begin while the test runs.
			in := start(t, vars, "demo", "--step", "1h", "--database", "sqlite:"+filepath.Join(t.TempDir(), "demo.db"))
			code, body := in.postAPI("/api/v1/subscribers", key, `{"url":"`+receiver.URL+`/hook","confirmed":true}`)
			if code != tc.want {
				t.Fatalf("POST /api/v1/subscribers with %s = %d %s, want %d\n%s", receiver.URL, code, body, tc.want, in.logs)
			}
			if code == http.StatusUnprocessableEntity && !strings.Contains(body, "url") {
				t.Errorf("the refusal does not name the url: %s", body)
			}
		})
	}
}
