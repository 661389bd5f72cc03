package incidents

import (
	"slices"
	"sort"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/correlate"
	"github.com/heraldstatus/herald/gateway/store"
)

// rootState is what one transaction of a pass knows to correlate over the
// dependency graph (see correlate.Roots and docs/probes.md).
type rootState struct {
	roots    *correlate.Roots
	assign   map[int64]string // pending alert id → the root cause it joins
	open     []store.CorrelatingIncident
	covering map[string][]string // component id → the open incidents covering it
	folded   map[string]bool     // incidents folded by this transaction
}

// rootState reads the dependency graph and decides the root cause of each
// pending alert of the pass (all of them, not only this part's, so that
// the parts agree and inference counts every dependent). It returns nil
// when no component depends on another: correlation is group_by's alone.
func (p *pass) rootState(pending func() []store.PendingAlert, open []store.CorrelatingIncident, maint map[string]bool) (*rootState, error) {
	deps, err := p.tx.Dependencies()
	if err != nil || len(deps) == 0 {
		return nil, err
	}
	all := pending()
	covering, err := p.tx.OpenIncidentsByComponent()
	if err != nil {
		return nil, err
	}
	r := &correlate.Roots{Up: deps, Names: p.names, Signal: map[string]bool{}, Open: map[string]bool{}, Recent: map[string]bool{},
		InferMin: p.s.o.Settings.InferUpstreamMin}
	for id, c := range p.comps {
		r.Signal[id] = red(c.Status)
	}
	for _, a := range all {
		if a.Flapping {
			continue // a flapping alert opens nothing; it explains nothing either
		}
		for _, c := range a.Components {
			if !maint[c.ID] {
				r.Signal[c.ID], r.Recent[c.ID] = true, true
			}
		}
	}
	// The components of automatic incidents opened within group_wait fired
	// within it too: their alerts are no longer pending.
	fresh := map[string]bool{}
	for _, c := range open {
		if c.RootCauseID != "" {
			r.Open[c.RootCauseID] = true
		}
		if c.Automated && c.HumanAt.IsZero() && p.inStorm(c.CreatedAt, all) {
			fresh[c.ID] = true
		}
	}
	for comp, incs := range covering {
		for _, id := range incs {
			if fresh[id] {
				r.Recent[comp] = true
			}
		}
	}
	comps := make([][]string, len(all))
	for i, a := range all {
		for _, c := range a.Components {
			comps[i] = append(comps[i], c.ID)
		}
	}
	st := &rootState{roots: r, assign: map[int64]string{}, open: open, covering: covering, folded: map[string]bool{}}
	for i, u := range r.Assign(comps) {
		if u != "" {
			st.assign[all[i].ID] = u
		}
	}
	return st, nil
}

// inStorm reports whether an incident opened at created is of the storm
// that alerts belong to: it opened within group_wait of now, or within
// group_wait of when one of the (steady) alerts fired. The alerts' own
// times count, not the pass's: a pass that runs late (a stalled or
// restarted process, a long pass in a storm) must see the storm as it
// happened, or the first dependent's incident, not announced yet, would
// look too old to take in, and one fault would make two incidents.
func (p *pass) inStorm(created time.Time, alerts []store.PendingAlert) bool {
	gw := p.s.o.Settings.GroupWait
	if !created.Before(p.now.Add(-gw)) {
		return true
	}
	for _, a := range alerts {
		if !a.Flapping && !a.ReceivedAt.Before(created.Add(-gw)) && !a.ReceivedAt.After(created.Add(gw)) {
			return true
		}
	}
	return false
}

// red reports whether a status is a fault (not operational, not
// maintenance).
func red(st gateway.ComponentStatus) bool {
	return st != "" && st != gateway.Operational && st != gateway.UnderMaintenance
}

// rootTarget finds the open incident the alerts whose cause is u join,
// when none takes key root=u yet: u's own incident (one that takes alerts
// and covers u), else one whose cause is a dependent of u (the cause moves
// up the graph, the incident stays).
func (p *pass) rootTarget(u string) (store.CorrelatingIncident, bool) {
	rs := p.rootsNow
	byID := map[string]store.CorrelatingIncident{}
	for _, c := range rs.open {
		if !rs.folded[c.ID] {
			byID[c.ID] = c
		}
	}
	ids := slices.Clone(rs.covering[u])
	slices.Sort(ids)
	for _, id := range ids {
		if c, ok := byID[id]; ok {
			return c, true
		}
	}
	below := rs.roots.Dependents(u)
	for _, c := range rs.open {
		if !rs.folded[c.ID] && c.RootCauseID != "" && slices.Contains(below, c.RootCauseID) {
			return c, true
		}
	}
	return store.CorrelatingIncident{}, false
}

// foldable lists the automatic incidents that u's incident takes in whole,
// oldest first: opened within group_wait (of now, or of when one of
// alerts, the alerts joining u's incident, fired) by alerts on u or its
// dependents alone, before the cause was known, and not announced yet
// (nobody was told about them; support has not touched them). except is
// the incident they fold into.
func (p *pass) foldable(u, except string, alerts []store.PendingAlert) ([]store.CorrelatingIncident, error) {
	rs := p.rootsNow
	below := rs.roots.Dependents(u)
	var out []store.CorrelatingIncident
	for _, c := range rs.open {
		if c.ID == except || rs.folded[c.ID] || !c.Automated || !c.HumanAt.IsZero() || c.RootCauseID != "" ||
			!p.inStorm(c.CreatedAt, alerts) {
			continue
		}
		notified, err := p.tx.LastNotified(c.ID)
		if err != nil {
			return nil, err
		}
		if !notified.IsZero() {
			continue
		}
		inc, err := p.tx.Incident(c.ID)
		if err != nil {
			return nil, err
		}
		all := len(inc.Components) > 0
		for id := range inc.Components {
			all = all && (id == u || slices.Contains(below, id))
		}
		if all {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// fold moves incident from into inc: its alerts, its components (into
// statuses, which join adds to inc, and the statuses they had before it
// opened, for inc's update), then deletes it.
func (p *pass) fold(inc *gateway.Incident, from store.CorrelatingIncident, statuses map[string]gateway.ComponentStatus,
	byKey map[string]store.CorrelatingIncident) error {
	f, err := p.tx.Incident(from.ID)
	if err != nil {
		return err
	}
	ups, err := p.tx.Updates(from.ID)
	if err != nil {
		return err
	}
	if len(ups) > 0 {
		for _, a := range ups[len(ups)-1].AffectedComponents {
			p.foldBefore[a.ComponentID] = a.OldStatus
		}
	}
	for id, st := range f.Components {
		statuses[id] = statuses[id].Worse(st) // join adds them as if their alerts joined now
	}
	if err := p.tx.FoldIncident(from.ID, inc.ID); err != nil {
		return err
	}
	p.rootsNow.folded[from.ID] = true
	delete(byKey, from.CorrelationKey)
	return p.tx.Audit(gateway.Automation, "incident.fold", "incident", from.ID,
		map[string]any{"into": inc.ID, "name": f.Name, "note": "opened inside group_wait before its root cause was known"})
}

// setRoot records u as inc's cause and makes the incident take key root=u.
// It reports whether the cause became confirmed: inferred before, u has a
// signal of its own now. A confirmed cause never goes back to inferred.
func (p *pass) setRoot(inc *gateway.Incident, u string, byKey map[string]store.CorrelatingIncident) bool {
	inferred := p.rootsNow.roots.Inferred(u)
	was := inc.RootCause
	if was != nil && was.Component.ID == u && !was.Inferred {
		inferred = false
	}
	confirmed := was != nil && was.Inferred && !inferred
	inc.RootCause = &gateway.RootCause{Component: gateway.RootCauseComponent{ID: u, Name: p.names[u]}, Inferred: inferred}
	key := correlate.RootKey(u)
	if inc.CorrelationKey != key {
		delete(byKey, inc.CorrelationKey)
		inc.CorrelationKey = key
	}
	byKey[key] = store.CorrelatingIncident{ID: inc.ID, CorrelationKey: key, LastAlertAt: byKey[key].LastAlertAt, Status: inc.Status,
		Published: inc.Published, CreatedAt: inc.CreatedAt, Automated: inc.Automated, RootCauseID: u}
	return confirmed
}

// dependentNames names the components an incident covers besides its
// cause, in page order: what its title counts and its words list.
func (p *pass) dependentNames(inc *gateway.Incident) []string {
	ids := make([]string, 0, len(inc.Components))
	for id := range inc.Components {
		if inc.RootCause == nil || id != inc.RootCause.Component.ID {
			ids = append(ids, id)
		}
	}
	return p.namesOf(ids)
}

// firstWords is the body of an automatic incident's first update: the
// components it affects and, when it has one, its cause.
func (p *pass) firstWords(inc *gateway.Incident) string {
	if inc.RootCause == nil {
		return say("investigating", wordsData{Components: p.sortedNames(inc.Components)})
	}
	return say("investigating-root", wordsData{Components: p.dependentNames(inc), Cause: inc.RootCause.Component.Name,
		Inferred: inc.RootCause.Inferred})
}
