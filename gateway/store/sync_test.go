package store_test

import (
	"context"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

func seedDeclaration(t *testing.T) store.Declaration {
	t.Helper()
	m, err := gateway.ParseMatcher("service=~sp.*")
	must(t, err)
	return store.Declaration{
		Groups: []store.DeclaredGroup{{Name: "Eptura Workplace Modules", Position: 0}, {Name: "Apps", Position: 1}},
		Components: []store.DeclaredComponent{
			{Name: "Space Module", Group: "Eptura Workplace Modules", Position: 0},
			{Name: "Move Module", Group: "Eptura Workplace Modules", Position: 1},
			{Name: "Hummingbird App", Group: "Apps", Position: 0},
		},
		Sources: []store.DeclaredSource{{Name: "prometheus", Kind: "alertmanager", Token: "prom-token-0123456789"}},
		Rules: []store.DeclaredRule{{
			Matchers:       []gateway.Matcher{m},
			Components:     []string{"Space Module"},
			SeverityStatus: map[gateway.Severity]gateway.ComponentStatus{gateway.SeverityCritical: gateway.MajorOutage},
		}},
	}
}

// snapshot captures every synced row, times included, to prove a second
// sync writes nothing.
func snapshot(t *testing.T, s *store.Store) string {
	t.Helper()
	ctx := context.Background()
	var out string
	for _, q := range []string{
		"SELECT id || name || description || position || origin || updated_at FROM component_groups ORDER BY id",
		"SELECT id || name || COALESCE(group_id, '') || position || origin || updated_at FROM components ORDER BY id",
		"SELECT id || name || kind || token_hash || updated_at FROM sources ORDER BY id",
		"SELECT id || position || matchers || severity_status || updated_at FROM rules ORDER BY id",
		"SELECT rule_id || component_id FROM rule_components ORDER BY rule_id, component_id",
	} {
		rows, err := s.DB().QueryContext(ctx, q)
		must(t, err)
		for rows.Next() {
			var v string
			must(t, rows.Scan(&v))
			out += v + "\n"
		}
		rows.Close()
	}
	return out
}

func TestSyncConfigIsIdempotent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		d := seedDeclaration(t)
		rep, err := s.SyncConfig(ctx, d)
		must(t, err)
		if rep.Created != 7 {
			t.Errorf("first sync created %d, want 7 (2 groups, 3 components, 1 source, 1 rule)", rep.Created)
		}
		before := snapshot(t, s)
		rep, err = s.SyncConfig(ctx, d)
		must(t, err)
		if rep.Created+rep.Updated+rep.Deleted != 0 {
			t.Errorf("second sync changed %+v, want nothing", rep)
		}
		if after := snapshot(t, s); after != before {
			t.Errorf("rows changed on the second sync:\nbefore:\n%s\nafter:\n%s", before, after)
		}

		src, err := s.Source(ctx, "prometheus")
		must(t, err)
		if !gateway.SecretMatches("prom-token-0123456789", src.TokenHash) {
			t.Error("source token not stored as its hash")
		}
		rules, err := s.Rules(ctx)
		must(t, err)
		space, err := s.Component(ctx, "Space Module")
		must(t, err)
		if len(rules) != 1 || len(rules[0].ComponentIDs) != 1 || rules[0].ComponentIDs[0] != space.ID {
			t.Fatalf("rules = %+v", rules)
		}
		if !rules[0].Matches(map[string]string{"service": "space"}) || rules[0].Matches(map[string]string{"service": "aerospace"}) {
			t.Error("stored rule does not match as declared")
		}

		// A changed file: token rotated, component moved, rule dropped.
		d.Sources[0].Token = "new-token-0123456789"
		d.Components[1].Group = "Apps"
		d.Rules = nil
		rep, err = s.SyncConfig(ctx, d)
		must(t, err)
		if rep.Updated != 2 || rep.Deleted != 1 {
			t.Errorf("changed sync = %+v, want 2 updated, 1 deleted", rep)
		}
		src, err = s.Source(ctx, "prometheus")
		must(t, err)
		if gateway.SecretMatches("prom-token-0123456789", src.TokenHash) {
			t.Error("the old source token still matches after the config changed it")
		}

		// Dropping a component from the file keeps it (its history matters) and reports it.
		d.Components = d.Components[:2]
		rep, err = s.SyncConfig(ctx, d)
		must(t, err)
		if len(rep.Orphans) != 1 {
			t.Errorf("orphans = %v, want Hummingbird App", rep.Orphans)
		}

		// A rule naming an unknown component stops the sync, and nothing of it is written.
		d.Rules = []store.DeclaredRule{{Components: []string{"Nope"}}}
		d.Groups = append(d.Groups, store.DeclaredGroup{Name: "Later", Position: 2})
		if _, err := s.SyncConfig(ctx, d); err == nil {
			t.Fatal("sync with an unknown rule component succeeded")
		}
		if _, err := s.ComponentGroup(ctx, "Later"); gateway.ErrorCode(err) != gateway.ENOTFOUND {
			t.Errorf("a failed sync left a group behind: %v", err)
		}
	})
}
