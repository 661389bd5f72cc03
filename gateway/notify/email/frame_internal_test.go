package email

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/notify"
	"github.com/heraldstatus/herald/templates"
)

// TestFrameBuildsWhatGoMessageBuilds builds every event type's message for
// many recipients through the builder, which writes all but an event's
// first message from the event's frame, and writes each one whole with
// go-message too: the same bytes but for the boundary, which go-message
// picks anew for every message. The links differ in length, so lines with
// a link fold at other places; an override template puts links amid long
// lines of non-ASCII text with trailing spaces, and one cuts a link, which
// must turn the cache (and the frame) off.
func TestFrameBuildsWhatGoMessageBuilds(t *testing.T) {
	long := strings.Repeat("Störung im Rechenzentrum, Überwachung läuft. ", 4)
	def, over := defaultAndOverride(t, map[string]string{
		// Links in the middle of lines longer than a quoted-printable
		// line, after non-ASCII text and before trailing spaces.
		"incident.created.txt.tmpl": "{{define \"content\"}}" + long + "{{.ManageURL}} " + long + "  \n\n" +
			long + "{{.UnsubscribeURL}}\t \nend {{.ManageURL}}{{end}}\n",
		"incident.created.html.tmpl": "{{define \"content\"}}<p>" + long + "<a href=\"{{.ManageURL}}\">" + long + "</a> " +
			"<a href=\"{{.UnsubscribeURL}}\">x</a></p>{{end}}\n",
		// A link cut short: substituting would differ from rendering.
		"broadcast.txt.tmpl": "{{define \"content\"}}{{.Broadcast.Body}} {{printf \"%.30s\" .ManageURL}}{{end}}\n",
	})
	for name, set := range map[string]*templates.Set{"default": def, "override": over} {
		b, err := NewBuilder(Options{From: "Eptura Status <status@status.example.com>", Templates: set,
			Now: func() time.Time { return time.Date(2021, 9, 16, 14, 52, 3, 0, time.UTC) }})
		if err != nil {
			t.Fatal(err)
		}
		for _, et := range templates.EventTypes() {
			ev, err := templates.SampleEvent(et)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 40 {
				token := strings.Repeat("x", i*7%53) + fmt.Sprint(i)
				m := &notify.Message{DeliveryID: int64(i + 1), Event: ev,
					Subscriber:     &gateway.Subscriber{ID: fmt.Sprint("s", i), Kind: gateway.SubscriberEmail, Address: fmt.Sprintf("user%d@example.org", i)},
					ManageURL:      "https://status.example.com/subscriptions/manage." + token,
					UnsubscribeURL: "https://status.example.com/unsubscribe/unsubscribe." + token}
				env, err := b.Build(m)
				if err != nil {
					t.Fatalf("%s %s: %v", name, et, err)
				}
				want := wholeMessage(t, b, m)
				if got := normalBoundary(env.Data); !bytes.Equal(got, normalBoundary(want)) {
					t.Fatalf("%s %s, recipient %d: the built message differs from go-message's:\n%s\n---\n%s", name, et, i, got, normalBoundary(want))
				}
			}
			e := b.rendered.events[ev]
			cut := name == "override" && et == gateway.EventBroadcast
			if used := e != nil && e.frame != nil; used == cut {
				t.Errorf("%s %s: frame in use %v, want %v", name, et, used, !cut)
			}
		}
	}
}

// wholeMessage writes m with go-message alone, as Build does when an
// event has no frame.
func wholeMessage(t *testing.T, b *Builder, m *notify.Message) []byte {
	t.Helper()
	s, text, html, err := b.tmpl.RenderEmail(string(m.Event.Type), templates.NewEmailData(m.Event, m.ManageURL, m.UnsubscribeURL))
	if err != nil {
		t.Fatal(err)
	}
	env := &Envelope{From: b.from.Address, To: m.Subscriber.Address, MessageID: b.MessageID(m.DeliveryID, m.Event.ID)}
	h, err := b.header(m, env, s)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := writeBody(&out, h, text, html); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// normalBoundary replaces a message's multipart boundary with a fixed one.
func normalBoundary(msg []byte) []byte {
	b, _ := boundaryOf(msg)
	if b == nil {
		return msg
	}
	return bytes.ReplaceAll(msg, b, []byte("BOUNDARY"))
}
