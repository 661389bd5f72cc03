package http

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPI is the OpenAPI 3.1 description of /api/v1, kept by hand beside
// the routes it describes; TestOpenAPIDescribesEveryRoute fails when a
// route is added without it, or it names a route that does not exist.
//
//go:embed openapi.json
var openAPI []byte

// openAPIRoutes serves the description without authentication, so that
// client generators and API tools can read it before they hold a key.
func (s *Server) openAPIRoutes(e *echo.Echo) {
	e.GET("/api/v1/openapi.json", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/json", openAPI)
	})
}
