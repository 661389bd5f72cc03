package http

import (
	"math"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/sources"
)

func (s *Server) sourceRoutes(api *echo.Group) {
	viewer, admin := requireRole(gateway.RoleViewer), requireRole(gateway.RoleAdmin)
	api.GET("/sources", s.listSources, viewer)
	api.POST("/sources", s.createSource, admin)
	api.GET("/sources/:id", s.getSource, viewer)
	api.PATCH("/sources/:id", s.updateSource, admin)
	api.DELETE("/sources/:id", s.deleteSource, admin)
	api.POST("/sources/:id/rotate-token", s.rotateSourceToken, admin)
}

// sourceJSON is a source as the API shows it; Token is set only in the
// answers that create one (creation and rotation), the one time it is shown.
type sourceJSON struct {
	gateway.Source
	IngestPath string `json:"ingest_path"`
	Token      string `json:"token,omitempty"`
}

func toSourceJSON(src gateway.Source, token string) sourceJSON {
	return sourceJSON{Source: src, IngestPath: "/ingest/" + src.Name, Token: token}
}

type sourceRequest struct {
	Name      *string  `json:"name"`
	Kind      *string  `json:"kind"`
	RateLimit *float64 `json:"rate_limit"`
}

// sourceNameRE is config's rule for source names: the name is the path
// segment of /ingest/{name}.
var sourceNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

func (s *Server) listSources(c echo.Context) error {
	srcs, err := s.svc.Store.Sources(c.Request().Context())
	if err != nil {
		return err
	}
	out := list[sourceJSON]{Data: make([]sourceJSON, 0, len(srcs))}
	for _, src := range srcs {
		out.Data = append(out.Data, toSourceJSON(src, ""))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) getSource(c echo.Context) error {
	src, err := s.svc.Store.Source(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toSourceJSON(*src, ""))
}

// createSource answers 201 with the source and its token, shown only now.
func (s *Server) createSource(c echo.Context) error {
	var req sourceRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	switch {
	case req.Name == nil || *req.Name == "":
		return gateway.FieldError("name", "is required (it names the ingest URL, /ingest/{name})")
	case !sourceNameRE.MatchString(*req.Name):
		return gateway.FieldError("name", "must be lowercase letters, digits, - and _ (at most 63), starting with a letter or digit")
	case req.Kind == nil:
		return gateway.FieldError("kind", "is required: one of "+strings.Join(sources.Kinds(), ", "))
	}
	src := gateway.Source{Name: *req.Name}
	if err := applySource(&src, req); err != nil {
		return err
	}
	token, err := s.svc.Store.CreateSource(c.Request().Context(), &src)
	if err != nil {
		return err
	}
	s.audit(c, "source.create", "source", src.ID, map[string]any{"name": src.Name, "kind": src.Kind})
	return c.JSON(http.StatusCreated, toSourceJSON(src, token))
}

// updateSource changes a source's kind or rate limit; a source's name is
// its URL, so it does not change (create another one).
func (s *Server) updateSource(c echo.Context) error {
	var req sourceRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	src, err := s.svc.Store.Source(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if req.Name != nil && *req.Name != src.Name {
		return gateway.FieldError("name", "cannot change: it is the source's ingest URL")
	}
	if err := applySource(src, req); err != nil {
		return err
	}
	if err := s.svc.Store.UpdateSource(ctx, src); err != nil {
		return err
	}
	s.audit(c, "source.update", "source", src.ID, map[string]any{"name": src.Name, "kind": src.Kind, "rate_limit": src.RateLimit})
	return c.JSON(http.StatusOK, toSourceJSON(*src, ""))
}

func applySource(src *gateway.Source, req sourceRequest) error {
	if req.Kind != nil {
		if !slices.Contains(sources.Kinds(), *req.Kind) {
			return gateway.FieldError("kind", "must be one of "+strings.Join(sources.Kinds(), ", "))
		}
		src.Kind = *req.Kind
	}
	if req.RateLimit != nil {
		if r := *req.RateLimit; r < 0 || math.IsInf(r, 0) || math.IsNaN(r) {
			return gateway.FieldError("rate_limit", "must be 0 (unlimited) or more requests per second")
		}
		src.RateLimit = *req.RateLimit
	}
	return nil
}

// rotateSourceToken answers with the source and its new token; the old
// token stops working at once. A source declared in the config file keeps
// the file's token (the next start would restore it), so rotating it here
// is refused.
func (s *Server) rotateSourceToken(c echo.Context) error {
	ctx := c.Request().Context()
	src, err := s.svc.Store.Source(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if src.Origin == gateway.OriginConfig {
		return gateway.Errorf(gateway.ECONFLICT, "Source %s is declared in the config file: change its token there.", src.Name)
	}
	token, err := s.svc.Store.RotateSourceToken(ctx, src.ID)
	if err != nil {
		return err
	}
	if src, err = s.svc.Store.Source(ctx, src.ID); err != nil {
		return err
	}
	s.audit(c, "source.rotate_token", "source", src.ID, map[string]any{"name": src.Name, "token_prefix": src.TokenPrefix})
	return c.JSON(http.StatusOK, toSourceJSON(*src, token))
}

// deleteSource removes a source with its alerts.
func (s *Server) deleteSource(c echo.Context) error {
	ctx := c.Request().Context()
	src, err := s.svc.Store.Source(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.svc.Store.DeleteSource(ctx, src.ID); err != nil {
		return err
	}
	s.audit(c, "source.delete", "source", src.ID, map[string]any{"name": src.Name})
	return c.NoContent(http.StatusNoContent)
}
