package console

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
)

// The API keys screen (admins): every key with its role, 4-character
// prefix, creation, last use, expiry and state; creating one, whose
// secret is shown on the next page only; revoking one, which takes effect
// at the next request on every replica (keys are checked in the database
// each time). The same store calls as the admin API's /api/v1/apikeys.

func (h *Handler) apikeysRoutes(r Router) {
	r.GET("/apikeys", gateway.RoleAdmin, h.apiKeyList)
	r.POST("/apikeys", gateway.RoleAdmin, h.apiKeyCreate)
	r.POST("/apikeys/:id/revoke", gateway.RoleAdmin, h.apiKeyRevoke)
}

// apiKeyRow is a key as the screen lists it.
type apiKeyRow struct {
	gateway.APIKey
	State string // live, expired or revoked
}

type apiKeyListView struct {
	Keys  []apiKeyRow
	Roles []gateway.Role
}

func (h *Handler) apiKeyList(c echo.Context) error {
	st := h.opt.Store
	ctx, cancel := ctx(c)
	defer cancel()
	keys, err := st.APIKeys(ctx)
	if err != nil {
		return err
	}
	v := apiKeyListView{Roles: []gateway.Role{gateway.RoleViewer, gateway.RoleSupport, gateway.RoleAdmin}}
	now := h.now()
	for _, k := range keys {
		v.Keys = append(v.Keys, apiKeyRow{APIKey: k, State: k.State(now)})
	}
	return h.render(c, http.StatusOK, "apikeys", "API keys", v)
}

// apiKeyCreatedView is the page that shows a new key, the one time.
type apiKeyCreatedView struct {
	Key    gateway.APIKey
	Secret string
}

func (h *Handler) apiKeyCreate(c echo.Context) error {
	st := h.opt.Store
	var expires time.Time
	var err error
	if s := strings.TrimSpace(c.FormValue("expires")); s != "" {
		// A date input sends 2026-12-31: the key works until that day begins (UTC).
		if expires, err = time.Parse(time.DateOnly, s); err != nil {
			return gateway.FieldError("expires", "must be a date, such as 2026-12-31")
		}
	}
	who := Principal(c)
	k, secret, err := st.CreateAPIKeyUntil(c.Request().Context(), strings.TrimSpace(c.FormValue("name")),
		gateway.Role(c.FormValue("role")), who.Name, expires)
	if err != nil {
		return err
	}
	h.audit(c, "api_key.create", "api_key", k.ID, map[string]any{"name": k.Name, "role": k.Role})
	c.Response().Header().Set("Cache-Control", "no-store")
	return h.render(c, http.StatusCreated, "apikeys-created", "API key "+k.Name, apiKeyCreatedView{Key: *k, Secret: secret})
}

func (h *Handler) apiKeyRevoke(c echo.Context) error {
	st := h.opt.Store
	id := c.Param("id")
	if err := st.RevokeAPIKey(c.Request().Context(), id); err != nil {
		return err
	}
	h.audit(c, "api_key.revoke", "api_key", id, nil)
	return h.redirect(c, Prefix+"/apikeys", "Key revoked: it stopped working at once, everywhere.")
}
