package catalog_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/catalog"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

var admin = gateway.Principal{Kind: "api_key", Name: "ops"}

func ptr[T any](v T) *T { return &v }

// wantField fails unless err is EUNPROCESSABLE naming field.
func wantField(t *testing.T, what string, err error, field string) {
	t.Helper()
	var e *gateway.Error
	if !errors.As(err, &e) || e.Code != gateway.EUNPROCESSABLE {
		t.Errorf("%s: %v, want unprocessable naming %s", what, err, field)
		return
	}
	if _, ok := e.Fields[field]; !ok || !strings.HasPrefix(e.Message, field) {
		t.Errorf("%s: fields %v (%q), want %s", what, e.Fields, e.Message, field)
	}
}

// audited returns the audit entries of action on target.
func audited(t *testing.T, st *store.Store, action, target string) int {
	t.Helper()
	entries, err := st.AuditLog(context.Background(), store.AuditQuery{Action: action}, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.TargetID == target && e.Actor == admin.Name {
			n++
		}
	}
	return n
}

func TestValidationNamesTheField(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx, svc := context.Background(), catalog.New(st)
		if _, err := svc.CreateComponent(ctx, admin, catalog.ComponentChange{Name: ptr("API")}); err != nil {
			t.Fatal(err)
		}
		_, err := svc.CreateComponent(ctx, admin, catalog.ComponentChange{})
		wantField(t, "component without a name", err, "name")
		_, err = svc.CreateComponent(ctx, admin, catalog.ComponentChange{Name: ptr(strings.Repeat("x", 101))})
		wantField(t, "component with a long name", err, "name")
		_, err = svc.CreateComponent(ctx, admin, catalog.ComponentChange{Name: ptr("Web"), Group: ptr("Nowhere")})
		wantField(t, "component in an unknown group", err, "group")
		_, err = svc.CreateComponent(ctx, admin, catalog.ComponentChange{Name: ptr("Web"), DependsOn: &[]string{"API", "Nothing"}})
		wantField(t, "component depending on an unknown one", err, "depends_on[1]")
		_, err = svc.UpdateComponent(ctx, admin, "API", catalog.ComponentChange{DependsOn: &[]string{"API"}})
		wantField(t, "component depending on itself", err, "depends_on")
		_, err = svc.CreateGroup(ctx, admin, catalog.GroupChange{Name: ptr("  ")})
		wantField(t, "group with a blank name", err, "name")

		_, _, err = svc.CreateSource(ctx, admin, catalog.SourceChange{Kind: ptr("generic")})
		wantField(t, "source without a name", err, "name")
		_, _, err = svc.CreateSource(ctx, admin, catalog.SourceChange{Name: ptr("Prom Etheus"), Kind: ptr("generic")})
		wantField(t, "source with a bad name", err, "name")
		_, _, err = svc.CreateSource(ctx, admin, catalog.SourceChange{Name: ptr("prom"), Kind: ptr("nagios")})
		wantField(t, "source of an unknown kind", err, "kind")
		_, _, err = svc.CreateSource(ctx, admin, catalog.SourceChange{Name: ptr("prom"), Kind: ptr("generic"), RateLimit: ptr(-1.0)})
		wantField(t, "source with a negative rate", err, "rate_limit")

		_, err = svc.CreateRule(ctx, admin, catalog.RuleChange{Name: ptr("r")})
		wantField(t, "rule without components", err, "components")
		_, err = svc.CreateRule(ctx, admin, catalog.RuleChange{Components: &[]string{"API", "Nothing"}})
		wantField(t, "rule of an unknown component", err, "components[1]")
		_, err = svc.CreateRule(ctx, admin, catalog.RuleChange{Components: &[]string{"API"},
			SeverityStatus: &map[gateway.Severity]gateway.ComponentStatus{"huge": gateway.MajorOutage}})
		wantField(t, "rule with an unknown severity", err, "severity_status.huge")

		// The config sync runs the same rules, naming the declared object.
		for _, tc := range []struct {
			d     store.Declaration
			field string
		}{
			{store.Declaration{Groups: []store.DeclaredGroup{{Name: ""}}}, "groups[0].name"},
			{store.Declaration{Components: []store.DeclaredComponent{{Name: "ok"}, {Name: "bad\x01"}}}, "components[1].name"},
			{store.Declaration{Sources: []store.DeclaredSource{{Name: "prom", Kind: "nagios", Token: "prom-token-0123456789"}}}, "sources[0].kind"},
			{store.Declaration{Rules: []store.DeclaredRule{{Components: []string{"API"},
				SeverityStatus: map[gateway.Severity]gateway.ComponentStatus{gateway.SeverityCritical: "down"}}}}, "rules[0].severity_status.critical"},
		} {
			_, err := svc.SyncConfig(ctx, tc.d)
			wantField(t, "sync "+tc.field, err, tc.field)
		}
		comps, err := st.Components(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(comps) != 1 {
			t.Errorf("refused changes left components: %+v", comps)
		}
	})
}

// TestChangesAreAudited: every change writes its audit entry, with the
// API's action name, the acting principal and the target.
func TestChangesAreAudited(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx, svc := context.Background(), catalog.New(st)
		want := func(action, target string) {
			t.Helper()
			if n := audited(t, st, action, target); n != 1 {
				t.Errorf("%s of %s: %d audit entries, want 1", action, target, n)
			}
		}
		g, err := svc.CreateGroup(ctx, admin, catalog.GroupChange{Name: ptr("Platform")})
		if err != nil {
			t.Fatal(err)
		}
		want("component_group.create", g.ID)
		api, err := svc.CreateComponent(ctx, admin, catalog.ComponentChange{Name: ptr("API"), Group: ptr("Platform")})
		if err != nil {
			t.Fatal(err)
		}
		want("component.create", api.ID)
		web, err := svc.CreateComponent(ctx, admin, catalog.ComponentChange{Name: ptr("Web"), Group: ptr(g.ID), DependsOn: &[]string{"API"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(web.DependsOn) != 1 || web.DependsOn[0] != api.ID {
			t.Errorf("web depends on %v, want [%s]", web.DependsOn, api.ID)
		}
		if web, err = svc.UpdateComponent(ctx, admin, "Web", catalog.ComponentChange{Description: ptr("The site")}); err != nil || web.Description != "The site" {
			t.Fatalf("update: %+v, %v", web, err)
		}
		want("component.update", web.ID)
		if _, err := svc.MoveComponent(ctx, admin, web.ID, "up"); err != nil {
			t.Fatal(err)
		}
		if n := audited(t, st, "component.update", web.ID); n != 2 {
			t.Errorf("after a move: %d component.update entries, want 2", n)
		}
		if _, err := svc.UpdateGroup(ctx, admin, g.ID, catalog.GroupChange{Description: ptr("What customers use")}); err != nil {
			t.Fatal(err)
		}
		want("component_group.update", g.ID)

		src, token, err := svc.CreateSource(ctx, admin, catalog.SourceChange{Name: ptr("prom"), Kind: ptr("alertmanager")})
		if err != nil || token == "" {
			t.Fatalf("create source: %v (token %q)", err, token)
		}
		want("source.create", src.ID)
		if _, err := svc.UpdateSource(ctx, admin, "prom", catalog.SourceChange{RateLimit: ptr(5.0)}); err != nil {
			t.Fatal(err)
		}
		want("source.update", src.ID)
		if _, token2, err := svc.RotateSourceToken(ctx, admin, src.ID); err != nil || token2 == token {
			t.Fatalf("rotate: %v", err)
		}
		want("source.rotate_token", src.ID)

		r, err := svc.CreateRule(ctx, admin, catalog.RuleChange{Components: &[]string{"API", "Web", "API"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.ComponentIDs) != 2 {
			t.Errorf("rule components %v, want API and Web once each", r.ComponentIDs)
		}
		want("rule.create", r.ID)
		if _, err := svc.UpdateRule(ctx, admin, r.ID, catalog.RuleChange{Name: ptr("api and web")}); err != nil {
			t.Fatal(err)
		}
		want("rule.update", r.ID)
		if _, err := svc.DeleteRule(ctx, admin, r.ID); err != nil {
			t.Fatal(err)
		}
		want("rule.delete", r.ID)

		if _, err := svc.DeleteSource(ctx, admin, "prom"); err != nil {
			t.Fatal(err)
		}
		want("source.delete", src.ID)
		if _, err := svc.DeleteComponent(ctx, admin, "Web"); err != nil {
			t.Fatal(err)
		}
		want("component.delete", web.ID)
		if _, err := svc.DeleteGroup(ctx, admin, "Platform"); err != nil {
			t.Fatal(err)
		}
		want("component_group.delete", g.ID)
	})
}

// TestChangeAndAuditCommitTogether: a change whose audit entry cannot be
// written does not happen, and a change that fails writes no entry.
func TestChangeAndAuditCommitTogether(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx, svc := context.Background(), catalog.New(st)
		api, err := svc.CreateComponent(ctx, admin, catalog.ComponentChange{Name: ptr("API")})
		if err != nil {
			t.Fatal(err)
		}
		src, _, err := svc.CreateSource(ctx, admin, catalog.SourceChange{Name: ptr("prom"), Kind: ptr("generic")})
		if err != nil {
			t.Fatal(err)
		}

		// The audit log goes away: every write succeeds, then its audit
		// entry fails, and the transaction takes the write back with it.
		storetest.Exec(t, st, `ALTER TABLE audit_log RENAME TO audit_log_away`)
		if _, err := svc.CreateComponent(ctx, admin, catalog.ComponentChange{Name: ptr("Web")}); err == nil {
			t.Error("create component: no error without an audit log")
		}
		if _, err := svc.UpdateComponent(ctx, admin, "API", catalog.ComponentChange{Description: ptr("changed")}); err == nil {
			t.Error("update component: no error without an audit log")
		}
		if _, err := svc.DeleteComponent(ctx, admin, api.ID); err == nil {
			t.Error("delete component: no error without an audit log")
		}
		if _, err := svc.CreateGroup(ctx, admin, catalog.GroupChange{Name: ptr("Platform")}); err == nil {
			t.Error("create group: no error without an audit log")
		}
		if _, _, err := svc.RotateSourceToken(ctx, admin, src.ID); err == nil {
			t.Error("rotate: no error without an audit log")
		}
		if _, err := svc.CreateRule(ctx, admin, catalog.RuleChange{Components: &[]string{"API"}}); err == nil {
			t.Error("create rule: no error without an audit log")
		}
		storetest.Exec(t, st, `ALTER TABLE audit_log_away RENAME TO audit_log`)

		if n := storetest.MustCount(t, st, `SELECT COUNT(*) FROM components WHERE name = 'Web'`); n != 0 {
			t.Error("the unaudited component was created")
		}
		if got, err := st.Component(ctx, api.ID); err != nil || got.Description != "" {
			t.Errorf("the unaudited update or delete happened: %+v, %v", got, err)
		}
		if n := storetest.MustCount(t, st, `SELECT COUNT(*) FROM component_groups`); n != 0 {
			t.Error("the unaudited group was created")
		}
		if got, err := st.Source(ctx, src.ID); err != nil || got.TokenHash != src.TokenHash {
			t.Errorf("the unaudited rotation happened: %v", err)
		}
		if n := storetest.MustCount(t, st, `SELECT COUNT(*) FROM rules`); n != 0 {
			t.Error("the unaudited rule was created")
		}

		// A write that fails (a taken name) leaves no audit entry.
		before := storetest.MustCount(t, st, `SELECT COUNT(*) FROM audit_log`)
		if _, err := svc.CreateComponent(ctx, admin, catalog.ComponentChange{Name: ptr("API")}); gateway.ErrorCode(err) != gateway.ECONFLICT {
			t.Errorf("a second API: %v, want conflict", err)
		}
		// A refused graph (a self-dependency) writes nothing either.
		if _, err := svc.UpdateComponent(ctx, admin, "API", catalog.ComponentChange{DependsOn: &[]string{"API"}}); err == nil {
			t.Error("a self-dependency was accepted")
		}
		if after := storetest.MustCount(t, st, `SELECT COUNT(*) FROM audit_log`); after != before {
			t.Errorf("failed writes left %d audit entries", after-before)
		}
	})
}

// TestProbeSourceIsHeraldsOwn: no one creates, changes, rotates or deletes
// the probes' source, the config file included.
func TestProbeSourceIsHeraldsOwn(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		ctx, svc := context.Background(), catalog.New(st)
		probe, err := st.ProbeSource(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wantConflict := func(what string, err error) {
			t.Helper()
			if gateway.ErrorCode(err) != gateway.ECONFLICT || !strings.Contains(err.Error(), "built-in probes") {
				t.Errorf("%s: %v, want conflict", what, err)
			}
		}
		_, _, err = svc.CreateSource(ctx, admin, catalog.SourceChange{Name: ptr("probe"), Kind: ptr("generic")})
		wantConflict("create", err)
		_, err = svc.UpdateSource(ctx, admin, probe.ID, catalog.SourceChange{Kind: ptr("generic")})
		wantConflict("update", err)
		_, _, err = svc.RotateSourceToken(ctx, admin, probe.ID)
		wantConflict("rotate", err)
		_, err = svc.DeleteSource(ctx, admin, probe.ID)
		wantConflict("delete", err)
		_, err = svc.SyncConfig(ctx, store.Declaration{Sources: []store.DeclaredSource{
			{Name: "probe", Kind: "generic", Token: "probe-token-0123456789"}}})
		wantConflict("sync", err)
		after, err := st.Source(ctx, probe.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.TokenHash != probe.TokenHash || after.Kind != probe.Kind || after.Origin != probe.Origin {
			t.Errorf("the probe source changed: %+v → %+v", probe, after)
		}
		if n := storetest.MustCount(t, st, `SELECT COUNT(*) FROM audit_log`); n != 0 {
			t.Errorf("%d audit entries for refused changes", n)
		}
	})
}
