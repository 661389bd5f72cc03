package http_test

import (
	"strings"
	"testing"

	herhttp "github.com/heraldstatus/herald/gateway/http"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// A source name that does not exist is answered exactly as a wrong token
// for one that does (status, body, WWW-Authenticate), with or without a
// token, so that nobody can list the sources by trying names.
func TestIngestUnknownSourceIsUnauthorized(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, herhttp.Options{})
		e.source("prom", "alertmanager", 0)
		// Each message names the source of its URL; apart from that name
		// the two answers are the same.
		for _, auth := range []string{"Bearer hsrc_wrong", ""} {
			known := e.post("/ingest/prom", auth, "application/json", strings.NewReader(`{}`))
			unknown := e.post("/ingest/nope", auth, "application/json", strings.NewReader(`{}`))
			if known.status != 401 || unknown.status != 401 {
				t.Fatalf("auth %q: known = %d, unknown = %d, want 401 both", auth, known.status, unknown.status)
			}
			if strings.ReplaceAll(unknown.body, "nope", "prom") != known.body {
				t.Errorf("auth %q: unknown source says %s, a wrong token says %s", auth, unknown.body, known.body)
			}
			if unknown.header.Get("WWW-Authenticate") != known.header.Get("WWW-Authenticate") {
				t.Errorf("auth %q: WWW-Authenticate %q vs %q", auth, unknown.header.Get("WWW-Authenticate"), known.header.Get("WWW-Authenticate"))
			}
		}
	})
}
