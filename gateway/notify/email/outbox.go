package email

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/heraldstatus/herald/gateway/notify"
)

// Outbox writes each message as <dir>/<delivery id>.eml instead of sending
// it: the channel with no SMTP server configured (development, demos, a
// mail pipeline that picks files up). It implements notify.Notifier.
//
// Writes are atomic and durable (a temporary file in dir, synced, renamed,
// and the directory synced), so a
// reader never sees half a message, and idempotent: a retry of a delivery
// replaces its file, never adds a second one.
type Outbox struct {
	dir string
	b   *Builder
}

var _ notify.Notifier = (*Outbox)(nil)

// NewOutbox returns an outbox writing to dir, which it creates if needed.
func NewOutbox(dir string, b *Builder) (*Outbox, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("email: outbox: %w", err)
	}
	return &Outbox{dir: dir, b: b}, nil
}

// Path returns the file a delivery is written to.
func (o *Outbox) Path(deliveryID int64) string {
	return filepath.Join(o.dir, strconv.FormatInt(deliveryID, 10)+".eml")
}

// Notify writes m's message. A message that cannot be built fails for
// good (retry=false); a file system error is retried.
func (o *Outbox) Notify(ctx context.Context, m *notify.Message) (notify.Result, bool, error) {
	env, err := o.b.Build(m)
	if err != nil {
		return notify.Result{}, false, err
	}
	if err := ctx.Err(); err != nil {
		return notify.Result{}, true, err
	}
	if err := writeAtomic(o.Path(m.DeliveryID), env.Data); err != nil {
		return notify.Result{}, true, fmt.Errorf("email: outbox: %w", err)
	}
	return notify.Result{Response: "written to " + o.Path(m.DeliveryID)}, false, nil
}

func writeAtomic(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*.eml")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(0o640); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	// Sync the directory too, so the new name survives a crash once the
	// delivery is recorded as sent.
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
