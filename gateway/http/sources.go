package http

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/catalog"
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
	src, token, err := s.svc.Catalog.CreateSource(c.Request().Context(), principal(c), catalog.SourceChange(req))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toSourceJSON(*src, token))
}

// updateSource changes a source's kind or rate limit; a source's name is
// its URL, so it does not change (create another one).
func (s *Server) updateSource(c echo.Context) error {
	var req sourceRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	src, err := s.svc.Catalog.UpdateSource(c.Request().Context(), principal(c), c.Param("id"), catalog.SourceChange(req))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toSourceJSON(*src, ""))
}

// rotateSourceToken answers with the source and its new token; the old
// token stops working at once.
func (s *Server) rotateSourceToken(c echo.Context) error {
	src, token, err := s.svc.Catalog.RotateSourceToken(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toSourceJSON(*src, token))
}

// deleteSource removes a source with its alerts.
func (s *Server) deleteSource(c echo.Context) error {
	if _, err := s.svc.Catalog.DeleteSource(c.Request().Context(), principal(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
