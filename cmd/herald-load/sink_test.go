package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

// TestSinkCounts sends mail and webhooks to the sink, a re-send of each
// among them, and reads the counts back from GET /count.
func TestSinkCounts(t *testing.T) {
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	smtpLn, httpLn := listen(), listen()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	serveSink(ctx, &sinkCounts{seen: map[string]struct{}{}}, smtpLn, httpLn)

	mail, err := smtp.Dial(smtpLn.Addr().String()) // one connection, as Herald reuses its own
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"<a@herald>", "<b@herald>", "<a@herald>"} {
		msg := fmt.Sprintf("Message-ID: %s\r\nSubject: test\r\n\r\nbody\r\n", id)
		if err := mail.SendMail("status@example.com", []string{"user@example.com"}, strings.NewReader(msg)); err != nil {
			t.Fatal(err)
		}
	}
	if err := mail.Quit(); err != nil {
		t.Fatal(err)
	}
	base := "http://" + httpLn.Addr().String()
	for _, id := range []string{"msg_1", "msg_1", "msg_2", ""} {
		req, _ := http.NewRequest("POST", base+"/hook", strings.NewReader(`{}`))
		req.Header.Set("webhook-id", id)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("webhook = %d, want 200", res.StatusCode)
		}
	}
	res, err := http.Get(base + "/count")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var got sinkSnapshot
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Emails != 3 || got.Webhooks != 4 || got.Duplicates != 2 {
		t.Errorf("count = %+v, want 3 emails, 4 webhooks, 2 duplicates", got)
	}
}
