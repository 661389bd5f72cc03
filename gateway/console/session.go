package console

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// SessionCookie holds a session's secret; only its hash is stored
// (sessions.id_hash), so a copy of the database signs nobody in.
const SessionCookie = "herald_session"

// touchEvery bounds how often a session's last_seen_at is written: reads
// stay reads, and the idle expiry is exact to within this.
const touchEvery = time.Minute

const (
	principalKey = "herald.console.principal"
	sessionKey   = "herald.console.session"
)

// Principal returns who is signed in on this request: a user (Kind
// "user", the person's name) or an API key (Kind "api_key", the key's
// name). Pass it to services; the audit log records its Name.
func Principal(c echo.Context) gateway.Principal {
	p, _ := c.Get(principalKey).(gateway.Principal)
	return p
}

// signedIn lets a request through with a live session, putting its
// principal on the context; without one, a page redirects to the sign-in
// page (which returns here after) and an action is refused.
func (h *Handler) signedIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		st := h.opt.Store
		se, err := h.session(c, st)
		if err != nil {
			return err
		}
		if se == nil {
			if c.Request().Method == http.MethodGet {
				return c.Redirect(http.StatusSeeOther, Prefix+"/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
			}
			h.setFlash(c, flashError, "Your session has ended. Please sign in again.")
			return c.Redirect(http.StatusSeeOther, Prefix+"/login")
		}
		p := gateway.Principal{Kind: "user", ID: se.UserID, Name: se.Name, Role: se.Role}
		if se.APIKeyID != "" {
			p.Kind, p.ID = "api_key", se.APIKeyID
		}
		c.Set(principalKey, p)
		c.Set(sessionKey, se)
		return next(c)
	}
}

// session returns the request's live session, or nil. A session past its
// absolute or idle expiry is deleted on sight.
func (h *Handler) session(c echo.Context, st *store.Store) (*store.Session, error) {
	ck, err := c.Cookie(SessionCookie)
	if err != nil || ck.Value == "" {
		return nil, nil
	}
	hash := gateway.HashSecret(ck.Value)
	se, err := st.SessionByHash(c.Request().Context(), hash)
	if gateway.ErrorCode(err) == gateway.ENOTFOUND {
		h.clearSessionCookie(c)
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	now := h.now()
	if !now.Before(se.ExpiresAt) || now.Sub(se.LastSeenAt) >= h.opt.IdleTimeout {
		if err := st.DeleteSession(c.Request().Context(), hash); err != nil {
			h.log.Warn("delete expired session", "err", err)
		}
		h.clearSessionCookie(c)
		return nil, nil
	}
	if now.Sub(se.LastSeenAt) >= touchEvery {
		if err := st.TouchSession(c.Request().Context(), hash, now); err != nil {
			h.log.Warn("touch session", "err", err) // the request may go on
		}
	}
	return se, nil
}

// startSession signs the browser in as userID or apiKeyID (exactly one),
// replacing any session it had (no fixation), and sets the cookie.
func (h *Handler) startSession(c echo.Context, st *store.Store, userID, apiKeyID string) error {
	h.endSession(c, st)
	secret := gateway.NewSecret("hses_")
	now := h.now()
	se := &store.Session{IDHash: gateway.HashSecret(secret), UserID: userID, APIKeyID: apiKeyID,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(h.opt.MaxAge)}
	if err := st.CreateSession(c.Request().Context(), se); err != nil {
		return err
	}
	c.SetCookie(h.cookie(c, SessionCookie, secret, se.ExpiresAt))
	// Sweep what has expired meanwhile; sign-ins are rare, so this is cheap.
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := st.DeleteExpiredSessions(ctx, now, now.Add(-h.opt.IdleTimeout)); err != nil {
			h.log.Warn("sweep expired sessions", "err", err)
		}
	}()
	return nil
}

// endSession deletes the request's session, if any, and clears the cookie.
func (h *Handler) endSession(c echo.Context, st *store.Store) {
	if ck, err := c.Cookie(SessionCookie); err == nil && ck.Value != "" {
		if err := st.DeleteSession(c.Request().Context(), gateway.HashSecret(ck.Value)); err != nil {
			h.log.Warn("delete session", "err", err)
		}
	}
	h.clearSessionCookie(c)
}

func (h *Handler) clearSessionCookie(c echo.Context) {
	ck := h.cookie(c, SessionCookie, "", time.Unix(0, 0))
	ck.MaxAge = -1
	c.SetCookie(ck)
}

// cookie builds a console cookie: HttpOnly, SameSite=Lax (so a link from
// a chat message to an incident page arrives signed in; forms are guarded
// by the CSRF token), Path=/console, Secure on https.
func (h *Handler) cookie(c echo.Context, name, value string, expires time.Time) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: Prefix, Expires: expires,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.secure(c)}
}

// requireRole lets a request through when the signed-in role allows need.
func (h *Handler) requireRole(need gateway.Role, next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if p := Principal(c); !p.Role.Allows(need) {
			return gateway.Errorf(gateway.EFORBIDDEN, "Your role (%s) may not do this; it needs %s.", p.Role, need)
		}
		return next(c)
	}
}

// Can reports whether the signed-in person's role allows need; screens use
// it to leave out buttons a viewer could not use anyway.
func Can(c echo.Context, need gateway.Role) bool { return Principal(c).Role.Allows(need) }
