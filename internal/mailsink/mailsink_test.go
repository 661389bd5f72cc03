package mailsink_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/heraldstatus/herald/internal/mailsink"
)

// send delivers one message per Message-ID on one connection, the first
// to two recipients.
func send(t *testing.T, addr string, ids ...string) {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i, id := range ids {
		to := []string{"a@example.com"}
		if i == 0 {
			to = append(to, "b@example.com")
		}
		msg := fmt.Sprintf("Message-ID: %s\r\nSubject: test\r\n\r\nbody %d\r\n", id, i)
		if err := c.SendMail("status@example.com", to, strings.NewReader(msg)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
}

func TestKeep(t *testing.T) {
	for _, tc := range []struct {
		name     string
		keep     mailsink.Keep
		kept     int  // messages kept
		data     bool // with the message as received
		dups     int
		rcpts    []string
		callback int // OnMessage calls
	}{
		{"all", mailsink.KeepAll, 3, true, 1, []string{"a@example.com", "b@example.com", "a@example.com", "a@example.com"}, 3},
		{"envelope", mailsink.KeepEnvelope, 3, false, 1, []string{"a@example.com", "b@example.com", "a@example.com", "a@example.com"}, 3},
		{"count", mailsink.KeepCount, 0, false, 0, nil, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			sink := mailsink.Start(t, mailsink.Options{Keep: tc.keep, OnMessage: func(mailsink.Message) { calls.Add(1) }})
			send(t, sink.Addr(), "<1@herald>", "<2@herald>", "<1@herald>")
			sink.Wait(t, 3)
			if got := sink.Count(); got != 3 {
				t.Errorf("Count = %d, want 3", got)
			}
			msgs := sink.Messages()
			if len(msgs) != tc.kept {
				t.Fatalf("kept %d messages, want %d", len(msgs), tc.kept)
			}
			for _, m := range msgs {
				if got := strings.Contains(string(m.Data), "Subject: test"); got != tc.data {
					t.Errorf("message %s data %q, want data: %v", m.MessageID, m.Data, tc.data)
				}
			}
			if got := sink.Duplicates(); got != tc.dups {
				t.Errorf("Duplicates = %d, want %d", got, tc.dups)
			}
			if got := sink.Recipients(); !slices.Equal(got, tc.rcpts) {
				t.Errorf("Recipients = %q, want %q", got, tc.rcpts)
			}
			if got := calls.Load(); got != int32(tc.callback) {
				t.Errorf("OnMessage called %d times, want %d", got, tc.callback)
			}
		})
	}
}

// TestNextResetRestart reads messages in order, forgets them, and sends
// again after an outage on the same address.
func TestNextResetRestart(t *testing.T) {
	sink := mailsink.Start(t, mailsink.Options{})
	send(t, sink.Addr(), "<1@herald>", "<2@herald>")
	for _, want := range []string{"<1@herald>", "<2@herald>"} {
		if got := sink.Next(t); got.MessageID != want || got.From != "status@example.com" {
			t.Errorf("Next = %s from %s, want %s from status@example.com", got.MessageID, got.From, want)
		}
	}
	sink.Reset()
	if got := sink.Count(); got != 0 {
		t.Errorf("Count after Reset = %d, want 0", got)
	}
	addr := sink.Addr()
	sink.Close()
	if c, err := smtp.Dial(addr); err == nil {
		c.Close()
		t.Fatal("the sink answers after Close")
	}
	sink.Restart(t)
	send(t, addr, "<3@herald>")
	if got := sink.Next(t); got.MessageID != "<3@herald>" {
		t.Errorf("Next after Reset = %s, want <3@herald>", got.MessageID)
	}
}

func TestAuth(t *testing.T) {
	sink := mailsink.Start(t, mailsink.Options{User: "user", Pass: "secret"})
	for _, tc := range []struct {
		name, pass string
		code       int // 0: accepted
	}{
		{"right", "secret", 0},
		{"wrong", "wrong", 535},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := smtp.Dial(sink.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			err = c.Auth(sasl.NewPlainClient("", "user", tc.pass))
			var se *smtp.SMTPError
			switch {
			case tc.code == 0 && err != nil:
				t.Errorf("auth = %v, want accepted", err)
			case tc.code != 0 && (!errors.As(err, &se) || se.Code != tc.code):
				t.Errorf("auth = %v, want %d", err, tc.code)
			}
		})
	}
}
