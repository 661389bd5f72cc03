package console

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // the schedule form's zones, also where the host has no zoneinfo

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/store"
)

// The maintenance screen: schedule a maintenance window, move it, post
// an update, cancel it, and see what Herald will send when. Every action
// calls the incidents service the API's /maintenances handlers call.

func (h *Handler) maintenanceRoutes(r Router) {
	r.GET("/maintenances", gateway.RoleViewer, h.maintenanceList)
	r.GET("/maintenances/new", gateway.RoleSupport, h.maintenanceNew)
	r.POST("/maintenances", gateway.RoleSupport, h.maintenanceSchedule)
	r.GET("/maintenances/:id", gateway.RoleViewer, h.maintenanceShow)
	r.POST("/maintenances/:id/reschedule", gateway.RoleSupport, h.maintenanceReschedule)
	r.POST("/maintenances/:id/rename", gateway.RoleSupport, h.maintenanceRename)
	r.POST("/maintenances/:id/updates", gateway.RoleSupport, h.maintenanceUpdate)
	r.POST("/maintenances/:id/cancel", gateway.RoleSupport, h.maintenanceCancel)
}

// formTime is the layout of <input type="datetime-local">.
const formTime = "2006-01-02T15:04"

// maintenanceRow is a maintenance in the list.
type maintenanceRow struct {
	Inc        gateway.Incident
	Components []string
}

// maintenanceSection is one part of the list, as support reads it: what
// is on now, what comes next (soonest first), what is over (newest first).
type maintenanceSection struct {
	ID, Title, Empty string
	Rows             []maintenanceRow
}

// maintenanceListLimit bounds the list; older maintenances stay in the API.
const maintenanceListLimit = 200

func (h *Handler) maintenanceList(c echo.Context) error {
	st := h.opt.Store
	cx, cancel := ctx(c)
	defer cancel()
	list, err := st.Incidents(cx, store.IncidentFilter{Kind: gateway.KindMaintenance, Limit: maintenanceListLimit})
	if err != nil {
		return err
	}
	_, names, err := componentGroups(c, st)
	if err != nil {
		return err
	}
	v := []maintenanceSection{
		{ID: "in-progress", Title: "In progress", Empty: "Nothing is under maintenance now."},
		{ID: "scheduled", Title: "Scheduled", Empty: "No maintenance is scheduled."},
		{ID: "completed", Title: "Completed", Empty: "No maintenance has completed yet."},
	}
	for _, m := range list {
		row := maintenanceRow{Inc: m, Components: componentNames(m, names)}
		i := 0 // in progress, verifying
		switch m.Status {
		case gateway.MaintenanceScheduled:
			i = 1
		case gateway.MaintenanceCompleted:
			i = 2
		}
		v[i].Rows = append(v[i].Rows, row)
	}
	slices.SortStableFunc(v[1].Rows, func(a, b maintenanceRow) int { return a.Inc.ScheduledFor.Compare(b.Inc.ScheduledFor) })
	return h.render(c, http.StatusOK, "maintenance", "Maintenance", v)
}

// componentNames names a maintenance's components, sorted.
func componentNames(m gateway.Incident, names map[string]string) []string {
	out := make([]string, 0, len(m.Components))
	for id := range m.Components {
		out = append(out, names[id])
	}
	slices.Sort(out)
	return out
}

// maintenanceForm is the schedule form, as posted or to render.
type maintenanceForm struct {
	Name, Body   string
	Components   []string
	Starts, Ends string // datetime-local values, in Zone
	Zone         string // an IANA zone name; UTC by default
	Auto, Notify bool
	// Key is the form's idempotency key, made when the form is first
	// rendered and kept through a refusal: posting it twice schedules one
	// maintenance.
	Key    string
	Error  string
	Fields map[string]string
	Groups []componentGroup
	Zones  []string
}

// Choices are the form's component checkboxes.
func (f maintenanceForm) Choices() componentPicker {
	return componentPicker{Groups: f.Groups, Chosen: f.Components,
		None: "There are no components yet; add one on the Components screen first."}
}

func (h *Handler) maintenanceNew(c echo.Context) error {
	start := h.now().Add(24 * time.Hour).Truncate(time.Hour)
	f := maintenanceForm{Auto: true, Notify: true, Zone: "UTC", Key: newIdempotencyKey(),
		Starts: start.Format(formTime), Ends: start.Add(2 * time.Hour).Format(formTime)}
	return h.renderMaintenanceForm(c, http.StatusOK, f, nil)
}

func (h *Handler) renderMaintenanceForm(c echo.Context, status int, f maintenanceForm, problem error) error {
	st := h.opt.Store
	var err error
	if f.Groups, _, err = componentGroups(c, st); err != nil {
		return err
	}
	f.Error, f.Fields = problemText(problem)
	f.Zones = zoneChoices(f.Zone)
	return h.render(c, status, "maintenance-new", "Schedule maintenance", f)
}

// problemText is what a refused form shows: the message, and the
// message per field.
func problemText(err error) (string, map[string]string) {
	if err == nil {
		return "", nil
	}
	var fields map[string]string
	var ge *gateway.Error
	if errors.As(err, &ge) {
		fields = ge.Fields
	}
	return gateway.ErrorMessage(err), fields
}

// zoneChoices are the zones a time can be given in: UTC, and the zone the
// form was posted with (the browser's, which maintenance.js adds).
func zoneChoices(zone string) []string {
	if zone == "" || zone == "UTC" {
		return []string{"UTC"}
	}
	return []string{"UTC", zone}
}

// parseWindow reads a start and an end given in zone.
func parseWindow(starts, ends, zone string) (from, until time.Time, err error) {
	if zone == "" {
		zone = "UTC"
	}
	loc, lerr := time.LoadLocation(zone)
	if lerr != nil || strings.HasPrefix(zone, "/") {
		return from, until, gateway.FieldError("zone", "is not a time zone this server knows")
	}
	if from, err = time.ParseInLocation(formTime, starts, loc); err != nil {
		return from, until, gateway.FieldError("scheduled_for", "must be a date and time (YYYY-MM-DDTHH:MM)")
	}
	if until, err = time.ParseInLocation(formTime, ends, loc); err != nil {
		return from, until, gateway.FieldError("scheduled_until", "must be a date and time (YYYY-MM-DDTHH:MM)")
	}
	return from.UTC(), until.UTC(), nil
}

func (h *Handler) maintenanceSchedule(c echo.Context) error {
	params, err := c.FormParams()
	if err != nil {
		return gateway.Errorf(gateway.EINVALID, "The form could not be read.")
	}
	f := maintenanceForm{Name: params.Get("name"), Body: params.Get("body"), Components: params["components"],
		Starts: params.Get("starts"), Ends: params.Get("ends"), Zone: params.Get("zone"),
		Auto: params.Get("auto") == "on", Notify: params.Get("notify") == "on", Key: params.Get("idempotency_key")}
	svc := h.opt.Incidents
	from, until, err := parseWindow(f.Starts, f.Ends, f.Zone)
	if err != nil {
		return h.renderMaintenanceForm(c, http.StatusUnprocessableEntity, f, err)
	}
	cx, cancel := ctx(c)
	defer cancel()
	m, err := svc.Schedule(cx, Principal(c), incidents.NewMaintenance{Name: f.Name, Body: f.Body, Components: f.Components,
		ScheduledFor: from, ScheduledUntil: until, AutoTransition: f.Auto, Notify: f.Notify, IdempotencyKey: f.Key})
	if refusal(err) {
		return h.renderMaintenanceForm(c, http.StatusUnprocessableEntity, f, err)
	} else if err != nil {
		return err
	}
	h.wake()
	return h.redirect(c, maintenancePath(m.ID), "Maintenance scheduled.")
}

func maintenancePath(id string) string { return Prefix + "/maintenances/" + id }

// notice is one notification of a maintenance: sent (with its deliveries)
// or still to come (with the recipients it would have now).
type notice struct {
	At   time.Time
	What string
	Sent bool
	// Planning is set while a sent notice's deliveries are not planned
	// yet (the dispatcher plans them within a moment).
	Planning bool
	// Progress counts a sent notice's deliveries; Recipients is how many
	// a coming one would reach now.
	Progress   progress
	Recipients int
}

// maintenanceView is one maintenance's page.
type maintenanceView struct {
	Inc        *gateway.Incident
	Components []string
	Notices    []notice
	// Manual is set when nothing is automatic: the maintenance starts and
	// completes only with support's updates.
	Manual   bool
	Statuses []gateway.IncidentStatus
	// UpdateKey is the update form's idempotency key, new on each
	// rendering: posting the form twice adds one update and sends once.
	UpdateKey string
	// The reschedule form's values, in UTC.
	Starts, Ends string
	Error        string
	Fields       map[string]string
}

// noticeWords names the event types a maintenance sends.
var noticeWords = map[gateway.EventType]string{
	gateway.EventMaintenanceScheduled: "Scheduled notice",
	gateway.EventMaintenanceStarted:   "Maintenance started",
	gateway.EventMaintenanceCompleted: "Maintenance completed",
}

func (h *Handler) maintenanceShow(c echo.Context) error {
	return h.renderMaintenance(c, http.StatusOK, nil)
}

// loadMaintenance reads the maintenance of the path's id; ENOTFOUND for
// an incident, as the API's /maintenances/:id answers.
func (h *Handler) loadMaintenance(c echo.Context, st *store.Store) (*gateway.Incident, error) {
	cx, cancel := ctx(c)
	defer cancel()
	m, err := st.Incident(cx, c.Param("id"))
	if err == nil && m.Kind != gateway.KindMaintenance {
		err = gateway.Errorf(gateway.ENOTFOUND, "There is no maintenance %q.", c.Param("id"))
	}
	return m, err
}

func (h *Handler) renderMaintenance(c echo.Context, status int, problem error) error {
	st := h.opt.Store
	m, err := h.loadMaintenance(c, st)
	if err != nil {
		return err
	}
	_, names, err := componentGroups(c, st)
	if err != nil {
		return err
	}
	v := maintenanceView{Inc: m, Components: componentNames(*m, names), Statuses: gateway.MaintenanceStatuses, UpdateKey: newIdempotencyKey(),
		Starts: m.ScheduledFor.UTC().Format(formTime), Ends: m.ScheduledUntil.UTC().Format(formTime)}
	v.Error, v.Fields = problemText(problem)
	if v.Notices, v.Manual, err = h.maintenanceNotices(c, st, m); err != nil {
		return err
	}
	return h.render(c, status, "maintenance-show", m.Name, v)
}

// maintenanceNotices lists what a maintenance has sent and what it will
// send, as the incidents service's timers do it: a scheduled notice when
// it was scheduled with notify on; with auto-transition, a started notice
// at its start time (while it is still scheduled) and a completed notice
// at its end time, both always notified. Coming notices count the
// recipients they would have now, with the planner's selection.
func (h *Handler) maintenanceNotices(c echo.Context, st *store.Store, m *gateway.Incident) ([]notice, bool, error) {
	cx, cancel := ctx(c)
	defer cancel()
	events, err := st.IncidentEvents(cx, m.ID, 100)
	if err != nil {
		return nil, false, err
	}
	var out []notice
	for _, ev := range events {
		n := notice{At: ev.CreatedAt, What: noticeWords[ev.Type], Sent: true, Planning: ev.PlannedAt.IsZero()}
		if n.What == "" {
			n.What = string(ev.Type)
		}
		if n.Progress, err = eventProgress(cx, st, ev.ID); err != nil {
			return nil, false, err
		}
		out = append(out, n)
	}
	if m.Status == gateway.MaintenanceCompleted {
		return out, false, nil
	}
	if !m.AutoTransition {
		return out, true, nil
	}
	probe := gateway.Event{Type: gateway.EventMaintenanceStarted, Notify: true}
	for id := range m.Components {
		probe.ComponentIDs = append(probe.ComponentIDs, id)
	}
	recipients, err := st.CountRecipients(cx, probe)
	if err != nil {
		return nil, false, err
	}
	if m.Status == gateway.MaintenanceScheduled {
		out = append(out, notice{At: m.ScheduledFor, What: noticeWords[gateway.EventMaintenanceStarted], Recipients: recipients})
	}
	out = append(out, notice{At: m.ScheduledUntil, What: noticeWords[gateway.EventMaintenanceCompleted], Recipients: recipients})
	return out, false, nil
}

func (h *Handler) maintenanceReschedule(c echo.Context) error {
	from, until, err := parseWindow(c.FormValue("starts"), c.FormValue("ends"), c.FormValue("zone"))
	if err != nil {
		return h.maintenanceDone(c, err, "")
	}
	return h.maintenanceAction(c, "Maintenance rescheduled.", func(cx context.Context, svc *incidents.Service) error {
		_, err := svc.Reschedule(cx, Principal(c), c.Param("id"), from, until)
		return err
	})
}

// maintenanceRename corrects the maintenance's name (as PATCH
// /api/v1/incidents/:id does); it sends nothing by itself.
func (h *Handler) maintenanceRename(c echo.Context) error {
	return h.maintenanceAction(c, "Maintenance renamed.", func(cx context.Context, svc *incidents.Service) error {
		name := strings.TrimSpace(c.FormValue("name"))
		_, err := svc.Edit(cx, Principal(c), c.Param("id"), &name, nil)
		return err
	})
}

func (h *Handler) maintenanceUpdate(c echo.Context) error {
	return h.maintenanceAction(c, "Update posted.", func(cx context.Context, svc *incidents.Service) error {
		_, err := svc.PostUpdate(cx, Principal(c), c.Param("id"), incidents.NewUpdate{
			Status: gateway.IncidentStatus(c.FormValue("status")), Body: c.FormValue("body"), Notify: c.FormValue("notify") == "on",
			IdempotencyKey: c.FormValue("idempotency_key")})
		return err
	})
}

func (h *Handler) maintenanceCancel(c echo.Context) error {
	return h.maintenanceAction(c, "Maintenance cancelled.", func(cx context.Context, svc *incidents.Service) error {
		_, err := svc.Cancel(cx, Principal(c), c.Param("id"), c.FormValue("notify") == "on")
		return err
	})
}

// maintenanceAction runs fn on the path's maintenance (an incident's id
// is refused) and ends as maintenanceDone does.
func (h *Handler) maintenanceAction(c echo.Context, done string, fn func(context.Context, *incidents.Service) error) error {
	svc := h.opt.Incidents
	if err := h.checkMaintenance(c); err != nil {
		return err
	}
	cx, cancel := ctx(c)
	defer cancel()
	return h.maintenanceDone(c, fn(cx, svc), done)
}

// checkMaintenance refuses an incident's id on the maintenance routes.
func (h *Handler) checkMaintenance(c echo.Context) error {
	st := h.opt.Store
	_, err := h.loadMaintenance(c, st)
	return err
}

// maintenanceDone ends an action on one maintenance: back to its page
// with done, or the page again with what was refused.
func (h *Handler) maintenanceDone(c echo.Context, err error, done string) error {
	if refusal(err) {
		return h.renderMaintenance(c, http.StatusUnprocessableEntity, err)
	} else if err != nil {
		return err
	}
	h.wake()
	return h.redirect(c, maintenancePath(c.Param("id")), done)
}
