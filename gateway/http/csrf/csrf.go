// Package csrf guards Herald's HTML forms (the console's and the public
// subscribe and manage forms) against cross-site request forgery.
//
// A browser that says where a request comes from (Sec-Fetch-Site) is
// believed: same-origin (and "none", a typed URL) passes, cross-site is
// refused. Otherwise the form must carry, in its body (never in the query
// string, which leaks into logs and referrers), a token the server signed:
// an HMAC, under a key only the server holds, of a random nonce kept in an
// HttpOnly, SameSite=Strict cookie and of what the form is bound to (the
// console's session). A client can therefore not choose its own cookie
// and field pair, as it could with a plain double-submit cookie, and a
// console token is worth nothing in another session.
package csrf

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// Field is the form field that carries the token.
const Field = "_csrf"

// contextKey holds the request's token for templates (see Token).
const contextKey = "herald.csrf"

// ErrInvalid is what a refused request fails with (wrapped by OnError).
var ErrInvalid = errors.New("csrf: missing or invalid token")

// Config configures a guard.
type Config struct {
	// Cookie names the nonce cookie; Path is its path.
	Cookie, Path string
	// Secure says whether the cookie needs https.
	Secure func(c echo.Context) bool
	// Sign returns the HMAC of data under the server's key, which every
	// replica shares.
	Sign func(c echo.Context, data []byte) ([]byte, error)
	// Binding returns what the token is bound to for this request ("" for
	// nothing but the nonce), such as a hash of the session cookie.
	Binding func(c echo.Context) string
	// OnError turns a refusal into the error the handler chain returns.
	OnError func(err error, c echo.Context) error
}

// New returns the middleware: it puts the request's token on the context
// (see Token) and refuses a state-changing request without a valid one.
func New(cfg Config) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			nonce := cfg.nonce(c)
			want, err := cfg.token(c, nonce)
			if err != nil {
				return err
			}
			c.Set(contextKey, want)
			switch c.Request().Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
				return next(c)
			}
			switch c.Request().Header.Get(echo.HeaderSecFetchSite) {
			case "same-origin", "none":
				return next(c)
			case "cross-site":
				return cfg.OnError(ErrInvalid, c)
			}
			got := c.Request().PostFormValue(Field) // the body only, never the query
			if got == "" || !hmac.Equal([]byte(got), []byte(want)) {
				return cfg.OnError(ErrInvalid, c)
			}
			return next(c)
		}
	}
}

// Token returns the token a form of this request must carry.
func Token(c echo.Context) string {
	s, _ := c.Get(contextKey).(string)
	return s
}

// nonce returns the request's nonce cookie, setting a new one when it has
// none (or one that is not a nonce of ours).
func (cfg Config) nonce(c echo.Context) string {
	if ck, err := c.Cookie(cfg.Cookie); err == nil {
		if b, err := base64.RawURLEncoding.Strict().DecodeString(ck.Value); err == nil && len(b) == nonceBytes {
			return ck.Value
		}
	}
	var b [nonceBytes]byte
	_, _ = rand.Read(b[:])
	n := base64.RawURLEncoding.EncodeToString(b[:])
	secure := cfg.Secure != nil && cfg.Secure(c)
	c.SetCookie(&http.Cookie{Name: cfg.Cookie, Value: n, Path: cfg.Path, HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteStrictMode, Expires: time.Now().Add(24 * time.Hour)})
	return n
}

const nonceBytes = 16

// token signs the nonce and the binding.
func (cfg Config) token(c echo.Context, nonce string) (string, error) {
	binding := ""
	if cfg.Binding != nil {
		binding = cfg.Binding(c)
	}
	mac, err := cfg.Sign(c, []byte("herald-csrf-v1\x00"+nonce+"\x00"+binding))
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(mac), nil
}
