package http

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
)

// ruleRoutes registers the routing rules' API. Every change also drops
// the ingest service's cached rules, so this replica routes by the new
// rules from the next request on (other replicas within the cache's TTL).
func (h *ingestAPI) ruleRoutes(api *echo.Group) {
	viewer, admin := requireRole(gateway.RoleViewer), requireRole(gateway.RoleAdmin)
	api.GET("/rules", h.listRules, viewer)
	api.POST("/rules", h.createRule, admin)
	api.GET("/rules/:id", h.getRule, viewer)
	api.PATCH("/rules/:id", h.updateRule, admin)
	api.DELETE("/rules/:id", h.deleteRule, admin)
}

// ruleRequest is a rule as the API takes it. Matchers are strings in
// Alertmanager's syntax ("service=~sp.*") or {"name","op","value"}
// objects; components are ids or exact names.
type ruleRequest struct {
	Name           *string            `json:"name" validate:"omitempty,max=100"`
	Position       *int               `json:"position" validate:"omitempty,min=0"`
	Matchers       *[]json.RawMessage `json:"matchers"`
	Components     *[]string          `json:"components"`
	SeverityStatus *map[string]string `json:"severity_status"`
}

func (h *ingestAPI) listRules(c echo.Context) error {
	rules, err := h.s.svc.Store.Rules(c.Request().Context())
	if err != nil {
		return err
	}
	if rules == nil {
		rules = []gateway.Rule{}
	}
	return c.JSON(http.StatusOK, list[gateway.Rule]{Data: rules})
}

func (h *ingestAPI) getRule(c echo.Context) error {
	r, err := h.s.svc.Store.Rule(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (h *ingestAPI) createRule(c echo.Context) error {
	var req ruleRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if req.Components == nil || len(*req.Components) == 0 {
		return gateway.FieldError("components", "is required: the components this rule sets")
	}
	r := gateway.Rule{Position: -1}
	if err := h.applyRule(c, &r, req); err != nil {
		return err
	}
	if err := h.s.svc.Store.CreateRule(c.Request().Context(), &r); err != nil {
		return err
	}
	h.s.svc.Ingest.InvalidateRules()
	h.s.audit(c, "rule.create", "rule", r.ID, ruleDetail(r))
	return c.JSON(http.StatusCreated, r)
}

func (h *ingestAPI) updateRule(c echo.Context) error {
	var req ruleRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	r, err := h.s.svc.Store.Rule(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if req.Components != nil && len(*req.Components) == 0 {
		return gateway.FieldError("components", "must name at least one component")
	}
	if err := h.applyRule(c, r, req); err != nil {
		return err
	}
	if err := h.s.svc.Store.UpdateRule(ctx, r); err != nil {
		return err
	}
	h.s.svc.Ingest.InvalidateRules()
	h.s.audit(c, "rule.update", "rule", r.ID, ruleDetail(*r))
	return c.JSON(http.StatusOK, r)
}

func (h *ingestAPI) deleteRule(c echo.Context) error {
	ctx := c.Request().Context()
	r, err := h.s.svc.Store.Rule(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := h.s.svc.Store.DeleteRule(ctx, r.ID); err != nil {
		return err
	}
	h.s.svc.Ingest.InvalidateRules()
	h.s.audit(c, "rule.delete", "rule", r.ID, ruleDetail(*r))
	return c.NoContent(http.StatusNoContent)
}

func ruleDetail(r gateway.Rule) map[string]any {
	m := make([]string, len(r.Matchers))
	for i, x := range r.Matchers {
		m[i] = x.String()
	}
	return map[string]any{"name": r.Name, "position": r.Position, "matchers": m, "components": r.ComponentIDs}
}

// applyRule copies the request's fields that are present onto r,
// resolving component names; errors name the field, e.g. "matchers[1]".
func (h *ingestAPI) applyRule(c echo.Context, r *gateway.Rule, req ruleRequest) error {
	if req.Name != nil {
		if *req.Name != "" {
			if err := gateway.ValidateName("name", *req.Name); err != nil {
				return err
			}
		}
		r.Name = *req.Name
	}
	if req.Position != nil {
		r.Position = *req.Position
	}
	if req.Matchers != nil {
		ms, err := parseMatchers(*req.Matchers)
		if err != nil {
			return err
		}
		r.Matchers = ms
	}
	if req.SeverityStatus != nil {
		ss, err := parseSeverityStatus(*req.SeverityStatus)
		if err != nil {
			return err
		}
		r.SeverityStatus = ss
	}
	if req.Components != nil {
		r.ComponentIDs = r.ComponentIDs[:0:0]
		for i, key := range *req.Components {
			comp, err := h.s.svc.Store.Component(c.Request().Context(), key)
			if gateway.ErrorCode(err) == gateway.ENOTFOUND {
				return gateway.FieldError(fmt.Sprintf("components[%d]", i), "no component with this id or name")
			} else if err != nil {
				return err
			}
			if !slices.Contains(r.ComponentIDs, comp.ID) {
				r.ComponentIDs = append(r.ComponentIDs, comp.ID)
			}
		}
	}
	return nil
}

func parseMatchers(raw []json.RawMessage) ([]gateway.Matcher, error) {
	out := make([]gateway.Matcher, 0, len(raw))
	for i, m := range raw {
		field := fmt.Sprintf("matchers[%d]", i)
		var text string
		var obj struct {
			Name  string          `json:"name"`
			Op    gateway.MatchOp `json:"op"`
			Value string          `json:"value"`
		}
		var matcher gateway.Matcher
		var err error
		switch {
		case json.Unmarshal(m, &text) == nil:
			matcher, err = gateway.ParseMatcher(text)
		case json.Unmarshal(m, &obj) == nil:
			if obj.Op == "" {
				obj.Op = gateway.MatchEqual
			}
			matcher, err = gateway.NewMatcher(obj.Name, obj.Op, obj.Value)
		default:
			return nil, gateway.FieldError(field, `must be a string such as "service=~sp.*" or {"name","op","value"}`)
		}
		if err != nil {
			return nil, gateway.FieldError(field, err.Error())
		}
		out = append(out, matcher)
	}
	return out, nil
}

func parseSeverityStatus(in map[string]string) (map[gateway.Severity]gateway.ComponentStatus, error) {
	out := make(map[gateway.Severity]gateway.ComponentStatus, len(in))
	for _, k := range slices.Sorted(maps.Keys(in)) {
		sev := gateway.Severity(k)
		if sev.Rank() == 0 {
			return nil, gateway.FieldError("severity_status."+k, "is not a severity (critical, error, warning or info)")
		}
		st := gateway.ComponentStatus(in[k])
		if !st.Valid() {
			return nil, gateway.FieldError("severity_status."+k,
				"must be operational, degraded_performance, partial_outage, major_outage or under_maintenance")
		}
		out[sev] = st
	}
	return out, nil
}
