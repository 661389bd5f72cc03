package email_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify/email"
)

// TestOutbox: each delivery is one file named by its id, and writing it
// again replaces it instead of adding another.
func TestOutbox(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	o, err := email.NewOutbox(dir, newBuilder(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	m := message(t, gateway.EventIncidentCreated, 41)
	for range 2 {
		if res, retry, err := o.Notify(context.Background(), m); err != nil || retry {
			t.Fatalf("Notify = %+v retry=%v err=%v", res, retry, err)
		}
	}
	if _, _, err := o.Notify(context.Background(), message(t, gateway.EventIncidentUpdated, 42)); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 2 || names[0] != "41.eml" || names[1] != "42.eml" {
		t.Fatalf("outbox holds %v, want [41.eml 42.eml]", names)
	}
	data, err := os.ReadFile(o.Path(41))
	if err != nil {
		t.Fatal(err)
	}
	checkHeaders(t, parse(t, data), m)

	bad := message(t, gateway.EventTest, 43)
	bad.Subscriber.Address = "not an address"
	if _, retry, err := o.Notify(context.Background(), bad); err == nil || retry {
		t.Errorf("bad address: retry=%v err=%v, want a permanent failure", retry, err)
	}
}

func TestOutboxUnwritable(t *testing.T) {
	dir := t.TempDir()
	o, err := email.NewOutbox(dir, newBuilder(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if _, retry, err := o.Notify(context.Background(), message(t, gateway.EventTest, 1)); err == nil || !retry {
		t.Errorf("missing directory: retry=%v err=%v, want an error to retry", retry, err)
	}
}
