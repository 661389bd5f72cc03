package http

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway/channels"
	"github.com/heraldstatus/herald/gateway/sources"
)

// openAPIFile is the OpenAPI 3.1 description of /api/v1, kept by hand
// beside the routes it describes; TestOpenAPIDescribesEveryRoute fails
// when a route is added without it, or it names a route that does not
// exist.
//
//go:embed openapi.json
var openAPIFile []byte

// The lists of kinds stand in openapi.json as placeholders, each on a line
// of its own, and are filled in from their registries, so that adding a
// source or a channel does not mean editing the description too.
const (
	// sourceKindsPlaceholder is Source.kind's enum.
	sourceKindsPlaceholder = `"<sources.Registry>"`
	// channelKindsPlaceholder is the enums of Subscriber.kind,
	// SubscriberInput.kind and Delivery.channel: a subscriber's kind is
	// its deliveries' channel.
	channelKindsPlaceholder = `"<channels.Registry>"`
)

// openAPIWithSources is the file with the source kinds, fixed at build.
var openAPIWithSources = fillKinds(openAPIFile, sourceKindsPlaceholder, 1, sources.Kinds())

// describe returns the description served. The channel kinds are filled
// in at each request rather than once: channels.Register may add one after
// start (tests add theirs so), and the description must name it.
func describe() []byte {
	return fillKinds(openAPIWithSources, channelKindsPlaceholder, 3, channels.Kinds())
}

// fillKinds replaces each of the n placeholders, each on a line of its
// own, with the kinds, one a line at its indentation.
func fillKinds(doc []byte, placeholder string, n int, kinds []string) []byte {
	if got := bytes.Count(doc, []byte(placeholder)); got != n {
		panic(fmt.Sprintf("openapi.json must name %s %d times, not %d", placeholder, n, got))
	}
	var out []byte
	for {
		at := bytes.Index(doc, []byte(placeholder))
		if at < 0 {
			return append(out, doc...)
		}
		indent := doc[bytes.LastIndexByte(doc[:at], '\n')+1 : at]
		out = append(out, doc[:at]...)
		for i, k := range kinds {
			if i > 0 {
				out = append(append(out, ',', '\n'), indent...)
			}
			q, err := json.Marshal(k)
			if err != nil {
				panic(err)
			}
			out = append(out, q...)
		}
		doc = doc[at+len(placeholder):]
	}
}

// openAPIRoutes serves the description without authentication, so that
// client generators and API tools can read it before they hold a key.
func (s *Server) openAPIRoutes(e *echo.Echo) {
	e.GET("/api/v1/openapi.json", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/json", describe())
	})
}
