// Package sources lists the ingest formats Herald decodes, by the kind
// name a source is configured with (sources[].kind in the YAML file,
// "kind" in the API). Each format lives in its own package below this one;
// adding one means writing that package, listing it in Registry, and
// documenting the kind.
//
// The HTTP layer finds a source's decoder with Registry[kind], answers 415
// for a Content-Type not in its ContentTypes, and otherwise passes the body
// to Decode after authenticating the request.
package sources

import (
	"sort"

	"github.com/heraldstatus/herald/gateway/sources/alertmanager"
	"github.com/heraldstatus/herald/gateway/sources/alertmanagerapi"
	"github.com/heraldstatus/herald/gateway/sources/decode"
	"github.com/heraldstatus/herald/gateway/sources/generic"
	"github.com/heraldstatus/herald/gateway/sources/grafana"
	"github.com/heraldstatus/herald/gateway/sources/pagerduty"
)

// Decoder turns one request body into normalized alerts; see
// decode.Decoder, where it is defined so that the format packages can
// assert they implement it without importing this package.
type Decoder = decode.Decoder

// Registry maps each source kind to its decoder. It is the one place that
// lists the formats; callers must not modify it.
var Registry = map[string]Decoder{
	"alertmanager":     alertmanager.Decoder{},
	"alertmanager-api": alertmanagerapi.Decoder{},
	"grafana":          grafana.Decoder{},
	"pagerduty":        pagerduty.Decoder{},
	"generic":          generic.Decoder{},
}

// Kinds returns the kind names of Registry, sorted, for validation
// messages and documentation.
func Kinds() []string {
	kinds := make([]string, 0, len(Registry))
	for k := range Registry {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}
