package console

import (
	"encoding/base64"
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
)

// redirect answers 303 See Other to path with a flash message for the
// page there; use it at the end of every successful POST handler.
func (h *Handler) redirect(c echo.Context, path, message string) error {
	h.setFlash(c, flashInfo, message)
	return c.Redirect(http.StatusSeeOther, path)
}

// setFlash keeps the message in a short-lived cookie. It is not signed:
// it only ever holds text for the same browser, shown escaped.
func (h *Handler) setFlash(c echo.Context, kind, message string) {
	v := kind + ":" + base64.RawURLEncoding.EncodeToString([]byte(message))
	c.SetCookie(h.cookie(c, flashCookie, v, h.now().Add(5*time.Minute)))
}

// takeFlash returns the request's flash message, if any, and clears it.
func (h *Handler) takeFlash(c echo.Context) *Flash {
	ck, err := c.Cookie(flashCookie)
	if err != nil || ck.Value == "" {
		return nil
	}
	ex := h.cookie(c, flashCookie, "", time.Unix(0, 0))
	ex.MaxAge = -1
	c.SetCookie(ex)
	kind, enc, ok := strings.Cut(ck.Value, ":")
	msg, err := base64.RawURLEncoding.DecodeString(enc)
	if !ok || err != nil || (kind != flashInfo && kind != flashError) {
		return nil
	}
	return &Flash{Kind: kind, Message: string(msg)}
}

// plural words a count: "1 second", "5 seconds".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
