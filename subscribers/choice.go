package subscribers

import (
	"context"
	"fmt"
	"strings"

	"github.com/heraldstatus/herald/gateway"
)

// choice is what a subscriber receives, resolved to ids: everything, or
// the listed components and groups.
type choice struct {
	all        bool
	components []string
	groups     []string
}

// maxChoice bounds the components and groups one request may name.
const maxChoice = 1000

// catalog maps the ids and exact names of components and groups to ids.
// A page has tens of components, so it is read whole, once per request
// (or once per import).
type catalog struct {
	components map[string]string
	groups     map[string]string
}

func (s *Service) catalog(ctx context.Context) (*catalog, error) {
	comps, err := s.st.Components(ctx)
	if err != nil {
		return nil, err
	}
	groups, err := s.st.ComponentGroups(ctx)
	if err != nil {
		return nil, err
	}
	c := &catalog{components: make(map[string]string, 2*len(comps)), groups: make(map[string]string, 2*len(groups))}
	// Names first, ids after: an id always means its own object, even if
	// some other object is named like it.
	for _, x := range comps {
		c.components[x.Name] = x.ID
	}
	for _, x := range comps {
		c.components[x.ID] = x.ID
	}
	for _, x := range groups {
		c.groups[x.Name] = x.ID
	}
	for _, x := range groups {
		c.groups[x.ID] = x.ID
	}
	return c, nil
}

// resolve turns names or ids into a choice; field names the request field
// for errors. An empty choice (or all) is the whole page.
func (c *catalog) resolve(all bool, components, groups []string) (choice, error) {
	if all || len(components) == 0 && len(groups) == 0 {
		return choice{all: true, components: []string{}, groups: []string{}}, nil
	}
	if len(components)+len(groups) > maxChoice {
		return choice{}, gateway.FieldError("components", fmt.Sprintf("names more than %d components and groups", maxChoice))
	}
	ch := choice{components: []string{}, groups: []string{}}
	var err error
	if ch.components, err = lookup(c.components, components, "components", "component"); err != nil {
		return choice{}, err
	}
	if ch.groups, err = lookup(c.groups, groups, "groups", "component group"); err != nil {
		return choice{}, err
	}
	return ch, nil
}

func lookup(m map[string]string, names []string, field, what string) ([]string, error) {
	out := make([]string, 0, len(names))
	seen := map[string]bool{}
	for i, n := range names {
		id, ok := m[strings.TrimSpace(n)]
		if !ok {
			return nil, gateway.FieldError(fmt.Sprintf("%s[%d]", field, i), fmt.Sprintf("no %s %q", what, n))
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

// resolveMixed resolves names that may be components or groups (the CSV
// import's one column): a component when one has the name or id, else a
// group.
func (c *catalog) resolveMixed(names []string) (choice, error) {
	var comps, groups []string
	for _, n := range names {
		n = strings.TrimSpace(n)
		switch {
		case n == "":
			continue
		case c.components[n] != "":
			comps = append(comps, n)
		case c.groups[n] != "":
			groups = append(groups, n)
		default:
			return choice{}, gateway.FieldError("components", fmt.Sprintf("no component or group %q", n))
		}
	}
	return c.resolve(false, comps, groups)
}

// resolveChoice reads the catalog and resolves a request's choice.
func (s *Service) resolveChoice(ctx context.Context, all bool, components, groups []string) (choice, error) {
	if all || len(components) == 0 && len(groups) == 0 {
		return choice{all: true, components: []string{}, groups: []string{}}, nil
	}
	c, err := s.catalog(ctx)
	if err != nil {
		return choice{}, err
	}
	return c.resolve(all, components, groups)
}
