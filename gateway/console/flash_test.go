package console

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// TestFlashCookieSigned checks that the page shows only the flash messages
// the console signed: a cookie planted or changed by anyone else is
// dropped, and cleared all the same.
func TestFlashCookieSigned(t *testing.T) {
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	otherKey := []byte("0123456789abcdef0123456789abcdef")
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e := newTestEnv(t, d)
			key, err := e.h.flashKey(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			signed := func(kind, msg string) string {
				v := kind + ":" + b64(msg)
				return v + ":" + flashMAC(key, v)
			}
			good := signed(flashInfo, "Update posted.")
			tests := []struct {
				name, value, want string
			}{
				{"signed by the console", good, "Update posted."},
				{"unsigned", "info:" + b64("Your session has ended. Sign in at evil.example."), ""},
				{"message changed", strings.Replace(good, b64("Update posted."), b64("Sign in at evil.example."), 1), ""},
				{"kind changed", "error" + strings.TrimPrefix(good, "info"), ""},
				{"signed with another key", "info:" + b64("Hi.") + ":" + flashMAC(otherKey, "info:"+b64("Hi.")), ""},
				{"signature cut short", good[:len(good)-4], ""},
				{"signature empty", "info:" + b64("Hi.") + ":", ""},
			}
			c := e.signIn(gateway.RoleViewer)
			u := mustURL(t, e.srv.URL+Prefix)
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					c.http.Jar.SetCookies(u, []*http.Cookie{{Name: flashCookie, Value: tc.value, Path: Prefix}})
					res := c.get(Prefix)
					res.wantStatus(t, http.StatusOK)
					got := ""
					if m := flashText.FindStringSubmatch(res.body); m != nil {
						got = m[1]
					}
					if got != tc.want {
						t.Errorf("flash %q, want %q", got, tc.want)
					}
					for _, ck := range c.http.Jar.Cookies(u) {
						if ck.Name == flashCookie {
							t.Errorf("flash cookie %q kept after the page", ck.Value)
						}
					}
				})
			}
		})
	}
}
