package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// Flash is a one-time message shown on the page after a redirect
// (post/redirect/get): "Update posted.", "Broadcast planned to 2,310
// subscribers.".
type Flash struct {
	Kind    string // flashInfo or flashError: the CSS class and the ARIA role
	Message string
}

const (
	flashInfo   = "info"
	flashError  = "error"
	flashCookie = "herald_flash"
	// flashKeySetting names the settings row that keeps the key flash
	// cookies and CSRF tokens are signed with. The console is given no
	// server secret, so it keeps its own, as the subscribers key is kept
	// without a secret_key: created once, shared by every replica, so a
	// redirect or a form answered by another replica still works.
	flashKeySetting = "console.flash_key"
)

// redirect answers 303 See Other to path with a flash message for the
// page there; use it at the end of every successful POST handler.
func (h *Handler) redirect(c echo.Context, path, message string) error {
	h.setFlash(c, flashInfo, message)
	return c.Redirect(http.StatusSeeOther, path)
}

// setFlash keeps the message in a short-lived cookie, signed: the page
// shows it as the console's own words, so a cookie planted by someone
// else (another site on the domain, a network on plain HTTP) must not be
// shown. Without the key (the store is not ready) the message is dropped.
func (h *Handler) setFlash(c echo.Context, kind, message string) {
	key, err := h.flashKey(c.Request().Context())
	if err != nil {
		h.log.Warn("console flash message dropped", "err", err)
		return
	}
	v := kind + ":" + base64.RawURLEncoding.EncodeToString([]byte(message))
	v += ":" + flashMAC(key, v)
	c.SetCookie(h.cookie(c, flashCookie, v, h.now().Add(5*time.Minute)))
}

// takeFlash returns the request's flash message, if any and if its
// signature holds, and clears it.
func (h *Handler) takeFlash(c echo.Context) *Flash {
	ck, err := c.Cookie(flashCookie)
	if err != nil || ck.Value == "" {
		return nil
	}
	ex := h.cookie(c, flashCookie, "", time.Unix(0, 0))
	ex.MaxAge = -1
	c.SetCookie(ex)
	signed, mac, ok := cutLast(ck.Value, ":")
	if !ok {
		return nil
	}
	key, err := h.flashKey(c.Request().Context())
	if err != nil || !hmac.Equal([]byte(mac), []byte(flashMAC(key, signed))) {
		return nil
	}
	kind, enc, ok := strings.Cut(signed, ":")
	msg, err := base64.RawURLEncoding.DecodeString(enc)
	if !ok || err != nil || (kind != flashInfo && kind != flashError) {
		return nil
	}
	return &Flash{Kind: kind, Message: string(msg)}
}

// flashMAC is the signature of a flash cookie's value, bound to its
// purpose so that the key signs nothing else.
func flashMAC(key []byte, value string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("herald console flash v1\x00" + value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// cutLast slices s around the last sep.
func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}

// flashKey returns the key of flash cookies (see flashKeySetting), read
// or created once and then kept.
func (h *Handler) flashKey(ctx context.Context) ([]byte, error) {
	h.flashMu.Lock()
	defer h.flashMu.Unlock()
	if h.flashSecret != nil {
		return h.flashSecret, nil
	}
	st := h.opt.Store
	// rand.Text is 128 random bits, and the setting is used as it is.
	v, err := st.SettingOrCreate(ctx, flashKeySetting, rand.Text())
	if err != nil {
		return nil, fmt.Errorf("console: load flash key: %w", err)
	}
	if len(v) < 16 {
		return nil, fmt.Errorf("console: the %s setting is shorter than 16 bytes", flashKeySetting)
	}
	h.flashSecret = []byte(v)
	return h.flashSecret, nil
}

// plural words a count: "1 second", "5 seconds".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
