package console

import (
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// wrongCredentials is the one answer to a failed sign-in: it does not say
// whether the account exists.
const wrongCredentials = "The email or password is wrong (or the API key is not valid)."

// loginView is the sign-in page.
type loginView struct {
	Email string
	Next  string
	Error string
}

func (h *Handler) loginForm(c echo.Context) error {
	return h.render(c, http.StatusOK, "login", "Sign in", loginView{Next: safeNext(c.QueryParam("next"))})
}

// loginPost signs in with an email and password, or with an API key (the
// key's name and role become the session's). Attempts are limited before
// any password is checked, per client network (an IPv4 address, an IPv6
// /64) and per account from that network, whose failures cost more and
// more (see ratelimit.Keyed.Fail). No limit counts an account's attempts from
// every network together: an attacker guessing from one network can never
// keep the account's owner out from another.
func (h *Handler) loginPost(c echo.Context) error {
	st := h.opt.Store
	email, key := store.NormalizeEmail(c.FormValue("email")), strings.TrimSpace(c.FormValue("api_key"))
	view := loginView{Email: email, Next: safeNext(c.FormValue("next"))}
	now := h.now()
	network := gateway.ClientNetwork(c.RealIP())
	accountKey := email + " " + network
	ok, wait := h.byIP.Allow(network, now)
	if ok && key == "" {
		ok, wait = h.byAccount.Check(accountKey, now)
	}
	if !ok {
		h.opt.SignIn("limited")
		secs := int(math.Ceil(wait.Seconds()))
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		view.Error = "Too many sign-in attempts. Please wait " + plural(secs, "second") + " and try again."
		return h.render(c, http.StatusTooManyRequests, "login", "Sign in", view)
	}

	var userID, keyID string
	var who gateway.Principal
	if key != "" {
		k, err := st.APIKeyBySecret(c.Request().Context(), key)
		if err != nil && gateway.ErrorCode(err) != gateway.EUNAUTHORIZED {
			return err
		}
		if k != nil {
			keyID, who = k.ID, gateway.Principal{Kind: "api_key", ID: k.ID, Name: k.Name, Role: k.Role}
		}
	} else {
		u, err := st.UserByEmail(c.Request().Context(), email)
		if err != nil && gateway.ErrorCode(err) != gateway.ENOTFOUND {
			return err
		}
		hash := dummyHash // unknown or disabled: spend the same time, then fail
		if u != nil && !u.Disabled() && u.PasswordHash != "" {
			hash = u.PasswordHash
		}
		if VerifyPassword(c.FormValue("password"), hash) && hash != dummyHash {
			userID, who = u.ID, gateway.Principal{Kind: "user", ID: u.ID, Name: u.Name, Role: u.Role}
		}
	}
	if who.Name == "" {
		if key == "" {
			h.byAccount.Fail(accountKey, now)
		}
		h.opt.SignIn("failed")
		h.log.Info("console sign-in failed", "remote_ip", c.RealIP(), "api_key", key != "")
		view.Error = wrongCredentials
		return h.render(c, http.StatusUnauthorized, "login", "Sign in", view)
	}
	if err := h.startSession(c, st, userID, keyID); err != nil {
		return err
	}
	if key == "" {
		h.byAccount.Reset(accountKey)
	}
	if userID != "" {
		if err := st.RecordLogin(c.Request().Context(), userID, now); err != nil {
			h.log.Warn("record login", "err", err)
		}
	}
	h.opt.SignIn("ok")
	c.Set(principalKey, who)
	h.audit(c, "console.sign_in", who.Kind, who.ID, map[string]any{"remote_ip": c.RealIP()})
	next := view.Next
	if next == "" {
		next = Prefix
	}
	return c.Redirect(http.StatusSeeOther, next)
}

// logout ends the session (its row is deleted) and returns to sign-in.
func (h *Handler) logout(c echo.Context) error {
	st := h.opt.Store
	h.audit(c, "console.sign_out", Principal(c).Kind, Principal(c).ID, nil)
	h.endSession(c, st)
	h.setFlash(c, flashInfo, "You are signed out.")
	return c.Redirect(http.StatusSeeOther, Prefix+"/login")
}

// safeNext keeps a post-sign-in redirect inside the console: no other
// site (//evil.example), no scheme.
func safeNext(next string) string {
	if next == Prefix || strings.HasPrefix(next, Prefix+"/") || strings.HasPrefix(next, Prefix+"?") {
		if !strings.Contains(next, "\\") && !strings.HasPrefix(next, Prefix+"/login") {
			return next
		}
	}
	return ""
}
