package web

import (
	"sort"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

const htmlType = "text/html; charset=utf-8"

// pastDays is how many days, today included, the status page lists under
// "Past incidents"; older ones are in the history.
const pastDays = 7

// statusView is the status page.
type statusView struct {
	layoutView
	Indicator    gateway.Indicator
	Incidents    []incidentView // unresolved incidents, newest first
	Maintenances []incidentView // in progress first, then upcoming by start
	Sections     []sectionView
	Past         []dayView // today first
	Now          time.Time
}

func (h *Handler) statusPage(c echo.Context) error {
	return h.serve(c, resource{key: "/", ctype: htmlType, clock: true, render: h.renderStatus})
}

// uptimeStart is the first instant the uptime bars show.
func uptimeStart(now time.Time) time.Time {
	return now.UTC().Truncate(day).Add(-(UptimeDays - 1) * day)
}

func (h *Handler) renderStatus(r *request) ([]byte, error) {
	today := r.now.Truncate(day)
	pastFrom := today.Add(-(pastDays - 1) * day)
	snap, err := r.st.PageSnapshot(r.ctx, store.PageSelection{ClosedSince: pastFrom, Limit: 100}, uptimeStart(r.now))
	if err != nil {
		return nil, err
	}
	cat := newCatalog(snap)
	v := statusView{layoutView: h.layout(""), Now: r.now}
	var open []gateway.Incident
	for i := pastDays - 1; i >= 0; i-- {
		v.Past = append(v.Past, dayView{Date: pastFrom.Add(time.Duration(i) * day)})
	}
	for _, inc := range snap.Incidents {
		iv := h.incident(cat, inc, false)
		switch {
		case inc.Status.Open() && inc.Kind == gateway.KindMaintenance:
			v.Maintenances = append(v.Maintenances, iv)
		case inc.Status.Open():
			v.Incidents = append(v.Incidents, iv)
			open = append(open, inc)
		default: // closed: under the day it began, when that is one of the days shown
			if i := int(today.Sub(iv.Start.UTC().Truncate(day)) / day); !iv.Start.Before(pastFrom) && i >= 0 && i < pastDays {
				v.Past[i].Incidents = append(v.Past[i].Incidents, iv)
			}
		}
	}
	sort.SliceStable(v.Maintenances, func(i, j int) bool {
		a, b := v.Maintenances[i], v.Maintenances[j]
		if (a.Status == gateway.MaintenanceScheduled) != (b.Status == gateway.MaintenanceScheduled) {
			return a.Status != gateway.MaintenanceScheduled
		}
		return a.ScheduledFor.Before(b.ScheduledFor)
	})
	v.Indicator = gateway.Overall(snap.Components, open)
	v.Sections = cat.sections(func(c gateway.Component) Uptime {
		return ComputeUptime(c, snap.Changes, r.now, UptimeDays)
	})
	charts, err := probeCharts(r)
	if err != nil {
		return nil, err
	}
	for _, s := range v.Sections {
		if s.Component != nil {
			s.Component.Chart = charts[s.Component.ID]
		}
		if s.Group != nil {
			for i := range s.Group.Components {
				s.Group.Components[i].Chart = charts[s.Group.Components[i].ID]
			}
		}
	}
	return h.tmpl.render("status", v)
}

// incidentPageView is an incident's permalink.
type incidentPageView struct {
	layoutView
	Incident incidentView
}

func (h *Handler) incidentPage(c echo.Context) error {
	id := c.Param("id")
	return h.serve(c, resource{key: "/incidents/" + id, ctype: htmlType, render: func(r *request) ([]byte, error) {
		inc, err := r.st.Incident(r.ctx, id)
		if err == nil && !inc.Published {
			err = gateway.Errorf(gateway.ENOTFOUND, "No incident %q on this page.", id)
		}
		if err != nil {
			return nil, err
		}
		cat, err := loadCatalog(r)
		if err != nil {
			return nil, err
		}
		iv := h.incident(cat, *inc, true)
		return h.tmpl.render("incident", incidentPageView{layoutView: h.layout(inc.Name), Incident: iv})
	}})
}

// loadCatalog reads the components and groups alone (two queries).
func loadCatalog(r *request) (*catalog, error) {
	groups, err := r.st.ComponentGroups(r.ctx)
	if err != nil {
		return nil, err
	}
	comps, err := r.st.Components(r.ctx)
	if err != nil {
		return nil, err
	}
	return newCatalog(&store.PageSnapshot{Groups: groups, Components: comps}), nil
}

// historyView is one month of the history.
type historyView struct {
	layoutView
	Month      time.Time
	Incidents  []incidentView
	Prev, Next time.Time // zero when there is no such page
}

// historyPage serves /history: one month per page, the current one by
// default; ?month=2021-09 names a month and ?page=N counts months back
// (page=1 is the current month).
func (h *Handler) historyPage(c echo.Context) error {
	now := h.now()
	current := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	month := current
	if m := c.QueryParam("month"); m != "" {
		t, err := time.Parse("2006-01", m)
		if err != nil {
			return gateway.Errorf(gateway.EINVALID, "The month must look like 2021-09.")
		}
		month = t
	} else if p := c.QueryParam("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 1200 {
			return gateway.Errorf(gateway.EINVALID, "The page must be a number from 1.")
		}
		month = current.AddDate(0, 1-n, 0)
	}
	return h.serve(c, resource{key: "/history?month=" + month.Format("2006-01"), ctype: htmlType,
		render: func(r *request) ([]byte, error) {
			next := month.AddDate(0, 1, 0)
			snap, err := r.st.PageSnapshot(r.ctx, store.PageSelection{From: month, To: next, Limit: 1000}, time.Time{})
			if err != nil {
				return nil, err
			}
			cat := newCatalog(snap)
			v := historyView{layoutView: h.layout("History, " + month.Format("January 2006")), Month: month}
			for _, inc := range snap.Incidents {
				v.Incidents = append(v.Incidents, h.incident(cat, inc, false))
			}
			// Newest start first: a maintenance stands where it began.
			sort.SliceStable(v.Incidents, func(i, j int) bool { return v.Incidents[i].Start.After(v.Incidents[j].Start) })
			if first := r.version.FirstIncidentAt; !first.IsZero() && first.Before(month) {
				v.Prev = month.AddDate(0, -1, 0)
			}
			if month.Before(current) {
				v.Next = next
			}
			return h.tmpl.render("history", v)
		}})
}
