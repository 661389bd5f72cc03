package http

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// probeRoutes registers the probes' API: admin only, because a probe
// reaches whatever address an admin gives it (private ones included) and
// its list shows what the infrastructure looks like from inside.
func (s *Server) probeRoutes(api *echo.Group) {
	admin := requireRole(gateway.RoleAdmin)
	api.GET("/probes", s.listProbes, admin)
	api.POST("/probes", s.createProbe, admin)
	api.GET("/probes/:name", s.getProbe, admin)
	api.PATCH("/probes/:name", s.updateProbe, admin)
	api.DELETE("/probes/:name", s.deleteProbe, admin)
	api.GET("/probes/:name/results", s.probeResults, admin)
}

// probeJSON is a probe as the API shows it: durations as Go duration
// strings ("30s"), the component by id and name.
type probeJSON struct {
	ID               string           `json:"id"`
	Name             string           `json:"name"`
	Kind             string           `json:"kind"`
	Component        *componentRef    `json:"component"`
	Target           string           `json:"target"`
	Record           string           `json:"record,omitempty"`
	Resolvers        []string         `json:"resolvers,omitempty"`
	Expect           []string         `json:"expect,omitempty"`
	ExpectStatus     int              `json:"expect_status,omitempty"`
	BodyContains     string           `json:"body_contains,omitempty"`
	TLSExpiryWarning string           `json:"tls_expiry_warning,omitempty"`
	Interval         string           `json:"interval"`
	Timeout          string           `json:"timeout"`
	Failures         int              `json:"failures"`
	Successes        int              `json:"successes"`
	Severity         gateway.Severity `json:"severity"`
	Origin           gateway.Origin   `json:"origin"`
	CreatedAt        time.Time        `json:"created_at"`
	UpdatedAt        time.Time        `json:"updated_at"`
}

type componentRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (s *Server) toProbeJSON(c echo.Context, p gateway.Probe) probeJSON {
	out := probeJSON{ID: p.ID, Name: p.Name, Kind: p.Kind, Target: p.Target, Record: p.Record, Resolvers: p.Resolvers,
		Expect: p.Expect, ExpectStatus: p.ExpectStatus, BodyContains: p.BodyContains, Interval: p.Interval.String(),
		Timeout: p.Timeout.String(), Failures: p.Failures, Successes: p.Successes, Severity: p.Severity,
		Origin: p.Origin, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
	if p.TLSExpiryWarning > 0 {
		out.TLSExpiryWarning = p.TLSExpiryWarning.String()
	}
	if p.ComponentID != "" {
		out.Component = &componentRef{ID: p.ComponentID}
		if comp, err := s.svc.Store.Component(c.Request().Context(), p.ComponentID); err == nil {
			out.Component.Name = comp.Name
		}
	}
	return out
}

// probeRequest is a probe as the API takes it; on PATCH only the keys
// present change. Durations are strings ("30s", "336h").
type probeRequest struct {
	Name             *string   `json:"name"`
	Kind             *string   `json:"kind"`
	Component        *string   `json:"component"` // id or exact name; "" removes it
	Target           *string   `json:"target"`
	Record           *string   `json:"record"`
	Resolvers        *[]string `json:"resolvers"`
	Expect           *[]string `json:"expect"`
	ExpectStatus     *int      `json:"expect_status"`
	BodyContains     *string   `json:"body_contains"`
	TLSExpiryWarning *string   `json:"tls_expiry_warning"`
	Interval         *string   `json:"interval"`
	Timeout          *string   `json:"timeout"`
	Failures         *int      `json:"failures"`
	Successes        *int      `json:"successes"`
	Severity         *string   `json:"severity"`
}

// apply copies the request's keys onto p, applies the defaults and
// validates the result with the domain's rules (the same the config file
// gets), every problem naming its key.
func (s *Server) applyProbe(c echo.Context, p *gateway.Probe, req probeRequest) error {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	if req.Kind != nil && *req.Kind != p.Kind {
		// A new kind starts from its own defaults: the old kind's keys
		// would only be refused as not its own.
		p.Record, p.Resolvers, p.Expect = "", nil, nil
		p.ExpectStatus, p.BodyContains, p.TLSExpiryWarning = 0, "", 0
	}
	set(&p.Name, req.Name)
	set(&p.Kind, req.Kind)
	set(&p.Target, req.Target)
	set(&p.Record, req.Record)
	set(&p.BodyContains, req.BodyContains)
	if req.Resolvers != nil {
		p.Resolvers = *req.Resolvers
	}
	if req.Expect != nil {
		p.Expect = *req.Expect
	}
	if req.ExpectStatus != nil {
		p.ExpectStatus = *req.ExpectStatus
	}
	if req.Failures != nil {
		p.Failures = *req.Failures
	}
	if req.Successes != nil {
		p.Successes = *req.Successes
	}
	if req.Severity != nil {
		p.Severity = gateway.ParseSeverity(*req.Severity, gateway.Severity(*req.Severity))
	}
	bad := map[string]string{}
	for _, d := range []struct {
		key string
		v   *string
		dst *time.Duration
	}{{"interval", req.Interval, &p.Interval}, {"timeout", req.Timeout, &p.Timeout}, {"tls_expiry_warning", req.TLSExpiryWarning, &p.TLSExpiryWarning}} {
		if d.v == nil {
			continue
		}
		v, err := time.ParseDuration(*d.v)
		if err != nil {
			bad[d.key] = fmt.Sprintf("%q is not a duration such as 30s or 5m", *d.v)
			continue
		}
		*d.dst = v
	}
	if req.Component != nil {
		p.ComponentID = ""
		if *req.Component != "" {
			comp, err := s.svc.Store.Component(c.Request().Context(), *req.Component)
			if gateway.ErrorCode(err) == gateway.ENOTFOUND {
				bad["component"] = "no component with this id or name"
			} else if err != nil {
				return err
			} else {
				p.ComponentID = comp.ID
			}
		}
	}
	return p.Check(bad)
}

func (s *Server) listProbes(c echo.Context) error {
	ps, err := s.svc.Store.Probes(c.Request().Context())
	if err != nil {
		return err
	}
	out := list[probeJSON]{Data: make([]probeJSON, 0, len(ps))}
	for _, p := range ps {
		out.Data = append(out.Data, s.toProbeJSON(c, p))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) getProbe(c echo.Context) error {
	p, err := s.svc.Store.Probe(c.Request().Context(), c.Param("name"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.toProbeJSON(c, *p))
}

func (s *Server) createProbe(c echo.Context) error {
	var req probeRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	var p gateway.Probe
	if err := s.applyProbe(c, &p, req); err != nil {
		return err
	}
	if err := s.svc.Store.CreateProbe(c.Request().Context(), &p); err != nil {
		return err
	}
	s.audit(c, "probe.create", "probe", p.ID, map[string]any{"name": p.Name, "kind": p.Kind, "target": p.Target})
	return c.JSON(http.StatusCreated, s.toProbeJSON(c, p))
}

func (s *Server) updateProbe(c echo.Context) error {
	var req probeRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	p, err := s.svc.Store.Probe(ctx, c.Param("name"))
	if err != nil {
		return err
	}
	if err := s.applyProbe(c, p, req); err != nil {
		return err
	}
	if err := s.svc.Store.UpdateProbe(ctx, p); err != nil {
		return err
	}
	s.audit(c, "probe.update", "probe", p.ID, map[string]any{"name": p.Name, "kind": p.Kind, "target": p.Target})
	return c.JSON(http.StatusOK, s.toProbeJSON(c, *p))
}

func (s *Server) deleteProbe(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := s.svc.Store.Probe(ctx, c.Param("name"))
	if err != nil {
		return err
	}
	if err := s.svc.Store.DeleteProbe(ctx, p.ID); err != nil {
		return err
	}
	s.audit(c, "probe.delete", "probe", p.ID, map[string]any{"name": p.Name})
	return c.NoContent(http.StatusNoContent)
}

// probeResultJSON is one run of a probe.
type probeResultJSON struct {
	At         time.Time `json:"at"`
	OK         bool      `json:"ok"`
	DurationMs float64   `json:"duration_ms"`
	Message    string    `json:"message"`
}

// probeResults serves the kept results, newest first: ?limit= (default
// 100, at most the number kept) and ?since= (RFC 3339).
func (s *Server) probeResults(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := s.svc.Store.Probe(ctx, c.Param("name"))
	if err != nil {
		return err
	}
	limit := 100
	if v := c.QueryParam("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > store.ProbeResultsKept {
			return gateway.FieldError("limit", fmt.Sprintf("must be a number from 1 to %d", store.ProbeResultsKept))
		}
	}
	var since time.Time
	if v := c.QueryParam("since"); v != "" {
		if since, err = time.Parse(time.RFC3339, v); err != nil {
			return gateway.FieldError("since", "must be an RFC 3339 time")
		}
	}
	rs, err := s.svc.Store.ProbeResults(ctx, p.ID, since, limit)
	if err != nil {
		return err
	}
	out := list[probeResultJSON]{Data: make([]probeResultJSON, 0, len(rs))}
	for _, r := range rs {
		out.Data = append(out.Data, probeResultJSON{At: r.At, OK: r.OK, Message: r.Message,
			DurationMs: float64(r.Duration.Microseconds()) / 1000})
	}
	return c.JSON(http.StatusOK, out)
}
