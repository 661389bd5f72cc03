package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/templates"
)

// The incidents screen: the list (open first, then recently resolved), the
// "declare an incident" form, and one incident's page (incidents_show.go)
// with its timeline and every action support takes on it. Each action
// calls the same incidents.Service function as the admin API's handler
// (gateway/http/incidents.go) with the signed-in person, so the service
// writes the audit entry under that person's name.

const (
	// recentResolved is how many resolved incidents the list shows.
	recentResolved = 20
	// defaultResolveText is the resolve button's words when none are
	// given, as the API's resolve says.
	defaultResolveText = "This incident has been resolved."
	// componentField prefixes a component's status field in the forms:
	// component.<id> = status, "" for no change.
	componentField = "component."
)

func (h *Handler) incidentsRoutes(r Router) {
	r.GET("/incidents", gateway.RoleViewer, h.incidentList)
	r.GET("/incidents/new", gateway.RoleSupport, h.incidentNewForm)
	r.POST("/incidents", gateway.RoleSupport, h.incidentCreate)
	r.GET("/incidents/:id", gateway.RoleViewer, h.incidentPage)
	r.GET("/incidents/alerts/:alert", gateway.RoleViewer, h.alertPage)
	r.POST("/incidents/:id/updates", gateway.RoleSupport, h.incidentUpdate)
	r.POST("/incidents/:id/publish", gateway.RoleSupport, h.incidentPublish)
	r.POST("/incidents/:id/postmortem", gateway.RoleSupport, h.incidentPostmortem)
	r.POST("/incidents/:id/resolve", gateway.RoleSupport, h.incidentResolve)
}

func incidentPath(id string) string { return Prefix + "/incidents/" + url.PathEscape(id) }

type incidentListView struct {
	Open, Resolved []incidentRow
}

func (h *Handler) incidentList(c echo.Context) error {
	st := h.opt.Store
	ctx, cancel := ctx(c)
	defer cancel()
	var v incidentListView
	for _, part := range []struct {
		status string
		limit  int
		into   *[]incidentRow
	}{{"open", 100, &v.Open}, {"resolved", recentResolved, &v.Resolved}} {
		list, err := st.Incidents(ctx, store.IncidentFilter{Status: part.status, Limit: part.limit})
		if err != nil {
			return err
		}
		for _, inc := range list {
			*part.into = append(*part.into, newIncidentRow(inc))
		}
	}
	return h.render(c, http.StatusOK, "incidents", "Incidents", v)
}

// option is one choice of a select.
type option struct{ Value, Label string }

// incidentStatusOptions are the statuses support may give an incident
// (postmortem has its own form).
func incidentStatusOptions() []option {
	out := make([]option, 0, 4)
	for _, s := range []gateway.IncidentStatus{gateway.Investigating, gateway.Identified, gateway.Monitoring, gateway.Resolved} {
		out = append(out, option{string(s), templates.StatusWord(s)})
	}
	return out
}

// componentStatusOptions are the component statuses, in words.
func componentStatusOptions() []option {
	out := make([]option, 0, len(gateway.ComponentStatuses))
	for _, s := range gateway.ComponentStatuses {
		out = append(out, option{string(s), templates.ComponentStatusWord(s)})
	}
	return out
}

// nextUpdateOptions are the choices of "next update in" (minutes); the
// seed's outage promised one every hour.
var nextUpdateOptions = []option{{"", "No promise"}, {"15", "15 minutes"}, {"30", "30 minutes"},
	{"60", "1 hour"}, {"120", "2 hours"}, {"240", "4 hours"}}

// componentChoice is one component in a form: its status now, the status
// the incident gives it, and the status chosen in the form ("" no change).
type componentChoice struct {
	ID, Name, Group string
	Status          gateway.ComponentStatus
	Now             string // the component's status, in words
	InIncident      bool
	Chosen          string
}

// updateForm is the values of an update (or a new incident), as typed, so
// that a preview or a refused post shows them again.
type updateForm struct {
	Name, Impact, Status, Template, Body, NextIn string
	// Key is the form's idempotency key, made when the form is first
	// shown and carried through previews and refusals.
	Key           string
	Notify, Draft bool
	Chosen        map[string]string // component id → status
	Error         string
}

// readUpdateForm reads the update fields; the message is the text typed,
// or the chosen canned text when none was.
func readUpdateForm(c echo.Context, canned []cannedText) (updateForm, error) {
	form, err := c.FormParams()
	if err != nil {
		return updateForm{}, gateway.Errorf(gateway.EINVALID, "The form could not be read.")
	}
	f := updateForm{Name: strings.TrimSpace(form.Get("name")), Impact: form.Get("impact"), Status: form.Get("status"),
		Template: form.Get("template"), Body: strings.TrimSpace(form.Get("body")), NextIn: form.Get("next_update_in"),
		Notify: form.Get("notify") != "", Draft: form.Get("draft") != "", Chosen: map[string]string{}, Key: form.Get("idempotency_key")}
	for k, vs := range form {
		if id, ok := strings.CutPrefix(k, componentField); ok && len(vs) > 0 && vs[0] != "" {
			f.Chosen[id] = vs[0]
		}
	}
	if f.Body == "" {
		for _, t := range canned {
			if t.Key == f.Template {
				f.Body = t.Text
			}
		}
	}
	return f, nil
}

// components maps the chosen statuses for the service.
func (f updateForm) components() map[string]gateway.ComponentStatus {
	out := make(map[string]gateway.ComponentStatus, len(f.Chosen))
	for id, st := range f.Chosen {
		out[id] = gateway.ComponentStatus(st)
	}
	return out
}

// nextUpdateAt is the promised time of the next update, or zero.
func (f updateForm) nextUpdateAt(now time.Time) (time.Time, error) {
	if f.NextIn == "" {
		return time.Time{}, nil
	}
	min, err := strconv.Atoi(f.NextIn)
	if err != nil || min < 1 || min > 7*24*60 {
		return time.Time{}, gateway.FieldError("next_update_in", "must be a number of minutes up to a week")
	}
	return now.Add(time.Duration(min) * time.Minute).Truncate(time.Minute), nil
}

// update is the form as the service's NewUpdate.
func (f updateForm) update(now time.Time) (incidents.NewUpdate, error) {
	next, err := f.nextUpdateAt(now)
	return incidents.NewUpdate{Status: gateway.IncidentStatus(f.Status), Body: f.Body, Components: f.components(),
		Notify: f.Notify, NextUpdateAt: next, IdempotencyKey: f.Key}, err
}

// componentChoices lists every component for a form, marking the
// incident's (inc may be nil) and the statuses chosen.
func componentChoices(ctx context.Context, st *store.Store, inc *gateway.Incident, chosen map[string]string) ([]componentChoice, error) {
	comps, err := st.Components(ctx)
	if err != nil {
		return nil, err
	}
	groups, err := st.ComponentGroups(ctx)
	if err != nil {
		return nil, err
	}
	groupName := map[string]string{}
	for _, g := range groups {
		groupName[g.ID] = g.Name
	}
	out := make([]componentChoice, 0, len(comps))
	for _, comp := range comps {
		ch := componentChoice{ID: comp.ID, Name: comp.Name, Group: groupName[comp.GroupID], Status: comp.Status,
			Now: templates.ComponentStatusWord(comp.Status), Chosen: chosen[comp.ID]}
		if inc != nil {
			_, ch.InIncident = inc.Components[comp.ID]
		}
		out = append(out, ch)
	}
	// The incident's own components first: those are the ones an update
	// usually changes.
	slices.SortStableFunc(out, func(a, b componentChoice) int { return boolRank(!a.InIncident) - boolRank(!b.InIncident) })
	return out, nil
}

// newIncidentView is the "declare an incident" form.
type newIncidentView struct {
	Form         updateForm
	Statuses     []option
	Impacts      []option
	Components   []componentChoice
	CompStatuses []option
	NextUpdate   []option
	Canned       []cannedText
}

var impactOptions = []option{{"", "From the components"}, {"none", "None"}, {"minor", "Minor"}, {"major", "Major"}, {"critical", "Critical"}}

func (h *Handler) incidentNewForm(c echo.Context) error {
	return h.renderNewIncident(c, http.StatusOK, updateForm{Status: string(gateway.Investigating), Notify: true, NextIn: "60", Chosen: map[string]string{},
		Key: newIdempotencyKey()})
}

func (h *Handler) renderNewIncident(c echo.Context, status int, f updateForm) error {
	st := h.opt.Store
	ctx, cancel := ctx(c)
	defer cancel()
	comps, err := componentChoices(ctx, st, nil, f.Chosen)
	if err != nil {
		return err
	}
	return h.render(c, status, "incident", "Declare an incident", newIncidentView{Form: f,
		Statuses: incidentStatusOptions(), Impacts: impactOptions, Components: comps,
		CompStatuses: componentStatusOptions(), NextUpdate: nextUpdateOptions, Canned: cannedTexts(nil)})
}

func (h *Handler) incidentCreate(c echo.Context) error {
	svc := h.opt.Incidents
	f, err := readUpdateForm(c, cannedTexts(nil))
	if err != nil {
		return err
	}
	next, err := f.nextUpdateAt(h.now())
	if err == nil {
		var inc *gateway.Incident
		inc, err = svc.Create(c.Request().Context(), Principal(c), incidents.NewIncident{Name: f.Name,
			Status: gateway.IncidentStatus(f.Status), Impact: gateway.Impact(f.Impact), Body: f.Body,
			Components: f.components(), Notify: f.Notify, Draft: f.Draft, NextUpdateAt: next, IdempotencyKey: f.Key})
		if err == nil {
			msg := "Incident declared."
			if f.Draft {
				msg = "Draft saved: nobody outside sees it until you publish it."
			}
			return h.redirect(c, incidentPath(inc.ID), msg)
		}
	}
	if !formError(err) {
		return err
	}
	f.Error = gateway.ErrorMessage(err)
	return h.renderNewIncident(c, http.StatusUnprocessableEntity, f)
}

// formError reports whether err is about what was typed: the form is then
// shown again with the message, keeping every word typed.
func formError(err error) bool {
	switch gateway.ErrorCode(err) {
	case gateway.EINVALID, gateway.EUNPROCESSABLE:
		return true
	}
	return false
}

func (h *Handler) incidentPublish(c echo.Context) error {
	svc := h.opt.Incidents
	if _, err := svc.Publish(c.Request().Context(), Principal(c), c.Param("id")); err != nil {
		return err
	}
	return h.redirect(c, incidentPath(c.Param("id")), "Published: the incident is on the status page and subscribers are being notified.")
}

func (h *Handler) incidentResolve(c echo.Context) error {
	svc := h.opt.Incidents
	body := strings.TrimSpace(c.FormValue("body"))
	if body == "" {
		body = defaultResolveText
	}
	_, err := svc.Resolve(c.Request().Context(), Principal(c), c.Param("id"),
		incidents.NewUpdate{Body: body, Notify: c.FormValue("notify") != "", IdempotencyKey: c.FormValue("idempotency_key")})
	if err != nil {
		return err
	}
	return h.redirect(c, incidentPath(c.Param("id")), "Incident resolved.")
}

// IsNew tells the incident template which page it renders.
func (newIncidentView) IsNew() bool { return true }

// IsNew tells the incident template which page it renders.
func (*incidentView) IsNew() bool { return false }

// alertView's link: an alert's own page, under the incidents screen since
// that is where support meets alerts (the sources screen is for admins).
func alertPath(id int64) string { return Prefix + "/incidents/alerts/" + strconv.FormatInt(id, 10) }

// alertPageView is one alert with everything its source sent.
type alertPageView struct {
	*store.AlertRecord
	Labels, Annotations []option
	Components          []string
	Generator           string // the monitoring tool's link, when it is http(s)
	Raw                 string
}

// alertPage shows one alert: its source and fingerprint, labels,
// annotations, the components it routes to, its incident and the raw
// payload as received.
func (h *Handler) alertPage(c echo.Context) error {
	st := h.opt.Store
	id, err := strconv.ParseInt(c.Param("alert"), 10, 64)
	if err != nil || id <= 0 {
		return gateway.Errorf(gateway.ENOTFOUND, "There is no alert %q.", c.Param("alert"))
	}
	ctx, cancel := ctx(c)
	defer cancel()
	a, err := st.Alert(ctx, id)
	if err != nil {
		return err
	}
	comps, err := st.Components(ctx)
	if err != nil {
		return err
	}
	v := alertPageView{AlertRecord: a, Labels: sortedPairs(a.Labels), Annotations: sortedPairs(a.Annotations), Raw: string(a.Raw)}
	for _, ac := range a.Components {
		for _, comp := range comps {
			if comp.ID == ac.ComponentID {
				v.Components = append(v.Components, comp.Name+": "+templates.ComponentStatusWord(ac.Status))
			}
		}
	}
	if u, err := url.Parse(a.GeneratorURL); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		v.Generator = a.GeneratorURL
	}
	return h.render(c, http.StatusOK, "incident-alert", "Alert "+a.Fingerprint, v)
}

// sortedPairs lists a map's entries by key.
func sortedPairs(m map[string]string) []option {
	out := make([]option, 0, len(m))
	for k, v := range m {
		out = append(out, option{k, v})
	}
	slices.SortFunc(out, func(a, b option) int { return strings.Compare(a.Value, b.Value) })
	return out
}
