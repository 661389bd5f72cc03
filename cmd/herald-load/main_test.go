package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// -path posts the format's bodies to another path without a token: what
// the side-by-side harness uses to load Alertmanager's own API.
func TestPathPostsToAlertmanagersAPI(t *testing.T) {
	var got, wrong atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var alerts []map[string]any
		if r.URL.Path != "/api/v2/alerts" || r.Header.Get("Authorization") != "" ||
			json.NewDecoder(r.Body).Decode(&alerts) != nil || len(alerts) != 10 {
			wrong.Add(1)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		got.Add(1)
		w.WriteHeader(http.StatusOK) // as Alertmanager answers
	}))
	defer srv.Close()
	c := config{url: srv.URL, path: "/api/v2/alerts", format: "alertmanager-api", batch: 10, concurrency: 2,
		requests: 6, duration: time.Minute}
	if err := c.check(); err != nil {
		t.Fatalf("check: %v", err)
	}
	rep := run(context.Background(), c)
	if rep.ok != 6 || rep.failed != 0 || got.Load() != 6 || wrong.Load() != 0 {
		t.Errorf("ok %d, failed %d, server saw %d right and %d wrong; want 6, 0, 6, 0", rep.ok, rep.failed, got.Load(), wrong.Load())
	}
}
