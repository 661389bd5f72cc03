package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

func TestComponentsCRUD(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		g := &gateway.ComponentGroup{Name: "Eptura Workplace Modules", Position: -1}
		must(t, s.CreateComponentGroup(ctx, g))
		space := &gateway.Component{Name: "Space Module", GroupID: g.ID, Position: -1}
		move := &gateway.Component{Name: "Move Module", GroupID: g.ID, Position: -1}
		app := &gateway.Component{Name: "Hummingbird App", Position: -1}
		for _, c := range []*gateway.Component{space, move, app} {
			must(t, s.CreateComponent(ctx, c))
		}
		if space.Position != 0 || move.Position != 1 {
			t.Errorf("positions = %d, %d; want 0, 1 (appended in their group)", space.Position, move.Position)
		}

		got, err := s.Component(ctx, "Move Module")
		must(t, err)
		if got.ID != move.ID || got.GroupID != g.ID || got.Status != gateway.Operational {
			t.Errorf("Component(by name) = %+v, want id %s in group %s, operational", got, move.ID, g.ID)
		}
		byID, err := s.Component(ctx, move.ID)
		must(t, err)
		if byID.Name != "Move Module" || !byID.CreatedAt.Equal(move.CreatedAt) {
			t.Errorf("Component(by id) = %+v, want what was created (%v)", byID, move.CreatedAt)
		}

		dup := &gateway.Component{Name: "Space Module"}
		if err := s.CreateComponent(ctx, dup); gateway.ErrorCode(err) != gateway.ECONFLICT {
			t.Errorf("duplicate name: err = %v, want conflict", err)
		}
		bad := &gateway.Component{Name: "Orphan", GroupID: "nope"}
		if err := s.CreateComponent(ctx, bad); gateway.ErrorCode(err) != gateway.EUNPROCESSABLE {
			t.Errorf("unknown group: err = %v, want unprocessable", err)
		}

		move.Description = "Moves people"
		move.GroupID = ""
		must(t, s.UpdateComponent(ctx, move))
		got, err = s.Component(ctx, move.ID)
		must(t, err)
		if got.Description != "Moves people" || got.GroupID != "" {
			t.Errorf("after update = %+v", got)
		}

		all, err := s.Components(ctx)
		must(t, err)
		if len(all) != 3 {
			t.Fatalf("Components() = %d, want 3", len(all))
		}
		must(t, s.DeleteComponentGroup(ctx, g.ID))
		got, err = s.Component(ctx, space.ID)
		must(t, err)
		if got.GroupID != "" {
			t.Errorf("component of a deleted group has group %q, want none", got.GroupID)
		}
		must(t, s.DeleteComponent(ctx, space.ID))
		if _, err := s.Component(ctx, space.ID); gateway.ErrorCode(err) != gateway.ENOTFOUND {
			t.Errorf("deleted component: err = %v, want not found", err)
		}
		if err := s.DeleteComponent(ctx, space.ID); gateway.ErrorCode(err) != gateway.ENOTFOUND {
			t.Errorf("deleting twice: err = %v, want not found", err)
		}
	})
}

func TestAPIKeys(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		n, err := s.CountAPIKeys(ctx)
		must(t, err)
		if n != 0 {
			t.Fatalf("new database has %d keys", n)
		}
		k, secret, err := s.CreateAPIKey(ctx, "ops", gateway.RoleSupport, "test")
		must(t, err)
		if secret == "" || k.Hash == secret || k.Hash != gateway.HashSecret(secret) {
			t.Fatalf("key stored as %q for secret %q: want only its hash", k.Hash, secret)
		}
		var stored string
		must(t, s.DB().QueryRow("SELECT key_hash FROM api_keys").Scan(&stored))
		if stored == secret {
			t.Fatal("the database holds the plain secret")
		}
		got, err := s.APIKeyBySecret(ctx, secret)
		must(t, err)
		if got.Name != "ops" || got.Role != gateway.RoleSupport {
			t.Errorf("APIKeyBySecret = %+v", got)
		}
		if _, err := s.APIKeyBySecret(ctx, secret+"x"); gateway.ErrorCode(err) != gateway.EUNAUTHORIZED {
			t.Errorf("wrong secret: err = %v, want unauthorized", err)
		}
		if _, _, err := s.CreateAPIKey(ctx, "ops", gateway.RoleViewer, "test"); gateway.ErrorCode(err) != gateway.ECONFLICT {
			t.Errorf("duplicate key name: err = %v, want conflict", err)
		}
		if _, _, err := s.CreateAPIKey(ctx, "x", "root", "test"); gateway.ErrorCode(err) != gateway.EUNPROCESSABLE {
			t.Errorf("bad role: err = %v, want unprocessable", err)
		}
		// Bootstrap is idempotent.
		for range 2 {
			_, err := s.EnsureAPIKey(ctx, "bootstrap", gateway.RoleAdmin, "boot-secret-0123456789")
			must(t, err)
		}
		must(t, s.RevokeAPIKey(ctx, "ops"))
		if _, err := s.APIKeyBySecret(ctx, secret); gateway.ErrorCode(err) != gateway.EUNAUTHORIZED {
			t.Errorf("revoked key: err = %v, want unauthorized", err)
		}
		must(t, s.Audit(ctx, gateway.Principal{Kind: "api_key", Name: "ops"}, "component.create", "component", "c1", map[string]any{"name": "Space"}))
		log, err := s.AuditLog(ctx, store.AuditQuery{}, 10)
		must(t, err)
		if len(log) != 1 || log[0].Actor != "ops" || log[0].Detail["name"] != "Space" {
			t.Errorf("AuditLog = %+v", log)
		}
	})
}

// The audit log's filters are in the query: by actor in any case, by an
// exact action or every action under a prefix ending in ".", and paged
// by id, so a filtered page is as cheap as an unfiltered one.
func TestAuditLogFilters(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for _, e := range []struct{ who, action string }{
			{"Dana", "subscriber.erase"}, {"ops", "component.create"}, {"dana", "subscriber.unsubscribe"},
			{"Dana", "incident.update"}, {"Dana", "subscriberx.other"},
		} {
			must(t, s.Audit(ctx, gateway.Principal{Kind: "user", Name: e.who}, e.action, "t", "1", nil))
		}
		actions := func(q store.AuditQuery, limit int) (out []string) {
			t.Helper()
			log, err := s.AuditLog(ctx, q, limit)
			must(t, err)
			for _, e := range log {
				out = append(out, e.Actor+" "+e.Action)
			}
			return out
		}
		for _, tt := range []struct {
			name string
			q    store.AuditQuery
			want []string
		}{
			{"everything", store.AuditQuery{}, []string{"Dana subscriberx.other", "Dana incident.update", "dana subscriber.unsubscribe", "ops component.create", "Dana subscriber.erase"}},
			{"actor in any case", store.AuditQuery{Actor: "DANA"}, []string{"Dana subscriberx.other", "Dana incident.update", "dana subscriber.unsubscribe", "Dana subscriber.erase"}},
			{"exact action", store.AuditQuery{Action: "subscriber.erase"}, []string{"Dana subscriber.erase"}},
			{"action prefix", store.AuditQuery{Action: "subscriber."}, []string{"dana subscriber.unsubscribe", "Dana subscriber.erase"}},
			{"a prefix without a dot is exact", store.AuditQuery{Action: "subscriber"}, nil},
			{"both", store.AuditQuery{Actor: "ops", Action: "subscriber."}, nil},
		} {
			if got := actions(tt.q, 10); !slices.Equal(got, tt.want) {
				t.Errorf("%s: AuditLog = %q, want %q", tt.name, got, tt.want)
			}
		}
		first, err := s.AuditLog(ctx, store.AuditQuery{Actor: "dana"}, 2)
		must(t, err)
		if got := actions(store.AuditQuery{Actor: "dana", Before: first[1].ID}, 10); !slices.Equal(got, []string{"dana subscriber.unsubscribe", "Dana subscriber.erase"}) {
			t.Errorf("second page = %q", got)
		}
	})
}
