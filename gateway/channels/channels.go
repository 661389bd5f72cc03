// Package channels lists the notification channels Herald delivers on. Each
// channel lives in its own package below gateway/notify, which declares
// its notify.Channel next to its Notifier; adding one means writing that
// package, listing its Channel in registry, and documenting it in the
// table of channels of docs/subscribers.md.
//
// Start-up builds the dispatcher's notifiers by walking the list; the
// subscribers service takes the kinds a subscriber may have, and checks
// the address of a new one, from it; the API description's kind and
// channel enums and the console's kind filter show its kinds.
package channels

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/gateway/notify/email"
	"github.com/heraldstatus/herald/gateway/notify/webhook"
)

// registry is the one list of channels, by kind.
var registry = map[gateway.SubscriberKind]notify.Channel{
	email.Channel.Kind:   email.Channel,
	webhook.Channel.Kind: webhook.Channel,
}

// mu guards registry against Register from tests running beside readers.
var mu sync.RWMutex

// Register adds a channel beside those of registry, for tests that add one
// the way a new package would; the returned func removes it again. It
// panics for a kind that is taken or empty, a wiring mistake.
func Register(c notify.Channel) (unregister func()) {
	mu.Lock()
	defer mu.Unlock()
	if _, taken := registry[c.Kind]; taken || c.Kind == "" || c.Build == nil {
		panic(fmt.Sprintf("channels.Register: kind %q is empty, taken, or has no Build", c.Kind))
	}
	registry[c.Kind] = c
	return func() {
		mu.Lock()
		defer mu.Unlock()
		delete(registry, c.Kind)
	}
}

// Lookup returns the channel of a subscriber kind; ok is false for a kind
// no channel has.
func Lookup(kind gateway.SubscriberKind) (c notify.Channel, ok bool) {
	mu.RLock()
	defer mu.RUnlock()
	c, ok = registry[kind]
	return c, ok
}

// All returns the channels, sorted by kind.
func All() []notify.Channel {
	mu.RLock()
	defer mu.RUnlock()
	all := make([]notify.Channel, 0, len(registry))
	for _, c := range registry {
		all = append(all, c)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Kind < all[j].Kind })
	return all
}

// Kinds returns the kind names, sorted, for validation messages, the API
// description and the console.
func Kinds() []string {
	kinds := []string{}
	for _, c := range All() {
		kinds = append(kinds, string(c.Kind))
	}
	return kinds
}

// Known reports whether a subscriber kind has a channel.
func Known(kind gateway.SubscriberKind) bool {
	_, ok := Lookup(kind)
	return ok
}

// KindsText lists the kinds for a message: "email or webhook",
// "email, pager or webhook".
func KindsText() string {
	k := Kinds()
	if len(k) == 1 {
		return k[0]
	}
	return strings.Join(k[:len(k)-1], ", ") + " or " + k[len(k)-1]
}

// Notifiers builds the notifier of every channel from env, for the
// dispatcher. close releases what they hold; call it after the dispatcher
// stopped. On an error the channels built so far are closed.
func Notifiers(env notify.Env) (map[gateway.Channel]notify.Notifier, func(), error) {
	out := map[gateway.Channel]notify.Notifier{}
	var closers []func()
	closeAll := func() {
		for _, c := range slices.Backward(closers) {
			c()
		}
	}
	for _, c := range All() {
		n, closeIt, err := c.Build(env)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		if closeIt != nil {
			closers = append(closers, closeIt)
		}
		out[gateway.Channel(c.Kind)] = n
	}
	return out, closeAll, nil
}
