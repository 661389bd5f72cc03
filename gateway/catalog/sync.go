package catalog

import (
	"context"
	"fmt"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// SyncConfig makes the database hold what the config file declares (see
// store.Store.SyncConfig, one transaction). Each declared object first
// passes the rules the API and the console apply to the same object, here
// rather than in the store, so that a declaration cannot make what they
// would refuse (a source named like the probes' own, a bad name or kind).
// The config file's loader reports the same problems earlier with the
// file's line numbers; this is the rule's one home for what gets written.
//
// The sync writes no audit entries: it runs at every start-up, and the
// file, not a person, is what changed.
func (s *Service) SyncConfig(ctx context.Context, d store.Declaration) (store.SyncReport, error) {
	if err := ValidateDeclaration(d); err != nil {
		return store.SyncReport{}, err
	}
	return s.st.SyncConfig(ctx, d)
}

// ValidateDeclaration checks every object of d with the catalog's rules;
// errors name the object by its place, e.g. "sources[2].name".
func ValidateDeclaration(d store.Declaration) error {
	for i, g := range d.Groups {
		ch := GroupChange{Name: &g.Name, Description: &g.Description, Position: &g.Position}
		if err := applyGroup(&gateway.ComponentGroup{}, ch); err != nil {
			return within(fmt.Sprintf("groups[%d]", i), err)
		}
	}
	for i, c := range d.Components {
		if err := validComponent(c); err != nil {
			return within(fmt.Sprintf("components[%d]", i), err)
		}
	}
	for i, src := range d.Sources {
		ch := SourceChange{Name: &src.Name, Kind: &src.Kind, RateLimit: &src.RateLimit}
		err := applySource(&gateway.Source{}, ch)
		if err == nil {
			err = refuseProbeSource(src.Name)
		}
		if err != nil {
			return within(fmt.Sprintf("sources[%d]", i), err)
		}
	}
	for i, r := range d.Rules {
		if len(r.Components) == 0 {
			return within(fmt.Sprintf("rules[%d]", i), gateway.FieldError("components", "is required: the components this rule sets"))
		}
		ch := RuleChange{Name: &r.Name, Matchers: &r.Matchers, SeverityStatus: &r.SeverityStatus}
		if err := applyRule(nil, &gateway.Rule{}, ch); err != nil {
			return within(fmt.Sprintf("rules[%d]", i), err)
		}
	}
	return nil
}

// validComponent applies a declared component's fields as a change would;
// its group and depends_on are names the sync resolves in its transaction.
func validComponent(c store.DeclaredComponent) error {
	ch := ComponentChange{Name: &c.Name, Description: &c.Description, Position: &c.Position}
	return applyComponent(nil, &gateway.Component{}, ch)
}
