package web

import (
	"encoding/json"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// The Statuspage public API v2 shapes. Field names, JSON types and value
// vocabulary are Statuspage's (see testdata/*.json, captured from its
// documentation and live pages); they are a public contract, so they
// live here and never become domain types.
type (
	apiPage struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		URL       string `json:"url"`
		TimeZone  string `json:"time_zone"`
		UpdatedAt string `json:"updated_at"`
	}
	apiStatus struct {
		Indicator   gateway.Indicator `json:"indicator"`
		Description string            `json:"description"`
	}
	apiComponent struct {
		ID                 string                  `json:"id"`
		Name               string                  `json:"name"`
		Status             gateway.ComponentStatus `json:"status"`
		CreatedAt          string                  `json:"created_at"`
		UpdatedAt          string                  `json:"updated_at"`
		Position           int                     `json:"position"`
		Description        *string                 `json:"description"`
		Showcase           bool                    `json:"showcase"`
		StartDate          *string                 `json:"start_date"`
		GroupID            *string                 `json:"group_id"`
		PageID             string                  `json:"page_id"`
		Group              bool                    `json:"group"`
		OnlyShowIfDegraded bool                    `json:"only_show_if_degraded"`
		// Components lists a group's member ids (groups only).
		Components *[]string `json:"components,omitempty"`
	}
	apiIncident struct {
		ID              string                 `json:"id"`
		Name            string                 `json:"name"`
		Status          gateway.IncidentStatus `json:"status"`
		CreatedAt       string                 `json:"created_at"`
		UpdatedAt       string                 `json:"updated_at"`
		MonitoringAt    *string                `json:"monitoring_at"`
		ResolvedAt      *string                `json:"resolved_at"`
		Impact          gateway.Impact         `json:"impact"`
		Shortlink       string                 `json:"shortlink"`
		StartedAt       string                 `json:"started_at"`
		PageID          string                 `json:"page_id"`
		IncidentUpdates []apiUpdate            `json:"incident_updates"`
		Components      []apiComponent         `json:"components"`
		ScheduledFor    *string                `json:"scheduled_for"`
		ScheduledUntil  *string                `json:"scheduled_until"`
		// RootCause is Herald's own field (Statuspage has none): the
		// upstream component the incident's components depend on, null
		// when it has none.
		RootCause *gateway.RootCause `json:"root_cause"`
		// Maintenances only: whether they start and complete by themselves.
		AutoInProgress *bool `json:"scheduled_auto_in_progress,omitempty"`
		AutoCompleted  *bool `json:"scheduled_auto_completed,omitempty"`
	}
	apiUpdate struct {
		ID                   string                 `json:"id"`
		Status               gateway.IncidentStatus `json:"status"`
		Body                 string                 `json:"body"`
		IncidentID           string                 `json:"incident_id"`
		CreatedAt            string                 `json:"created_at"`
		UpdatedAt            string                 `json:"updated_at"`
		DisplayAt            string                 `json:"display_at"`
		AffectedComponents   []apiAffected          `json:"affected_components"`
		DeliverNotifications bool                   `json:"deliver_notifications"`
		CustomTweet          *string                `json:"custom_tweet"`
		TweetID              *string                `json:"tweet_id"`
	}
	apiAffected struct {
		Code      string                  `json:"code"`
		Name      string                  `json:"name"`
		OldStatus gateway.ComponentStatus `json:"old_status"`
		NewStatus gateway.ComponentStatus `json:"new_status"`
	}
)

// apiRoutes registers the Statuspage-compatible endpoints.
func (h *Handler) apiRoutes(get func(string, echo.HandlerFunc)) {
	open := store.PageSelection{OpenOnly: true, Limit: 100}
	get("/api/v2/summary.json", h.api(open, func(b *apiBody) {
		b.Components, b.Incidents, b.Maintenances, b.Status = b.components(), b.incidents(gateway.KindIncident, nil), b.incidents(gateway.KindMaintenance, nil), b.status()
	}))
	get("/api/v2/status.json", h.api(open, func(b *apiBody) { b.Status = b.status() }))
	get("/api/v2/components.json", h.api(open, func(b *apiBody) { b.Components = b.components() }))
	get("/api/v2/incidents.json", h.api(store.PageSelection{Kind: gateway.KindIncident}, func(b *apiBody) {
		b.Incidents = b.incidents(gateway.KindIncident, nil)
	}))
	get("/api/v2/incidents/unresolved.json", h.api(open, func(b *apiBody) { b.Incidents = b.incidents(gateway.KindIncident, nil) }))
	get("/api/v2/scheduled-maintenances.json", h.api(store.PageSelection{Kind: gateway.KindMaintenance}, func(b *apiBody) {
		b.Maintenances = b.incidents(gateway.KindMaintenance, nil)
	}))
	get("/api/v2/scheduled-maintenances/upcoming.json", h.api(open, func(b *apiBody) {
		b.Maintenances = b.incidents(gateway.KindMaintenance, []gateway.IncidentStatus{gateway.MaintenanceScheduled})
	}))
	get("/api/v2/scheduled-maintenances/active.json", h.api(open, func(b *apiBody) {
		b.Maintenances = b.incidents(gateway.KindMaintenance, []gateway.IncidentStatus{gateway.MaintenanceInProgress, gateway.MaintenanceVerifying})
	}))
}

// apiBody is every endpoint's answer: the page and what the endpoint
// fills in (fields left nil are left out).
type apiBody struct {
	Page         apiPage         `json:"page"`
	Components   *[]apiComponent `json:"components,omitempty"`
	Incidents    *[]apiIncident  `json:"incidents,omitempty"`
	Maintenances *[]apiIncident  `json:"scheduled_maintenances,omitempty"`
	Status       *apiStatus      `json:"status,omitempty"`

	snap *store.PageSnapshot
	cat  *catalog
	base string
}

// api serves one endpoint from a snapshot of sel, with CORS open to every
// origin as Statuspage's is (widgets read it from other sites).
func (h *Handler) api(sel store.PageSelection, fill func(*apiBody)) echo.HandlerFunc {
	return h.ready(func(c echo.Context) error {
		c.Response().Header().Set("Access-Control-Allow-Origin", "*")
		base := h.baseURL(c)
		return h.serve(c, resource{key: c.Path() + " " + base, ctype: "application/json; charset=utf-8", render: func(r *request) ([]byte, error) {
			snap, err := r.st.PageSnapshot(r.ctx, sel, time.Time{})
			if err != nil {
				return nil, err
			}
			b := &apiBody{snap: snap, cat: newCatalog(snap), base: base,
				Page: apiPage{ID: h.pageID(base), Name: h.pageName(), URL: base, TimeZone: "Etc/UTC", UpdatedAt: apiTime(r.version.UpdatedAt)}}
			fill(b)
			return json.Marshal(b)
		}})
	})
}

// pageID is the page's id, the same on every replica and in webhooks:
// derived from its URL (gateway.PageID).
func (h *Handler) pageID(base string) string { return gateway.PageID(base) }

// apiTime formats times as Statuspage does (ISO 8601 with milliseconds);
// the zero time is the empty string, see apiOptTime for nullable fields.
func apiTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

func apiOptTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := apiTime(t)
	return &s
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (b *apiBody) status() *apiStatus {
	var open []gateway.Incident
	for _, inc := range b.snap.Incidents {
		if inc.Status.Open() {
			open = append(open, inc)
		}
	}
	i := gateway.Overall(b.snap.Components, open)
	return &apiStatus{Indicator: i, Description: i.Description()}
}

// components lists groups and components in page order; a group carries
// its members' ids and their worst status.
func (b *apiBody) components() *[]apiComponent {
	out := []apiComponent{}
	for _, s := range b.cat.sections(func(gateway.Component) Uptime { return Uptime{} }) {
		if g := s.Group; g != nil {
			members := []string{}
			for _, c := range g.Components {
				members = append(members, c.ID)
			}
			out = append(out, apiComponent{ID: g.ID, Name: g.Name, Status: g.Worst, CreatedAt: apiTime(g.CreatedAt),
				UpdatedAt: apiTime(g.UpdatedAt), Position: apiPosition(g.Position), Description: optString(g.Description),
				PageID: b.Page.ID, Group: true, Components: &members})
			for _, c := range g.Components {
				out = append(out, b.component(c.Component))
			}
			continue
		}
		out = append(out, b.component(s.Component.Component))
	}
	return &out
}

// apiPosition numbers positions from 1, as Statuspage does; Herald's
// positions (config order, the admin API) count from 0.
func apiPosition(p int) int { return p + 1 }

func (b *apiBody) component(c gateway.Component) apiComponent {
	start := c.CreatedAt.UTC().Format("2006-01-02")
	return apiComponent{ID: c.ID, Name: c.Name, Status: c.Status, CreatedAt: apiTime(c.CreatedAt), UpdatedAt: apiTime(c.UpdatedAt),
		Position: apiPosition(c.Position), Description: optString(c.Description), Showcase: true, StartDate: &start,
		GroupID: optString(c.GroupID), PageID: b.Page.ID}
}

// incidents lists the snapshot's incidents of kind, newest first, keeping
// only the given statuses when any are given.
func (b *apiBody) incidents(kind string, statuses []gateway.IncidentStatus) *[]apiIncident {
	out := []apiIncident{}
	for _, inc := range b.snap.Incidents {
		if inc.Kind != kind || (statuses != nil && !hasStatus(statuses, inc.Status)) {
			continue
		}
		out = append(out, b.incident(inc))
	}
	return &out
}

func hasStatus(list []gateway.IncidentStatus, s gateway.IncidentStatus) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (b *apiBody) incident(inc gateway.Incident) apiIncident {
	a := apiIncident{ID: inc.ID, Name: inc.Name, Status: inc.Status, CreatedAt: apiTime(inc.CreatedAt), UpdatedAt: apiTime(inc.UpdatedAt),
		MonitoringAt: apiOptTime(inc.MonitoringAt), ResolvedAt: apiOptTime(inc.ResolvedAt), Impact: inc.Impact,
		Shortlink: b.base + "/incidents/" + url.PathEscape(inc.ID), StartedAt: apiTime(inc.CreatedAt), PageID: b.Page.ID,
		IncidentUpdates: []apiUpdate{}, Components: []apiComponent{},
		ScheduledFor: apiOptTime(inc.ScheduledFor), ScheduledUntil: apiOptTime(inc.ScheduledUntil), RootCause: inc.RootCause}
	if inc.Kind == gateway.KindMaintenance {
		auto := inc.AutoTransition
		a.AutoInProgress, a.AutoCompleted = &auto, &auto
	}
	for _, u := range inc.Updates {
		au := apiUpdate{ID: u.ID, Status: u.Status, Body: u.Body, IncidentID: inc.ID, CreatedAt: apiTime(u.CreatedAt),
			UpdatedAt: apiTime(u.CreatedAt), DisplayAt: apiTime(u.DisplayAt), DeliverNotifications: u.Notify}
		// AffectedComponents stays nil (JSON null, not []) for an update
		// that changed no component: Statuspage's bodies do so.
		if inc.MonitoringAt.IsZero() && u.Status == gateway.Monitoring {
			// Support moved it to monitoring: the first such update (the
			// updates are newest first, so the last one seen) says when.
			a.MonitoringAt = apiOptTime(u.DisplayAt)
		}
		for _, ac := range u.AffectedComponents {
			au.AffectedComponents = append(au.AffectedComponents, apiAffected{Code: ac.ComponentID, Name: ac.Name,
				OldStatus: ac.OldStatus, NewStatus: ac.NewStatus})
		}
		a.IncidentUpdates = append(a.IncidentUpdates, au)
	}
	for _, c := range b.cat.order { // page order
		if _, ok := inc.Components[c.ID]; ok {
			a.Components = append(a.Components, b.component(c))
		}
	}
	return a
}
