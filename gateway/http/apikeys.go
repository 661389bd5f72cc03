package http

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
)

// API keys: admins list, create and revoke them. A key's secret is in the
// answer to its creation and nowhere else; the list shows at most 4
// characters of each. Keys are checked in the database at every request
// (authenticate), so a revoke or an expiry holds on every replica at the
// next request.
func (s *Server) apiKeyRoutes(api *echo.Group) {
	admin := requireRole(gateway.RoleAdmin)
	api.GET("/apikeys", s.listAPIKeys, admin)
	api.POST("/apikeys", s.createAPIKey, admin)
	api.DELETE("/apikeys/:id", s.revokeAPIKey, admin)
}

func (s *Server) listAPIKeys(c echo.Context) error {
	keys, err := s.svc.Store.APIKeys(c.Request().Context())
	if err != nil {
		return err
	}
	if keys == nil {
		keys = []gateway.APIKey{}
	}
	return c.JSON(http.StatusOK, list[gateway.APIKey]{Data: keys})
}

type createAPIKeyRequest struct {
	Name string       `json:"name"`
	Role gateway.Role `json:"role"`
	// ExpiresAt is RFC 3339; omitted, the key does not expire.
	ExpiresAt string `json:"expires_at"`
}

// apiKeyWithSecret is a key as created: the one answer with its secret.
type apiKeyWithSecret struct {
	*gateway.APIKey
	Key string `json:"key"`
}

func (s *Server) createAPIKey(c echo.Context) error {
	var req createAPIKeyRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	var expires time.Time
	if req.ExpiresAt != "" {
		var err error
		if expires, err = time.Parse(time.RFC3339, req.ExpiresAt); err != nil {
			return gateway.FieldError("expires_at", "must be an RFC 3339 time, such as 2026-12-31T23:59:00Z")
		}
	}
	who := principal(c)
	k, secret, err := s.svc.Store.CreateAPIKeyUntil(c.Request().Context(), req.Name, req.Role, who.Name, expires)
	if err != nil {
		return err
	}
	s.audit(c, "api_key.create", "api_key", k.ID, map[string]any{"name": k.Name, "role": k.Role, "expires_at": req.ExpiresAt})
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, apiKeyWithSecret{APIKey: k, Key: secret})
}

// revokeAPIKey revokes a live key by id (a key may revoke itself): 204,
// or 404 when no live key has the id.
func (s *Server) revokeAPIKey(c echo.Context) error {
	id := c.Param("id")
	if err := s.svc.Store.RevokeAPIKey(c.Request().Context(), id); err != nil {
		return err
	}
	s.audit(c, "api_key.revoke", "api_key", id, nil)
	return c.NoContent(http.StatusNoContent)
}
