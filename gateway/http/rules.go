package http

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/catalog"
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
	ch, err := bindRule(c)
	if err != nil {
		return err
	}
	r, err := h.s.svc.Catalog.CreateRule(c.Request().Context(), principal(c), ch)
	if err != nil {
		return err
	}
	h.s.svc.Ingest.InvalidateRules()
	return c.JSON(http.StatusCreated, r)
}

func (h *ingestAPI) updateRule(c echo.Context) error {
	ch, err := bindRule(c)
	if err != nil {
		return err
	}
	r, err := h.s.svc.Catalog.UpdateRule(c.Request().Context(), principal(c), c.Param("id"), ch)
	if err != nil {
		return err
	}
	h.s.svc.Ingest.InvalidateRules()
	return c.JSON(http.StatusOK, r)
}

func (h *ingestAPI) deleteRule(c echo.Context) error {
	if _, err := h.s.svc.Catalog.DeleteRule(c.Request().Context(), principal(c), c.Param("id")); err != nil {
		return err
	}
	h.s.svc.Ingest.InvalidateRules()
	return c.NoContent(http.StatusNoContent)
}

// bindRule reads a rule request in the catalog's terms: the matchers
// parsed from either of their JSON forms, the severity map as given (the
// catalog checks it).
func bindRule(c echo.Context) (catalog.RuleChange, error) {
	var req ruleRequest
	if err := bind(c, &req); err != nil {
		return catalog.RuleChange{}, err
	}
	ch := catalog.RuleChange{Name: req.Name, Position: req.Position, Components: req.Components}
	if req.Matchers != nil {
		ms, err := parseMatchers(*req.Matchers)
		if err != nil {
			return ch, err
		}
		ch.Matchers = &ms
	}
	if req.SeverityStatus != nil {
		ss := make(map[gateway.Severity]gateway.ComponentStatus, len(*req.SeverityStatus))
		for k, v := range *req.SeverityStatus {
			ss[gateway.Severity(k)] = gateway.ComponentStatus(v)
		}
		ch.SeverityStatus = &ss
	}
	return ch, nil
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
