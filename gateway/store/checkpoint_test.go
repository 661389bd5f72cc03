package store_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// TestCheckpointsRunOffTheWriter: no connection of the store checkpoints
// SQLite's log inside a commit (every write queued behind the writer would
// wait for the copy), and the store's own passive checkpoints still bring what was
// written into the database file while the store runs, so the log does
// not grow without end. Only a checkpoint writes the database file while
// the connections stay open, so the file's growth is the proof.
func TestCheckpointsRunOffTheWriter(t *testing.T) {
	url := storetest.SQLiteURL(t)
	s := storetest.OpenURL(t, url)
	if w, r, err := store.Autocheckpoints(s); err != nil || w != 0 || r != 0 {
		t.Fatalf("wal_autocheckpoint = %d on the writer, %d on a reader, %v; want 0 (no checkpoint inside a commit)", w, r, err)
	}
	path := strings.TrimPrefix(url, "sqlite:")
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	storetest.SeedSubscribers(t, s, gateway.SubscriberEmail, 20_000) // several MB of pages
	storetest.WaitFor(t, 20*time.Second, 20*time.Millisecond, func() bool { return size() > before+2<<20 },
		"a checkpoint to copy the log into the database file")
}
