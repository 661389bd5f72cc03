package gateway

import (
	"slices"
	"strings"
)

// DependencyCycle returns a cycle in the dependency graph edges (component
// → the components it depends on), as the names along it with the first
// repeated at the end ("A → B → A"), or nil when the graph is acyclic.
// The search visits components in sorted order, so the cycle reported for
// one graph is always the same.
func DependencyCycle(edges map[string][]string) []string {
	const (
		unseen = iota
		onPath
		done
	)
	state := map[string]int{}
	var path []string
	var found []string
	var visit func(n string) bool
	visit = func(n string) bool {
		state[n] = onPath
		path = append(path, n)
		ups := slices.Clone(edges[n])
		slices.Sort(ups)
		for _, u := range ups {
			switch state[u] {
			case onPath:
				i := slices.Index(path, u)
				found = append(slices.Clone(path[i:]), u)
				return true
			case unseen:
				if visit(u) {
					return true
				}
			}
		}
		path = path[:len(path)-1]
		state[n] = done
		return false
	}
	nodes := make([]string, 0, len(edges))
	for n := range edges {
		nodes = append(nodes, n)
	}
	slices.Sort(nodes)
	for _, n := range nodes {
		if state[n] == unseen && visit(n) {
			return found
		}
	}
	return nil
}

// CycleError is the EUNPROCESSABLE error for a dependency cycle, naming
// field and the cycle's components in order.
func CycleError(field string, cycle []string) *Error {
	return FieldError(field, "would make a dependency cycle: "+strings.Join(cycle, " → "))
}
