package catalog

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// RuleChange is a new routing rule or a change to one: only the fields
// that are set change. The transport parses matchers (each reports its own
// field, "matchers[1]"); the service checks the rest.
type RuleChange struct {
	Name     *string // "" for an unnamed rule
	Position *int
	Matchers *[]gateway.Matcher
	// Components are the components the rule sets, by id or exact name.
	Components *[]string
	// SeverityStatus maps an alert's severity to the status it gives the
	// components; checked here, so a transport may fill it unchecked.
	SeverityStatus *map[gateway.Severity]gateway.ComponentStatus
}

// CreateRule makes a routing rule (tried last unless a position is given)
// and audits "rule.create". It needs at least one component.
func (s *Service) CreateRule(ctx context.Context, who gateway.Principal, ch RuleChange) (*gateway.Rule, error) {
	if ch.Components == nil || len(*ch.Components) == 0 {
		return nil, gateway.FieldError("components", "is required: the components this rule sets")
	}
	return audited(s, ctx, who, func(tx *store.Tx) (*gateway.Rule, entry, error) {
		r := &gateway.Rule{Position: -1}
		if err := applyRule(tx, r, ch); err != nil {
			return nil, entry{}, err
		}
		err := tx.CreateRule(r) // first: it fills the id the entry names
		return r, ruleEntry("create", r), err
	})
}

// UpdateRule changes the rule id and audits "rule.update".
func (s *Service) UpdateRule(ctx context.Context, who gateway.Principal, id string, ch RuleChange) (*gateway.Rule, error) {
	return audited(s, ctx, who, func(tx *store.Tx) (*gateway.Rule, entry, error) {
		r, err := tx.Rule(id)
		if err != nil {
			return nil, entry{}, err
		}
		if ch.Components != nil && len(*ch.Components) == 0 {
			return nil, entry{}, gateway.FieldError("components", "must name at least one component")
		}
		if err := applyRule(tx, r, ch); err != nil {
			return nil, entry{}, err
		}
		return r, ruleEntry("update", r), tx.UpdateRule(r)
	})
}

// DeleteRule deletes the rule id and audits "rule.delete"; alerts it
// routed keep their components. It returns what was deleted.
func (s *Service) DeleteRule(ctx context.Context, who gateway.Principal, id string) (*gateway.Rule, error) {
	return audited(s, ctx, who, func(tx *store.Tx) (*gateway.Rule, entry, error) {
		r, err := tx.Rule(id)
		if err != nil {
			return nil, entry{}, err
		}
		return r, ruleEntry("delete", r), tx.DeleteRule(r.ID)
	})
}

func ruleEntry(action string, r *gateway.Rule) entry {
	m := make([]string, len(r.Matchers))
	for i, x := range r.Matchers {
		m[i] = x.String()
	}
	return entry{"rule." + action, "rule", r.ID,
		map[string]any{"name": r.Name, "position": r.Position, "matchers": m, "components": r.ComponentIDs}}
}

// applyRule validates the change's fields that are set and copies them
// onto r, resolving component names; errors name the field, e.g.
// "components[1]". With tx nil, components are not resolved (a declaration,
// whose names the sync resolves).
func applyRule(tx *store.Tx, r *gateway.Rule, ch RuleChange) error {
	if ch.Name != nil {
		if *ch.Name != "" {
			if err := gateway.ValidateName("name", *ch.Name); err != nil {
				return err
			}
		}
		r.Name = *ch.Name
	}
	if ch.Position != nil {
		if *ch.Position < 0 {
			return gateway.FieldError("position", "must be 0 or more")
		}
		r.Position = *ch.Position
	}
	if ch.Matchers != nil {
		r.Matchers = *ch.Matchers
	}
	if ch.SeverityStatus != nil {
		if err := validSeverityStatus(*ch.SeverityStatus); err != nil {
			return err
		}
		r.SeverityStatus = *ch.SeverityStatus
	}
	if ch.Components != nil && tx != nil {
		r.ComponentIDs = r.ComponentIDs[:0:0]
		for i, key := range *ch.Components {
			comp, err := tx.Component(key)
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

// validSeverityStatus checks each key is a severity and each value a
// component status, in key order so that the same map always reports the
// same field.
func validSeverityStatus(m map[gateway.Severity]gateway.ComponentStatus) error {
	for _, sev := range slices.Sorted(maps.Keys(m)) {
		if sev.Rank() == 0 {
			return gateway.FieldError("severity_status."+string(sev), "is not a severity (critical, error, warning or info)")
		}
		if !m[sev].Valid() {
			return gateway.FieldError("severity_status."+string(sev),
				"must be operational, degraded_performance, partial_outage, major_outage or under_maintenance")
		}
	}
	return nil
}
