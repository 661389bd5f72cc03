package http

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway/sources"
)

// openAPIFile is the OpenAPI 3.1 description of /api/v1, kept by hand
// beside the routes it describes; TestOpenAPIDescribesEveryRoute fails
// when a route is added without it, or it names a route that does not
// exist.
//
//go:embed openapi.json
var openAPIFile []byte

// openAPI is the description served: the file with the source kinds
// filled in.
var openAPI = fillSourceKinds(openAPIFile)

// sourceKindsPlaceholder stands in openapi.json for the list of source
// kinds. The list is sources.Registry's, filled in here, so that adding a
// source does not mean editing the description too.
const sourceKindsPlaceholder = `"<sources.Registry>"`

// fillSourceKinds replaces the placeholder, on a line of its own, with
// the kinds, one a line at its indentation.
func fillSourceKinds(doc []byte) []byte {
	at := bytes.Index(doc, []byte(sourceKindsPlaceholder))
	if at < 0 || bytes.Count(doc, []byte(sourceKindsPlaceholder)) != 1 {
		panic("openapi.json must name " + sourceKindsPlaceholder + " once")
	}
	indent := doc[bytes.LastIndexByte(doc[:at], '\n')+1 : at]
	var list []byte
	for i, k := range sources.Kinds() {
		if i > 0 {
			list = append(append(list, ',', '\n'), indent...)
		}
		q, err := json.Marshal(k)
		if err != nil {
			panic(err)
		}
		list = append(list, q...)
	}
	return bytes.Join([][]byte{doc[:at], list, doc[at+len(sourceKindsPlaceholder):]}, nil)
}

// openAPIRoutes serves the description without authentication, so that
// client generators and API tools can read it before they hold a key.
func (s *Server) openAPIRoutes(e *echo.Echo) {
	e.GET("/api/v1/openapi.json", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/json", openAPI)
	})
}
