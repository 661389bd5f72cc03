package http

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"runtime"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/ingest"
)

// alertmanagerAPIKind is the source kind that stands in for an
// Alertmanager to its clients: Prometheus (alerting.alertmanagers with
// path_prefix /ingest/<source>) and amtool (--alertmanager.url).
const alertmanagerAPIKind = "alertmanager-api"

// ingestStatus is the status of a successful ingest for a source of kind.
// Alertmanager's POST /api/v2/alerts answers 200, and the client generated
// from its OpenAPI document (amtool's) reports any other status, 202
// included, as a failure; every other kind answers 202.
func ingestStatus(kind string) int {
	if kind == alertmanagerAPIKind {
		return http.StatusOK
	}
	return http.StatusAccepted
}

// alertmanagerError renders a request error (gateway.EINVALID: malformed;
// gateway.EUNPROCESSABLE: invalid fields) as Alertmanager's API does: 400
// with the problem as a JSON string, its BadRequest response, which
// amtool's generated client decodes and prints (Herald's error object
// would reach the user as a decoding error instead). The message names
// each field at fault, as "[0].labels: …". Any other error (token, limits,
// the store) gives 0 and nil and is answered by Herald's error handler,
// as for every other source.
func alertmanagerError(err error) (status int, body []byte) {
	var e *gateway.Error
	if !errors.As(err, &e) || (e.Code != gateway.EINVALID && e.Code != gateway.EUNPROCESSABLE) {
		return 0, nil
	}
	b, _ := json.Marshal(e.Message) // a string always marshals
	return http.StatusBadRequest, b
}

// amStatus is Alertmanager's GET /api/v2/status document (its
// alertmanagerStatus definition), with what an Alertmanager client reads:
// amtool asks for it before some commands and prints config.original.
type amStatus struct {
	Cluster     amCluster `json:"cluster"`
	VersionInfo amVersion `json:"versionInfo"`
	Config      amConfig  `json:"config"`
	Uptime      time.Time `json:"uptime"`
}

type amCluster struct {
	Status string     `json:"status"`
	Peers  []struct{} `json:"peers"`
}

type amVersion struct {
	Version   string `json:"version"`
	Revision  string `json:"revision"`
	Branch    string `json:"branch"`
	BuildUser string `json:"buildUser"`
	BuildDate string `json:"buildDate"`
	GoVersion string `json:"goVersion"`
}

type amConfig struct {
	Original string `json:"original"`
}

// alertmanagerStatus serves GET /ingest/{source}/api/v2/status for a source
// of kind alertmanager-api: a minimal valid status document (one
// instance, clustering disabled, Herald's version, a config that says where
// the alerts go). It takes the source's token like ingest does; a source
// of another kind is not an Alertmanager and answers 404.
func (h *ingestAPI) alertmanagerStatus(c echo.Context) error {
	r := c.Request()
	src, err := namedSource(c, h.s.svc.Ingest)
	if err != nil {
		return err
	}
	if err := authenticate(c, src, ingest.Token(r)); err != nil {
		return err
	}
	if src.Kind != alertmanagerAPIKind {
		return gateway.Errorf(gateway.ENOTFOUND, "Source %q is of kind %s; only %s sources answer Alertmanager's API.", src.Name, src.Kind, alertmanagerAPIKind)
	}
	return c.JSON(http.StatusOK, amStatus{
		Cluster:     amCluster{Status: "disabled", Peers: []struct{}{}},
		VersionInfo: amVersion{Version: cmp.Or(h.s.opt.Version, "dev"), GoVersion: runtime.Version()},
		Config: amConfig{Original: "# Herald source " + src.Name + " (" + src.Kind + "): alerts posted here become Herald's\n" +
			"# incidents through its rules; Alertmanager routes, receivers and silences do not apply.\n"},
		Uptime: h.s.started,
	})
}
