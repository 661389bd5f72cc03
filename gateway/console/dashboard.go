package console

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/templates"
)

// The dashboard: what support must see at a glance in an outage. Open
// incidents (drafts first, since nobody outside sees them yet), updates
// that are due, components with the firing alerts behind them, and the
// fan-outs that are still sending. It refreshes itself every 30 s (a meta
// refresh: the page has no form whose input could be lost).

const (
	// dueSoon is how early an update counts as due: the seed's outage
	// promised an update every hour, and a quarter of an hour is the time
	// it takes to write one.
	dueSoon = 15 * time.Minute
	// fanoutWindow is how far back the dashboard looks for fan-outs still
	// sending (retries last hours, not days), and fanoutDone how long a
	// finished one stays listed.
	fanoutWindow = 48 * time.Hour
	fanoutDone   = time.Hour
	// dashboardAlerts bounds the firing alerts read for the components.
	dashboardAlerts = 500
	// refreshSeconds is the dashboard's meta refresh.
	refreshSeconds = 30
)

func (h *Handler) dashboardRoutes(r Router) {
	r.GET("", gateway.RoleViewer, h.dashboard)
}

type dashboardView struct {
	Refresh    int
	Incidents  []incidentRow
	Due        []dueRow
	Components []componentRow
	Fanouts    []fanoutRow
	// AlertsCut is set when more alerts fire than the dashboard reads.
	AlertsCut bool
}

// incidentRow is an incident as lists show it.
type incidentRow struct {
	gateway.Incident
	StatusWord string
	Draft      bool
}

func newIncidentRow(inc gateway.Incident) incidentRow {
	return incidentRow{Incident: inc, StatusWord: templates.StatusWord(inc.Status), Draft: !inc.Published}
}

// dueRow is an open incident whose next update is due soon or overdue.
type dueRow struct {
	ID, Name string
	At       time.Time
	Overdue  bool
	// In says how long until (or since) the update is due: "12 min".
	In string
}

// componentRow is a component with its group and the alerts firing on it.
type componentRow struct {
	gateway.Component
	Group      string
	StatusWord string
	Manual     string // support's manual status in words, if set
	Alerts     []alertView
}

// alertView is one alert as the console shows it, linked to its page
// (source, fingerprint, labels, raw payload).
type alertView struct {
	Summary, Severity, SourceName, Fingerprint, Link string
	Firing                                           bool
}

func newAlertView(a *store.AlertRecord) alertView {
	summary := a.Summary
	if summary == "" {
		summary = a.Labels["alertname"]
	}
	if summary == "" {
		summary = a.Fingerprint
	}
	return alertView{Summary: summary, Severity: string(a.Severity), SourceName: a.SourceName, Fingerprint: a.Fingerprint,
		Firing: a.Status == gateway.AlertFiring,
		Link:   alertPath(a.ID)}
}

// fanoutRow is one event's fan-out and its progress.
type fanoutRow struct {
	ID, Label, Link string
	At              time.Time
	Progress        progress
}

// progress is a fan-out's deliveries by outcome: the counts
// GET /api/v1/events/:id/progress reports, folded for people.
type progress struct {
	Sent, Failed, Queued, Skipped, Total int
}

// Done reports whether nothing is left to send.
func (p progress) Done() bool { return p.Queued == 0 }

// eventProgress reads an event's delivery counts (the store call of the
// API's event progress).
func eventProgress(ctx context.Context, st *store.Store, eventID string) (progress, error) {
	counts, err := st.DeliveryCounts(ctx, eventID)
	if err != nil {
		return progress{}, err
	}
	p := progress{
		Sent:    counts[gateway.DeliverySent],
		Failed:  counts[gateway.DeliveryDead],
		Queued:  counts[gateway.DeliveryQueued] + counts[gateway.DeliveryRetrying] + counts[gateway.DeliverySending],
		Skipped: counts[gateway.DeliverySuppressed] + counts[gateway.DeliveryCancelled],
	}
	p.Total = p.Sent + p.Failed + p.Queued + p.Skipped
	return p, nil
}

// eventLabel names an event for people: the incident or the broadcast.
func eventLabel(ev *gateway.Event) string {
	switch {
	case ev.Payload.Broadcast != nil:
		return "Broadcast: " + ev.Payload.Broadcast.Subject
	case ev.Payload.Incident != nil:
		return ev.Payload.Incident.Name + " (" + string(ev.Type) + ")"
	case len(ev.Payload.Components) > 0:
		return ev.Payload.Components[0].Name + " (" + string(ev.Type) + ")"
	}
	return string(ev.Type)
}

func (h *Handler) dashboard(c echo.Context) error {
	st := h.opt.Store
	ctx, cancel := ctx(c)
	defer cancel()
	now := h.now()
	v := dashboardView{Refresh: refreshSeconds}

	open, err := st.Incidents(ctx, store.IncidentFilter{Status: "open", Limit: 100})
	if err != nil {
		return err
	}
	for _, inc := range open {
		v.Incidents = append(v.Incidents, newIncidentRow(inc))
		if !inc.NextUpdateAt.IsZero() && inc.NextUpdateAt.Before(now.Add(dueSoon)) {
			v.Due = append(v.Due, newDueRow(inc, now))
		}
	}
	// Drafts first (nobody outside sees them yet), then newest first as
	// the store lists them; the most overdue update first.
	slices.SortStableFunc(v.Incidents, func(a, b incidentRow) int {
		return cmp.Compare(boolRank(!a.Draft), boolRank(!b.Draft))
	})
	slices.SortFunc(v.Due, func(a, b dueRow) int { return a.At.Compare(b.At) })

	if v.Components, v.AlertsCut, err = componentRows(ctx, st); err != nil {
		return err
	}
	if v.Fanouts, err = fanoutRows(ctx, st, now); err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "dashboard", "Dashboard", v)
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

func newDueRow(inc gateway.Incident, now time.Time) dueRow {
	d := inc.NextUpdateAt.Sub(now)
	row := dueRow{ID: inc.ID, Name: inc.Name, At: inc.NextUpdateAt, Overdue: d <= 0}
	if row.Overdue {
		d = -d
	}
	row.In = roughDuration(d)
	return row
}

// roughDuration is a duration as a person reads it at a glance.
func roughDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %02d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
}

// componentRows lists the components in page order with the alerts now
// firing on each; cut reports that more alerts fire than were read.
func componentRows(ctx context.Context, st *store.Store) (rows []componentRow, cut bool, err error) {
	comps, err := st.Components(ctx)
	if err != nil {
		return nil, false, err
	}
	groups, err := st.ComponentGroups(ctx)
	if err != nil {
		return nil, false, err
	}
	groupName := map[string]string{}
	for _, g := range groups {
		groupName[g.ID] = g.Name
	}
	firing, err := st.Alerts(ctx, store.AlertFilter{Status: gateway.AlertFiring, Limit: dashboardAlerts})
	if err != nil {
		return nil, false, err
	}
	byComponent := map[string][]alertView{}
	for _, a := range firing {
		for _, ac := range a.Components {
			byComponent[ac.ComponentID] = append(byComponent[ac.ComponentID], newAlertView(a))
		}
	}
	for _, comp := range comps {
		row := componentRow{Component: comp, Group: groupName[comp.GroupID],
			StatusWord: templates.ComponentStatusWord(comp.Status), Alerts: byComponent[comp.ID]}
		if comp.ManualStatus != "" {
			row.Manual = templates.ComponentStatusWord(comp.ManualStatus)
		}
		rows = append(rows, row)
	}
	return rows, len(firing) == dashboardAlerts, nil
}

// fanoutRows lists the fan-outs still sending and those just finished.
func fanoutRows(ctx context.Context, st *store.Store, now time.Time) ([]fanoutRow, error) {
	evs, err := st.FanoutEvents(ctx, now.Add(-fanoutWindow), now.Add(-fanoutDone), 20)
	if err != nil {
		return nil, err
	}
	rows := make([]fanoutRow, 0, len(evs))
	for _, ev := range evs {
		p, err := eventProgress(ctx, st, ev.ID)
		if err != nil {
			return nil, err
		}
		row := fanoutRow{ID: ev.ID, Label: eventLabel(ev), At: ev.CreatedAt, Progress: p}
		if ev.IncidentID != "" {
			row.Link = incidentPath(ev.IncidentID)
		}
		rows = append(rows, row)
	}
	return rows, nil
}
