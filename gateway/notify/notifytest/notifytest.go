// Package notifytest runs Herald's real mail path in tests of the packages
// that create deliveries (the status page's subscribe flow, the console's
// broadcasts), so that they check what reaches an SMTP server rather than
// what was queued. Only tests import it.
package notifytest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/notify/email"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// RunMail runs a dispatcher over st that sends email deliveries built by b
// through Herald's SMTP channel to smtpURL (a mailsink's URL), with links
// for the manage and unsubscribe URLs (nil: none), until the test ends.
// It polls the queue every 20 ms, and fails the test if the dispatcher
// stops with an error of its own.
func RunMail(tb testing.TB, st *store.Store, b *email.Builder, smtpURL string, links func(*gateway.Subscriber) (manage, unsubscribe string)) {
	tb.Helper()
	mail, err := email.NewSMTP(b, email.SMTPOptions{URL: smtpURL})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = mail.Close() })
	d := &notify.Dispatcher{Store: st, Notifiers: map[gateway.Channel]notify.Notifier{gateway.ChannelEmail: mail},
		Links: links, Log: storetest.Logger(tb), Poll: 20 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			tb.Errorf("dispatcher: %v", err)
		}
	})
}
