package web

import (
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/templates"
)

// layoutView is what the frame of every page needs.
type layoutView struct {
	PageName string
	Title    string
	// Subscribe shows the "Subscribe to updates" link.
	Subscribe bool
}

func (h *Handler) layout(title string) layoutView {
	name := h.pageName()
	if title != "" {
		title += " · "
	}
	return layoutView{PageName: name, Title: title + name + " Status", Subscribe: h.subscribeEnabled()}
}

// componentView is a component with its uptime bar.
type componentView struct {
	gateway.Component
	Uptime Uptime
	// DependsOnText names the components it depends on, in page order
	// ("DNS and Database"); "" when none.
	DependsOnText string
	// Chart is its probe's response-time chart, nil when none probes it.
	Chart *probeChart
}

// groupView is a group of components; Open expands it when one of its
// components is not operational.
type groupView struct {
	gateway.ComponentGroup
	Worst      gateway.ComponentStatus
	Components []componentView
	Open       bool
}

// sectionView is one entry of the component list: a group or a component
// of no group, in page order.
type sectionView struct {
	Group     *groupView
	Component *componentView
}

// incidentView is an incident (or maintenance) with its timeline worded.
type incidentView struct {
	gateway.Incident
	Updates    []updateView
	Latest     updateView
	Affected   string
	Postmortem template.HTML
	// Start is when it began: an incident when it was created, a
	// maintenance when it went in progress or, until then, its scheduled
	// start. End is when it ended (resolved, completed), zero while it
	// goes on; Cancelled marks a maintenance completed before it began.
	Start, End time.Time
	Cancelled  bool
}

// Maintenance reports whether the view is of a maintenance.
func (v incidentView) Maintenance() bool { return v.Kind == gateway.KindMaintenance }

// updateView is an update with the word the timeline gives it: its status,
// or "Update" when the status did not change.
type updateView struct {
	gateway.IncidentUpdate
	Word string
}

// catalog indexes a snapshot's components and groups in page order.
type catalog struct {
	groups     map[string]gateway.ComponentGroup
	components map[string]gateway.Component
	order      []gateway.Component
}

func newCatalog(snap *store.PageSnapshot) *catalog {
	cat := &catalog{groups: map[string]gateway.ComponentGroup{}, components: map[string]gateway.Component{}, order: snap.Components}
	for _, g := range snap.Groups {
		cat.groups[g.ID] = g
	}
	for _, c := range snap.Components {
		cat.components[c.ID] = c
	}
	return cat
}

// sections lists groups and ungrouped components in page order (the store
// sorts components by their group's position, then their own).
func (cat *catalog) sections(uptime func(gateway.Component) Uptime) []sectionView {
	var out []sectionView
	seen := map[string]*groupView{}
	for _, c := range cat.order {
		cv := componentView{Component: c, Uptime: uptime(c), DependsOnText: cat.upstreams(c)}
		g, grouped := cat.groups[c.GroupID]
		if !grouped {
			out = append(out, sectionView{Component: &cv})
			continue
		}
		gv := seen[g.ID]
		if gv == nil {
			gv = &groupView{ComponentGroup: g, Worst: gateway.Operational}
			seen[g.ID] = gv
			out = append(out, sectionView{Group: gv})
		}
		gv.Components = append(gv.Components, cv)
		gv.Worst = gv.Worst.Worse(c.Status)
		gv.Open = gv.Open || c.Status != gateway.Operational
	}
	return out
}

// upstreams words the components c depends on, in page order.
func (cat *catalog) upstreams(c gateway.Component) string {
	if len(c.DependsOn) == 0 {
		return ""
	}
	var names []string
	for _, o := range cat.order {
		if slices.Contains(c.DependsOn, o.ID) {
			names = append(names, o.Name)
		}
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// affected words the components an incident touched as the seed's page
// does, in page order, with the email templates' own wording
// (templates.Affected): "Eptura Workplace Modules (Space Module, Move
// Module) and Apps (Hummingbird App)".
func (cat *catalog) affected(inc gateway.Incident) string {
	ids := map[string]bool{}
	for id := range inc.Components {
		ids[id] = true
	}
	for _, u := range inc.Updates {
		for _, a := range u.AffectedComponents {
			ids[a.ComponentID] = true
		}
	}
	if inc.RootCause != nil {
		// The cause is named on its own line; the list says what is
		// affected through it.
		delete(ids, inc.RootCause.Component.ID)
	}
	var list []gateway.ComponentChange
	for _, c := range cat.order {
		if ids[c.ID] {
			list = append(list, gateway.ComponentChange{ID: c.ID, Name: c.Name, Group: cat.groups[c.GroupID].Name})
		}
	}
	return templates.Affected(list)
}

// incident builds an incident's view: its timeline worded and, when
// withPostmortem is set, its postmortem rendered.
func (h *Handler) incident(cat *catalog, inc gateway.Incident, withPostmortem bool) incidentView {
	v := incidentView{Incident: inc, Affected: cat.affected(inc)}
	for i, u := range inc.Updates { // newest first
		word := incidentWord(u.Status)
		if i+1 < len(inc.Updates) && inc.Updates[i+1].Status == u.Status {
			word = "Update"
		}
		v.Updates = append(v.Updates, updateView{IncidentUpdate: u, Word: word})
	}
	if len(v.Updates) > 0 {
		v.Latest = v.Updates[0]
	}
	v.Start, v.End = inc.CreatedAt, inc.ResolvedAt
	if inc.Kind == gateway.KindMaintenance {
		v.Start = inc.ScheduledFor
		started := false
		for _, u := range inc.Updates { // newest first: the last one seen is the first
			if u.Status == gateway.MaintenanceInProgress || u.Status == gateway.MaintenanceVerifying {
				v.Start, started = u.DisplayAt, true
			}
		}
		if !started && !inc.ResolvedAt.IsZero() {
			v.End, v.Cancelled = time.Time{}, true
		}
	}
	if withPostmortem && inc.PostmortemBody != "" && !inc.PostmortemPublishedAt.IsZero() {
		v.Postmortem = h.md.HTML(inc.PostmortemBody)
	}
	return v
}

// dayView is a day of the status page's recent history.
type dayView struct {
	Date      time.Time
	Incidents []incidentView
}
