package correlate

import (
	"slices"
	"strconv"
)

// DefaultInferUpstreamMin is correlation.infer_upstream_min's default: how
// many of an upstream's dependents must fire within group_wait for Herald
// to name the upstream as the probable cause.
const DefaultInferUpstreamMin = 3

// Roots decides root causes over the dependency graph for one reconcile
// pass (see docs/probes.md). An alert on a component whose upstream
// U (transitively) has a signal of its own, or already heads an open
// incident as its cause, joins U's incident whatever group_by says; when
// no upstream has a signal but at least InferMin of U's dependents fired
// within group_wait, U is the inferred (probable) cause.
type Roots struct {
	// Up is the dependency graph: component id → the ids it depends on.
	Up map[string][]string
	// Names orders candidates that tie, by name then id, so that the
	// choice is the same on every pass and every replica.
	Names map[string]string
	// Signal holds the components with a signal of their own: a firing
	// alert (pending or active), or a non-operational status.
	Signal map[string]bool
	// Open holds the components that are the root cause of an open
	// incident that still takes alerts.
	Open map[string]bool
	// Recent holds the components that fired within group_wait: a pending
	// alert, or an automatic incident opened within group_wait covers them.
	Recent map[string]bool
	// InferMin is correlation.infer_upstream_min; 0 means the default.
	InferMin int

	down map[string][]string // the reverse of Up
}

// RootKey is the correlation key of the alerts whose root cause is u: it
// replaces the key group_by makes.
func RootKey(u string) string { return "root=" + u }

// Ancestors returns every component id depends on, directly or not.
func (r *Roots) Ancestors(id string) []string { return walk(r.Up, id) }

// Dependents returns every component that depends on u, directly or not.
func (r *Roots) Dependents(u string) []string {
	if r.down == nil {
		r.down = map[string][]string{}
		for c, ups := range r.Up {
			for _, x := range ups {
				r.down[x] = append(r.down[x], c)
			}
		}
	}
	return walk(r.down, u)
}

// walk returns the nodes reachable from id along edges, without id, sorted.
func walk(edges map[string][]string, id string) []string {
	seen := map[string]bool{id: true}
	var out []string
	todo := slices.Clone(edges[id])
	for len(todo) > 0 {
		n := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
		todo = append(todo, edges[n]...)
	}
	slices.Sort(out)
	return out
}

// Inferred reports whether naming u as a cause is an inference: u has no
// signal of its own.
func (r *Roots) Inferred(u string) bool { return !r.Signal[u] }

func (r *Roots) inferMin() int {
	if r.InferMin <= 0 {
		return DefaultInferUpstreamMin
	}
	return r.InferMin
}

// before orders candidates that tie: by name, then id.
func (r *Roots) before(a, b string) bool {
	if r.Names[a] != r.Names[b] {
		return r.Names[a] < r.Names[b]
	}
	return a < b
}

// Of returns the root cause of an alert on component c, or "" when none
// applies.
//
//  1. Among c's upstreams that have a signal or head an open incident as
//     its cause, the top-most (none of its own upstreams is one too): a
//     fault high in the graph explains the faults below it. When several
//     are top-most (c depends on two independent upstreams), one that
//     already heads an open incident wins, so the alerts stay with the
//     story being told; then the first by name.
//  2. Otherwise, among c's upstreams with at least InferMin dependents
//     that fired within group_wait, the one with the most such
//     dependents; on a tie the one with the fewest dependents in all (the
//     most specific explanation: DNS rather than the network DNS runs
//     on); then the first by name. It is inferred.
//  3. When rule 1 chose an upstream that rule 2 would give an inferred
//     cause explaining more dependents than it, that one: the app that
//     depends on a firing module goes where the module's alerts go.
func (r *Roots) Of(c string) string {
	u, signal := r.of(c)
	if signal {
		// The upstream with a signal may have an inferred cause above it
		// (the Hummingbird App depends on the Space Module, which fires,
		// and on DNS, which the modules point at): the alert goes where
		// the upstream's own alerts go, so one fault stays one incident.
		// (An upstream with a signal has none above it: it is top-most.)
		// Only an inference that explains more than u does lifts it: the
		// network DNS runs on does not take DNS's incident.
		if up, _ := r.of(u); up != "" && r.firing(up) > r.firing(u) {
			return up
		}
	}
	return u
}

// firing counts u's dependents that fired within group_wait.
func (r *Roots) firing(u string) int {
	n := 0
	for _, d := range r.Dependents(u) {
		if r.Recent[d] {
			n++
		}
	}
	return n
}

// of applies rules 1 and 2, and reports whether rule 1 chose.
func (r *Roots) of(c string) (string, bool) {
	ups := r.Ancestors(c)
	var cands []string
	for _, u := range ups {
		if r.Signal[u] || r.Open[u] {
			cands = append(cands, u)
		}
	}
	var top []string
	for _, u := range cands {
		covered := false
		for _, a := range r.Ancestors(u) {
			covered = covered || slices.Contains(cands, a)
		}
		if !covered {
			top = append(top, u)
		}
	}
	if len(top) > 0 {
		slices.SortFunc(top, func(a, b string) int {
			if r.Open[a] != r.Open[b] {
				return cmpBool(r.Open[a])
			}
			return cmpBefore(r.before(a, b))
		})
		return top[0], true
	}
	best, bestFiring, bestAll := "", 0, 0
	for _, u := range ups {
		deps := r.Dependents(u)
		firing := r.firing(u)
		if firing < r.inferMin() {
			continue
		}
		if best == "" || firing > bestFiring || firing == bestFiring && (len(deps) < bestAll || len(deps) == bestAll && r.before(u, best)) {
			best, bestFiring, bestAll = u, firing, len(deps)
		}
	}
	return best, false
}

func cmpBool(first bool) int {
	if first {
		return -1
	}
	return 1
}

func cmpBefore(before bool) int { return cmpBool(before) }

// Assign returns the root cause each alert joins, "" for none: alerts[i]
// lists the components alert i was routed to. An alert on several
// components takes the root one of them gives, the open incident's cause
// first, then the first by name. An alert on U itself joins U's incident
// when U heads an open incident as its cause, or when other alerts of the
// same pass have U as their root: U's own signal confirms the cause.
func (r *Roots) Assign(alerts [][]string) []string {
	out := make([]string, len(alerts))
	roots := map[string]bool{}
	of := map[string]string{} // a storm's alerts share a few components
	for i, comps := range alerts {
		var got []string
		for _, c := range comps {
			u, ok := of[c]
			if !ok {
				u = r.Of(c)
				of[c] = u
			}
			if u != "" {
				got = append(got, u)
			}
		}
		if len(got) == 0 {
			continue
		}
		slices.SortFunc(got, func(a, b string) int {
			if r.Open[a] != r.Open[b] {
				return cmpBool(r.Open[a])
			}
			return cmpBefore(r.before(a, b))
		})
		out[i] = got[0]
		roots[got[0]] = true
	}
	for i, comps := range alerts {
		if out[i] != "" {
			continue
		}
		for _, c := range comps {
			if r.Open[c] || roots[c] {
				out[i] = c
				break
			}
		}
	}
	return out
}

// RootTitle names an incident after its cause and how many components
// depending on it are affected: "DNS: 11 components affected". The cause
// itself is not counted.
func RootTitle(cause string, affected int) string {
	noun := " components affected"
	if affected == 1 {
		noun = " component affected"
	}
	return cause + ": " + strconv.Itoa(affected) + noun
}
