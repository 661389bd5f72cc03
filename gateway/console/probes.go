package console

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// The probes screen (admins): each probe with its last result and its
// success rate over its recent runs; creating and deleting probes. The
// rules are the domain's (gateway.Probe.Validate), the same the config
// file and the API apply.

func (h *Handler) probesRoutes(r Router) {
	r.GET("/probes", gateway.RoleAdmin, h.probeList)
	r.POST("/probes", gateway.RoleAdmin, h.probeCreate)
	r.POST("/probes/:id/delete", gateway.RoleAdmin, h.probeDelete)
}

// recentRuns is how many of a probe's runs the screen sums up.
const recentRuns = 100

type probeRow struct {
	gateway.Probe
	Component string
	Last      *gateway.ProbeResult
	// Uptime is the share of good runs among the recent ones, in percent.
	Uptime float64
	Runs   int
}

type probeListView struct {
	Probes     []probeRow
	Components []gateway.Component
	Kinds      []string
	Records    []string
}

func (h *Handler) probeList(c echo.Context) error {
	return h.withStore(c, func(ctx context.Context, st *store.Store) error {
		ps, err := st.Probes(ctx)
		if err != nil {
			return err
		}
		comps, err := st.Components(ctx)
		if err != nil {
			return err
		}
		names := map[string]string{}
		for _, comp := range comps {
			names[comp.ID] = comp.Name
		}
		v := probeListView{Components: comps, Kinds: gateway.ProbeKinds, Records: gateway.DNSRecordTypes}
		for _, p := range ps {
			rs, err := st.ProbeResults(ctx, p.ID, time.Time{}, recentRuns)
			if err != nil {
				return err
			}
			row := probeRow{Probe: p, Component: names[p.ComponentID], Runs: len(rs)}
			if len(rs) > 0 {
				row.Last = &rs[0]
				ok := 0
				for _, r := range rs {
					if r.OK {
						ok++
					}
				}
				row.Uptime = 100 * float64(ok) / float64(len(rs))
			}
			v.Probes = append(v.Probes, row)
		}
		return h.render(c, http.StatusOK, "probes", "Probes", v)
	})
}

// probeForm reads the new-probe form: lists are comma-separated, blank
// fields take the defaults. Every problem names its field.
func probeForm(c echo.Context, st *store.Store) (*gateway.Probe, error) {
	f := func(k string) string { return strings.TrimSpace(c.FormValue(k)) }
	list := func(k string) []string {
		var out []string
		for _, v := range strings.Split(f(k), ",") {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	p := &gateway.Probe{Name: f("name"), Kind: f("kind"), Target: f("target"), BodyContains: f("body_contains"),
		Resolvers: list("resolvers"), Expect: list("expect"), Severity: gateway.Severity(f("severity"))}
	if p.Kind == gateway.ProbeDNS {
		p.Record = f("record")
	}
	bad := map[string]string{}
	for _, d := range []struct {
		key string
		dst *time.Duration
	}{{"interval", &p.Interval}, {"timeout", &p.Timeout}} {
		if v := f(d.key); v != "" {
			n, err := time.ParseDuration(v)
			if err != nil {
				bad[d.key] = "is not a duration such as 30s or 5m"
			}
			*d.dst = n
		}
	}
	for _, d := range []struct {
		key string
		dst *int
	}{{"expect_status", &p.ExpectStatus}, {"failures", &p.Failures}, {"successes", &p.Successes}} {
		if v := f(d.key); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				bad[d.key] = "is not a number"
			}
			*d.dst = n
		}
	}
	if name := f("component"); name != "" {
		comp, err := st.Component(c.Request().Context(), name)
		if gateway.ErrorCode(err) == gateway.ENOTFOUND {
			bad["component"] = "no such component"
		} else if err != nil {
			return nil, err
		} else {
			p.ComponentID = comp.ID
		}
	}
	if err := p.Check(bad); err != nil {
		return nil, err
	}
	return p, nil
}

func (h *Handler) probeCreate(c echo.Context) error {
	return h.withStore(c, func(ctx context.Context, st *store.Store) error {
		p, err := probeForm(c, st)
		if err != nil {
			return err
		}
		if err := st.CreateProbe(ctx, p); err != nil {
			return err
		}
		h.audit(c, "probe.create", "probe", p.ID, map[string]any{"name": p.Name, "kind": p.Kind, "target": p.Target})
		return h.redirect(c, Prefix+"/probes", "Probe "+p.Name+" created: it runs within a few seconds.")
	})
}

func (h *Handler) probeDelete(c echo.Context) error {
	return h.withStore(c, func(ctx context.Context, st *store.Store) error {
		p, err := st.Probe(ctx, c.Param("id"))
		if err != nil {
			return err
		}
		if err := st.DeleteProbe(ctx, p.ID); err != nil {
			return err
		}
		h.audit(c, "probe.delete", "probe", p.ID, map[string]any{"name": p.Name})
		return h.redirect(c, Prefix+"/probes", "Probe "+p.Name+" deleted.")
	})
}
