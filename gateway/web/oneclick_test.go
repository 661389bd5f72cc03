package web_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
	"github.com/heraldstatus/herald/subscribers"
)

// TestOneClickUnsubscribeEncodings posts RFC 8058's one-click body the two
// ways section 3.1 allows: multipart/form-data, which a mail receiver
// SHOULD send, and application/x-www-form-urlencoded, which it MAY. Each
// unsubscribes, with no cookie and no CSRF token, and again is no error.
func TestOneClickUnsubscribeEncodings(t *testing.T) {
	multipartBody := func(t *testing.T) (string, *bytes.Buffer) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		if err := w.WriteField("List-Unsubscribe", "One-Click"); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return w.FormDataContentType(), &b
	}
	urlencodedBody := func(*testing.T) (string, *bytes.Buffer) {
		return "application/x-www-form-urlencoded", bytes.NewBufferString("List-Unsubscribe=One-Click")
	}
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		for _, tt := range []struct {
			name, email string
			body        func(*testing.T) (string, *bytes.Buffer)
		}{
			{"multipart/form-data", "multi@example.com", multipartBody},
			{"urlencoded", "plain@example.com", urlencodedBody},
		} {
			t.Run(tt.name, func(t *testing.T) {
				svc := e.subs.Load()
				sub, err := svc.Subscribe(e.ctx, subscribers.SubscribeRequest{Email: tt.email, All: true})
				if err != nil {
					t.Fatal(err)
				}
				_, unsub := svc.Links(sub)
				if !strings.HasPrefix(unsub, e.srv.URL+"/") {
					t.Fatalf("unsubscribe link %q is not on the test server %s", unsub, e.srv.URL)
				}
				for i := range 2 {
					typ, body := tt.body(t)
					res, err := http.Post(unsub, typ, body)
					if err != nil {
						t.Fatal(err)
					}
					res.Body.Close()
					if res.StatusCode != http.StatusOK {
						t.Errorf("one-click POST %d as %s = %d, want 200", i+1, typ, res.StatusCode)
					}
				}
				if got := e.subscriber(t, tt.email); got.Status != gateway.SubscriberUnsubscribed {
					t.Errorf("after one click as %s: %s, want unsubscribed", tt.name, got.Status)
				}
			})
		}
	})
}
