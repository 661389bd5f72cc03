package http

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

func (s *Server) alertRoutes(api *echo.Group) {
	viewer := requireRole(gateway.RoleViewer)
	api.GET("/alerts", s.listAlerts, viewer)
	api.GET("/alerts/:id", s.getAlert, viewer)
}

// alertJSON is an alert as the API shows it. Raw, the payload as
// received, is shown by GET /alerts/{id} only, as it can be large.
type alertJSON struct {
	ID           string               `json:"id"`
	SourceID     string               `json:"source_id"`
	Source       string               `json:"source"`
	Fingerprint  string               `json:"fingerprint"`
	Status       gateway.AlertStatus  `json:"status"`
	Severity     gateway.Severity     `json:"severity"`
	Summary      string               `json:"summary"`
	Labels       map[string]string    `json:"labels"`
	Annotations  map[string]string    `json:"annotations"`
	StartsAt     time.Time            `json:"starts_at"`
	EndsAt       *time.Time           `json:"ends_at"`
	GeneratorURL string               `json:"generator_url"`
	ReceivedAt   time.Time            `json:"received_at"`
	LastSeenAt   time.Time            `json:"last_seen_at"`
	RuleID       *string              `json:"rule_id"`
	IncidentID   *string              `json:"incident_id"`
	Flapping     bool                 `json:"flapping"`
	StateChanges int                  `json:"state_changes"`
	Components   []alertComponentJSON `json:"components"`
	Raw          json.RawMessage      `json:"raw,omitempty"`
}

type alertComponentJSON struct {
	ComponentID string                  `json:"component_id"`
	Status      gateway.ComponentStatus `json:"status"`
}

func toAlertJSON(r *store.AlertRecord, withRaw bool) alertJSON {
	out := alertJSON{ID: strconv.FormatInt(r.ID, 10), SourceID: r.SourceID, Source: r.SourceName,
		Fingerprint: r.Fingerprint, Status: r.Status, Severity: r.Severity, Summary: r.Summary,
		Labels: r.Labels, Annotations: r.Annotations, StartsAt: r.StartsAt, GeneratorURL: r.GeneratorURL,
		ReceivedAt: r.ReceivedAt, LastSeenAt: r.LastSeenAt, Flapping: r.Flapping, StateChanges: r.StateChanges,
		Components: make([]alertComponentJSON, len(r.Components))}
	if !r.EndsAt.IsZero() {
		out.EndsAt = &r.EndsAt
	}
	if r.RuleID != "" {
		out.RuleID = &r.RuleID
	}
	if r.IncidentID != "" {
		out.IncidentID = &r.IncidentID
	}
	for i, c := range r.Components {
		out.Components[i] = alertComponentJSON{ComponentID: c.ComponentID, Status: c.Status}
	}
	if withRaw && len(r.Raw) > 0 {
		out.Raw = r.Raw
		if !json.Valid(r.Raw) { // kept as received; show it as text
			out.Raw, _ = json.Marshal(string(r.Raw))
		}
	}
	return out
}

// listAlerts pages through alerts, newest first, filtered by status
// (firing, resolved), source and component (ids or names) and fingerprint;
// the cursor is the id of the last alert seen.
func (s *Server) listAlerts(c echo.Context) error {
	ctx := c.Request().Context()
	f := store.AlertFilter{Fingerprint: c.QueryParam("fingerprint")}
	switch st := gateway.AlertStatus(c.QueryParam("status")); st {
	case "", gateway.AlertFiring, gateway.AlertResolved:
		f.Status = st
	default:
		return gateway.FieldError("status", "must be firing or resolved")
	}
	if key := c.QueryParam("source"); key != "" {
		src, err := filterBy("source", func() (*gateway.Source, error) { return s.svc.Store.Source(ctx, key) })
		if err != nil {
			return err
		}
		f.SourceID = src.ID
	}
	if key := c.QueryParam("component"); key != "" {
		comp, err := filterBy("component", func() (*gateway.Component, error) { return s.svc.Store.Component(ctx, key) })
		if err != nil {
			return err
		}
		f.ComponentID = comp.ID
	}
	var err error
	if f.Before, f.Limit, err = page(c); err != nil {
		return err
	}
	alerts, err := s.svc.Store.Alerts(ctx, f)
	if err != nil {
		return err
	}
	out := list[alertJSON]{Data: make([]alertJSON, 0, len(alerts))}
	for _, a := range alerts {
		out.Data = append(out.Data, toAlertJSON(a, false))
	}
	if len(alerts) == f.Limit {
		out.NextCursor = out.Data[len(out.Data)-1].ID
	}
	return c.JSON(http.StatusOK, out)
}

// filterBy looks up what a list filter names (by id or name): a filter
// that names nothing is EUNPROCESSABLE naming the parameter, not an empty
// page, so that a typo does not pass for "no alerts".
func filterBy[T any](param string, get func() (T, error)) (T, error) {
	v, err := get()
	if gateway.ErrorCode(err) == gateway.ENOTFOUND {
		return v, gateway.FieldError(param, "no "+param+" with this id or name")
	}
	return v, err
}

// page reads the cursor (the last id of the previous page; 0 for the
// first) and limit (1 to 1000, default 100) of a list request.
func page(c echo.Context) (before int64, limit int, err error) {
	limit = 100
	if cur := c.QueryParam("cursor"); cur != "" {
		if before, err = strconv.ParseInt(cur, 10, 64); err != nil || before <= 0 {
			return 0, 0, gateway.FieldError("cursor", "is not a cursor from a previous page")
		}
	}
	if l := c.QueryParam("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 1 || limit > 1000 {
			return 0, 0, gateway.FieldError("limit", "must be a number from 1 to 1000")
		}
	}
	return before, limit, nil
}

func (s *Server) getAlert(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return gateway.Errorf(gateway.ENOTFOUND, "Alert %q not found.", c.Param("id"))
	}
	a, err := s.svc.Store.Alert(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAlertJSON(a, true))
}
