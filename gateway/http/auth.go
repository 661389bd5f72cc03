package http

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
)

const principalKey = "herald.principal"

// authenticate requires `Authorization: Bearer <API key>`. Keys are looked
// up by hash and compared in constant time (store.APIKeyBySecret); the
// principal is put on the context for role checks and the audit log.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		scheme, secret, ok := strings.Cut(c.Request().Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="herald"`)
			return gateway.Errorf(gateway.EUNAUTHORIZED, "An API key is required: Authorization: Bearer <key>.")
		}
		st := s.svc.Store
		key, err := st.APIKeyBySecret(c.Request().Context(), strings.TrimSpace(secret))
		if err != nil {
			if gateway.ErrorCode(err) == gateway.EUNAUTHORIZED {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="herald", error="invalid_token"`)
			}
			return err
		}
		if s.touch.due(key.ID) {
			// Recording use is best effort and off the request's path.
			go func(id string) {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := st.TouchAPIKey(ctx, id, time.Now()); err != nil {
					s.log.Debug("record api key use", "err", err)
				}
			}(key.ID)
		}
		c.Set(principalKey, gateway.Principal{Kind: "api_key", ID: key.ID, Name: key.Name, Role: key.Role})
		return next(c)
	}
}

// requireRole lets a request through when its principal's role allows need.
func requireRole(need gateway.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p, ok := c.Get(principalKey).(gateway.Principal)
			if !ok {
				return gateway.Errorf(gateway.EUNAUTHORIZED, "Authentication required.")
			}
			if !p.Role.Allows(need) {
				return gateway.Errorf(gateway.EFORBIDDEN, "The %s role may not do this; it needs %s.", p.Role, need)
			}
			return next(c)
		}
	}
}

func principal(c echo.Context) gateway.Principal {
	p, _ := c.Get(principalKey).(gateway.Principal)
	return p
}

// keyToucher throttles last-used updates to one a minute per key, so that
// authenticated reads do not each cost a write.
type keyToucher struct {
	mu   sync.Mutex
	last map[string]time.Time
}

func (t *keyToucher) due(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.last == nil {
		t.last = map[string]time.Time{}
	}
	now := time.Now()
	if now.Sub(t.last[id]) < time.Minute {
		return false
	}
	t.last[id] = now
	return true
}
