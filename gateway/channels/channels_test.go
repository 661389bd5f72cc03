package channels_test

import (
	"slices"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/channels"
	"github.com/heraldstatus/herald/gateway/notify"
)

// TestRegister: a registered channel is listed and named in the kinds'
// message until it is removed again, and a kind that is taken cannot be
// registered over (a second email would silently replace the first).
func TestRegister(t *testing.T) {
	if got := channels.KindsText(); got != "email or webhook" {
		t.Errorf("KindsText() = %q, want email or webhook", got)
	}
	build := func(notify.Env) (notify.Notifier, func(), error) { return nil, nil, nil }
	undo := channels.Register(notify.Channel{Kind: "pager", Build: build})
	if !channels.Known("pager") || !slices.Equal(channels.Kinds(), []string{"email", "pager", "webhook"}) ||
		channels.KindsText() != "email, pager or webhook" {
		t.Errorf("after Register: Kinds() = %q, KindsText() = %q", channels.Kinds(), channels.KindsText())
	}
	undo()
	if channels.Known("pager") || len(channels.All()) != 2 {
		t.Errorf("after the undo: Kinds() = %q", channels.Kinds())
	}
	defer func() {
		if recover() == nil {
			t.Error("registering email again did not panic")
		}
	}()
	channels.Register(notify.Channel{Kind: gateway.SubscriberEmail, Build: build})
}
