package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/jmoiron/sqlx"

	"github.com/heraldstatus/herald/gateway"
)

// Declaration is what the YAML file declares, in store terms. cmd/herald
// builds it from the loaded config.
type Declaration struct {
	Groups     []DeclaredGroup
	Components []DeclaredComponent
	Sources    []DeclaredSource
	Rules      []DeclaredRule
	Probes     []DeclaredProbe
}

// DeclaredProbe is a probe from the config file (valid, defaults applied);
// Component is a component name, "" for none, and Path its YAML path.
type DeclaredProbe struct {
	Probe     gateway.Probe
	Component string
	Path      string
}

// DeclaredGroup is a component group from the config file.
type DeclaredGroup struct {
	Name, Description string
	Position          int
}

// DeclaredComponent is a component from the config file; Group is a group
// name, "" for none.
type DeclaredComponent struct {
	Name, Description, Group string
	Position                 int
	// DependsOn names the components it depends on (declared in the file
	// or made through the API).
	DependsOn []string
}

// DeclaredSource is an ingest source from the config file, with its token
// in plain text (it is hashed before it is stored).
type DeclaredSource struct {
	Name, Kind, Token string
	RateLimit         float64
}

// DeclaredRule is a routing rule from the config file; Components are names.
type DeclaredRule struct {
	Name           string
	Matchers       []gateway.Matcher
	Components     []string
	SeverityStatus map[gateway.Severity]gateway.ComponentStatus
}

// SyncReport counts what a sync changed; a second sync of the same file
// changes nothing.
type SyncReport struct {
	Created, Updated, Deleted int
	// Orphans names config objects that are no longer in the file. They are
	// kept (deleting a component or source would delete its history) and
	// reported so the operator can delete them through the API.
	Orphans []string
}

// SyncConfig makes the database hold what d declares, in one transaction.
// Objects are matched by name (rules by their order in the file), only
// changed rows are written, and objects made through the API are never
// deleted. A config object whose name was first made through the API is
// adopted by the config.
func (s *Store) SyncConfig(ctx context.Context, d Declaration) (SyncReport, error) {
	var rep SyncReport
	s.sources.forget() // sources may change: before and after (see sourceCache)
	defer s.sources.forget()
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		rep = SyncReport{}
		sy := syncer{s: s, tx: tx, ctx: ctx, rep: &rep}
		// Replicas starting together would otherwise all see an empty
		// table and all insert the same names: one would win and the
		// others stop on a conflict.
		if err := sy.exec("lock config sync", s.q.LockConfigSync); err != nil {
			return err
		}
		if err := sy.groups(d.Groups); err != nil {
			return err
		}
		if err := sy.components(d.Components); err != nil {
			return err
		}
		if err := sy.sources(d.Sources); err != nil {
			return err
		}
		if err := sy.rules(d.Rules); err != nil {
			return err
		}
		return sy.probes(d.Probes)
	})
	return rep, err
}

type syncer struct {
	s   *Store
	tx  *sqlx.Tx
	ctx context.Context
	rep *SyncReport
}

func (sy *syncer) exec(op, q string, args ...any) error {
	_, err := sy.tx.ExecContext(sy.ctx, q, args...)
	return wrap(op, err)
}

func (sy *syncer) groups(decl []DeclaredGroup) error {
	var have []gateway.ComponentGroup
	if err := sy.tx.SelectContext(sy.ctx, &have, sy.s.q.ListGroups); err != nil {
		return wrap("sync: list groups", err)
	}
	byName := map[string]gateway.ComponentGroup{}
	for _, g := range have {
		byName[g.Name] = g
	}
	declared := map[string]bool{}
	for _, dg := range decl {
		declared[dg.Name] = true
		g, ok := byName[dg.Name]
		if !ok {
			ng := gateway.ComponentGroup{Name: dg.Name, Description: dg.Description, Position: dg.Position, Origin: gateway.OriginConfig}
			if err := sy.s.insertGroup(sy.ctx, sy.tx, &ng); err != nil {
				return err
			}
			sy.rep.Created++
			continue
		}
		if g.Description != dg.Description || g.Position != dg.Position || g.Origin != gateway.OriginConfig {
			if err := sy.exec("sync: update group", sy.s.q.SyncUpdateGroup,
				dg.Description, dg.Position, sy.s.now(), g.ID); err != nil {
				return err
			}
			sy.rep.Updated++
		}
	}
	for _, g := range have {
		if g.Origin == gateway.OriginConfig && !declared[g.Name] {
			sy.rep.Orphans = append(sy.rep.Orphans, "component group "+quote(g.Name))
		}
	}
	return nil
}

func (sy *syncer) components(decl []DeclaredComponent) error {
	var groups []gateway.ComponentGroup
	if err := sy.tx.SelectContext(sy.ctx, &groups, sy.s.q.ListGroups); err != nil {
		return wrap("sync: list groups", err)
	}
	groupID := map[string]string{}
	for _, g := range groups {
		groupID[g.Name] = g.ID
	}
	var have []gateway.Component
	if err := sy.tx.SelectContext(sy.ctx, &have, sy.s.q.ListComponents); err != nil {
		return wrap("sync: list components", err)
	}
	byName := map[string]gateway.Component{}
	for _, c := range have {
		byName[c.Name] = c
	}
	declared := map[string]bool{}
	for _, dc := range decl {
		declared[dc.Name] = true
		gid := ""
		if dc.Group != "" {
			var ok bool
			if gid, ok = groupID[dc.Group]; !ok {
				return fmt.Errorf("sync: component %q: no group %q", dc.Name, dc.Group)
			}
		}
		c, ok := byName[dc.Name]
		if !ok {
			nc := gateway.Component{Name: dc.Name, Description: dc.Description, GroupID: gid, Position: dc.Position, Origin: gateway.OriginConfig}
			if err := sy.s.insertComponent(sy.ctx, sy.tx, &nc); err != nil {
				return err
			}
			sy.rep.Created++
			continue
		}
		if c.GroupID != gid || c.Description != dc.Description || c.Position != dc.Position || c.Origin != gateway.OriginConfig {
			if err := sy.exec("sync: update component", sy.s.q.SyncUpdateComp,
				gid, dc.Description, dc.Position, sy.s.now(), c.ID); err != nil {
				return err
			}
			sy.rep.Updated++
		}
	}
	for _, c := range have {
		if c.Origin == gateway.OriginConfig && !declared[c.Name] {
			sy.rep.Orphans = append(sy.rep.Orphans, "component "+quote(c.Name))
		}
	}
	return sy.dependencies(decl)
}

// dependencies makes each declared component depend on what the file
// says, and nothing else; the whole graph must stay acyclic.
func (sy *syncer) dependencies(decl []DeclaredComponent) error {
	var all []gateway.Component
	if err := sy.tx.SelectContext(sy.ctx, &all, sy.s.q.ListComponents); err != nil {
		return wrap("sync: list components", err)
	}
	ids := map[string]string{}
	for _, c := range all {
		ids[c.Name] = c.ID
	}
	set := map[string][]string{}
	for _, dc := range decl {
		deps := []string{}
		for _, name := range dc.DependsOn {
			id, ok := ids[name]
			if !ok {
				return fmt.Errorf("sync: component %q: depends_on: no component named %q", dc.Name, name)
			}
			deps = append(deps, id)
		}
		set[ids[dc.Name]] = deps
	}
	if err := sy.s.setDependencies(sy.ctx, sy.tx, set, "depends_on"); err != nil {
		return fmt.Errorf("sync: components: %w", err)
	}
	return nil
}

func (sy *syncer) sources(decl []DeclaredSource) error {
	var have []sourceRow
	if err := sy.tx.SelectContext(sy.ctx, &have, sy.s.q.ListSources); err != nil {
		return wrap("sync: list sources", err)
	}
	declared := map[string]bool{}
	for _, ds := range decl {
		declared[ds.Name] = true
		var src sourceRow
		err := sy.tx.GetContext(sy.ctx, &src, sy.s.q.SourceByName, ds.Name)
		if gateway.ErrorCode(mapError(err)) == gateway.ENOTFOUND {
			now := sy.s.now()
			if err := sy.exec("sync: insert source", sy.s.q.InsertSource, gateway.NewID(), ds.Name, ds.Kind,
				gateway.HashSecret(ds.Token), gateway.SecretPrefix(ds.Token), ds.RateLimit, gateway.OriginConfig, now, now); err != nil {
				return err
			}
			sy.rep.Created++
			continue
		} else if err != nil {
			return wrap("sync: get source", err)
		}
		if !gateway.SecretMatches(ds.Token, src.TokenHash) {
			now := sy.s.now()
			if err := sy.exec("sync: source token", sy.s.q.UpdateSourceToken, gateway.HashSecret(ds.Token), gateway.SecretPrefix(ds.Token), now, now, src.ID); err != nil {
				return err
			}
			sy.rep.Updated++
		}
		if src.Kind != ds.Kind || src.RateLimit != ds.RateLimit || src.Origin != gateway.OriginConfig {
			if err := sy.exec("sync: update source", sy.s.q.SyncUpdateSource,
				ds.Kind, ds.RateLimit, sy.s.now(), src.ID); err != nil {
				return err
			}
			sy.rep.Updated++
		}
	}
	for _, src := range have {
		if src.Origin == gateway.OriginConfig && !declared[src.Name] {
			sy.rep.Orphans = append(sy.rep.Orphans, "source "+quote(src.Name))
		}
	}
	return nil
}

// rules replaces the config rules in place: the i-th rule of the file is
// the i-th config rule by position, so a restart rewrites nothing.
func (sy *syncer) rules(decl []DeclaredRule) error {
	have, err := sy.s.listRules(sy.ctx, sy.tx)
	if err != nil {
		return err
	}
	var mine []gateway.Rule
	for _, r := range have {
		if r.Origin == gateway.OriginConfig {
			mine = append(mine, r)
		}
	}
	comps := map[string]string{}
	var all []gateway.Component
	if err := sy.tx.SelectContext(sy.ctx, &all, sy.s.q.ListComponents); err != nil {
		return wrap("sync: list components", err)
	}
	for _, c := range all {
		comps[c.Name] = c.ID
	}
	for i, dr := range decl {
		ids := make([]string, 0, len(dr.Components))
		for _, name := range dr.Components {
			id, ok := comps[name]
			if !ok {
				return fmt.Errorf("sync: rules[%d]: no component named %q", i, name)
			}
			ids = append(ids, id)
		}
		want := gateway.Rule{Name: dr.Name, Position: i, Matchers: dr.Matchers, ComponentIDs: ids,
			SeverityStatus: dr.SeverityStatus, Origin: gateway.OriginConfig}
		if i < len(mine) {
			want.ID = mine[i].ID
			if sameRule(mine[i], want) {
				continue
			}
			if err := sy.s.writeRule(sy.ctx, sy.tx, &want, false); err != nil {
				return err
			}
			sy.rep.Updated++
			continue
		}
		if err := sy.s.writeRule(sy.ctx, sy.tx, &want, true); err != nil {
			return err
		}
		sy.rep.Created++
	}
	for _, r := range mine[min(len(decl), len(mine)):] {
		if err := sy.exec("sync: delete rule", sy.s.q.DeleteRule, r.ID); err != nil {
			return err
		}
		sy.rep.Deleted++
	}
	return nil
}

func sameRule(a, b gateway.Rule) bool {
	ma, _ := json.Marshal(a.Matchers)
	mb, _ := json.Marshal(b.Matchers)
	ca, cb := slices.Clone(a.ComponentIDs), slices.Clone(b.ComponentIDs)
	slices.Sort(ca)
	slices.Sort(cb)
	return a.Name == b.Name && a.Position == b.Position && string(ma) == string(mb) &&
		slices.Equal(ca, cb) && maps.Equal(a.SeverityStatus, b.SeverityStatus)
}

// probes makes the config probes what the file declares, matched by name;
// a config probe no longer in the file is deleted (its results go with
// it: a probe is configuration, not history).
func (sy *syncer) probes(decl []DeclaredProbe) error {
	var have []probeRow
	if err := sy.tx.SelectContext(sy.ctx, &have, sy.s.q.ListProbes); err != nil {
		return wrap("sync: list probes", err)
	}
	byName := map[string]probeRow{}
	for _, r := range have {
		byName[r.Name] = r
	}
	declared := map[string]bool{}
	for _, dp := range decl {
		p := dp.Probe
		declared[p.Name] = true
		if dp.Component != "" {
			c, err := getComponent(sy.ctx, sy.tx, sy.s.q, dp.Component)
			if gateway.ErrorCode(err) == gateway.ENOTFOUND {
				return fmt.Errorf("sync: %s.component: no component named %q", dp.Path, dp.Component)
			} else if err != nil {
				return err
			}
			p.ComponentID = c.ID
		}
		p.Origin = gateway.OriginConfig
		old, ok := byName[p.Name]
		if !ok {
			if err := sy.s.insertProbe(sy.ctx, sy.tx, &p); err != nil {
				return fmt.Errorf("sync: %s: %w", dp.Path, err)
			}
			sy.rep.Created++
			continue
		}
		if old.Kind == p.Kind && old.ComponentID == p.ComponentID && old.Spec == specOf(&p) && old.Origin == gateway.OriginConfig {
			continue
		}
		p.ID = old.ID
		if err := sy.s.updateProbe(sy.ctx, sy.tx, &p); err != nil {
			return fmt.Errorf("sync: %s: %w", dp.Path, err)
		}
		sy.rep.Updated++
	}
	for _, r := range have {
		if r.Origin != gateway.OriginConfig || declared[r.Name] {
			continue
		}
		if err := sy.exec("sync: delete probe", sy.s.q.DeleteProbe, r.ID); err != nil {
			return err
		}
		if r.RuleID != "" {
			if err := sy.exec("sync: delete probe rule", sy.s.q.DeleteRule, r.RuleID); err != nil {
				return err
			}
		}
		sy.rep.Deleted++
	}
	return nil
}
