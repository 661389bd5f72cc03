package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

func TestComponentsScreen(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e := newTestEnv(t, d)
			ctx := context.Background()
			viewer, support, admin := e.signIn(gateway.RoleViewer), e.signIn(gateway.RoleSupport), e.signIn(gateway.RoleAdmin)
			const list = "/console/components"

			// order is the names of group's components (id or "") in page order.
			order := func(group string) []string {
				t.Helper()
				cs, err := e.st.Components(ctx)
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, c := range siblings(cs, group) {
					names = append(names, c.Name)
				}
				return names
			}

			res := admin.submit(list, "/console/components/groups", url.Values{"name": {"Platform"}, "description": {"What customers use"}})
			res.wantStatus(t, http.StatusOK)
			res.wantContains(t, "Group Platform created.")
			e.wantAudit(t, "component_group.create", admin.name)
			g, err := e.st.ComponentGroup(ctx, "Platform")
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"API", "Web", "Search"} {
				admin.submit(list, list, url.Values{"name": {name}, "group": {g.ID}}).wantStatus(t, http.StatusOK)
			}
			admin.submit(list, list, url.Values{"name": {"Billing"}}).wantStatus(t, http.StatusOK)
			e.wantAudit(t, "component.create", admin.name)
			if got := order(g.ID); !slices.Equal(got, []string{"API", "Web", "Search"}) {
				t.Fatalf("order %v", got)
			}

			t.Run("viewers see, without controls", func(t *testing.T) {
				res := viewer.get(list)
				res.wantStatus(t, http.StatusOK)
				for _, w := range []string{"Platform", "API", "Billing", "operational", "Not in a group"} {
					res.wantContains(t, w)
				}
				for _, absent := range []string{`/move"`, `/status"`, "New component"} {
					if strings.Contains(res.body, absent) {
						t.Errorf("a viewer's page has %s", absent)
					}
				}
				api, err := e.st.Component(ctx, "API")
				if err != nil {
					t.Fatal(err)
				}
				viewer.submit(list, list, url.Values{"name": {"Sneaky"}}).wantStatus(t, http.StatusForbidden)
				viewer.submit(list, "/console/components/"+api.ID+"/status", url.Values{"status": {"major_outage"}}).wantStatus(t, http.StatusForbidden)
				support.submit(list, "/console/components/"+api.ID+"/delete", nil).wantStatus(t, http.StatusForbidden)
				support.get("/console/components/"+api.ID).wantStatus(t, http.StatusForbidden)
				if _, err := e.st.Component(ctx, "Sneaky"); gateway.ErrorCode(err) != gateway.ENOTFOUND {
					t.Errorf("a viewer created a component: %v", err)
				}
			})

			t.Run("order with up and down", func(t *testing.T) {
				search, err := e.st.Component(ctx, "Search")
				if err != nil {
					t.Fatal(err)
				}
				for _, step := range []struct {
					dir  string
					want []string
				}{
					{"up", []string{"API", "Search", "Web"}},
					{"up", []string{"Search", "API", "Web"}},
					{"up", []string{"Search", "API", "Web"}}, // first already
					{"down", []string{"API", "Search", "Web"}},
				} {
					res := admin.submit(list, "/console/components/"+search.ID+"/move", url.Values{"dir": {step.dir}})
					res.wantStatus(t, http.StatusOK)
					if got := order(g.ID); !slices.Equal(got, step.want) {
						t.Fatalf("after %s: %v, want %v", step.dir, got, step.want)
					}
				}
				admin.submit(list, "/console/components/"+search.ID+"/move", url.Values{"dir": {"sideways"}}).wantStatus(t, http.StatusUnprocessableEntity)
				// Groups move too.
				admin.submit(list, "/console/components/groups", url.Values{"name": {"Internal"}}).wantStatus(t, http.StatusOK)
				internal, err := e.st.ComponentGroup(ctx, "Internal")
				if err != nil {
					t.Fatal(err)
				}
				admin.submit(list, "/console/components/groups/"+internal.ID+"/move", url.Values{"dir": {"up"}}).wantStatus(t, http.StatusOK)
				gs, err := e.st.ComponentGroups(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if len(gs) != 2 || gs[0].Name != "Internal" {
					t.Errorf("groups after moving Internal up: %+v", gs)
				}
			})

			t.Run("edit and delete", func(t *testing.T) {
				billing, err := e.st.Component(ctx, "Billing")
				if err != nil {
					t.Fatal(err)
				}
				path := "/console/components/" + billing.ID
				res := admin.submit(path, path, url.Values{"name": {"Billing & Invoices"}, "description": {"<b>money</b>"}, "group": {g.ID}})
				res.wantStatus(t, http.StatusOK)
				res.wantContains(t, "Billing &amp; Invoices")
				res.wantContains(t, "&lt;b&gt;money&lt;/b&gt;")
				if got := order(g.ID); got[len(got)-1] != "Billing & Invoices" {
					t.Errorf("moved into Platform: %v, want it last", got)
				}
				admin.submit(path, path, url.Values{"name": {"  "}}).wantStatus(t, http.StatusUnprocessableEntity)
				e.wantAudit(t, "component.update", admin.name)
				admin.submit(path, path+"/delete", nil).wantStatus(t, http.StatusOK)
				if _, err := e.st.Component(ctx, billing.ID); gateway.ErrorCode(err) != gateway.ENOTFOUND {
					t.Errorf("still there: %v", err)
				}
				e.wantAudit(t, "component.delete", admin.name)

				gpath := "/console/components/groups/" + g.ID
				admin.submit(gpath, gpath, url.Values{"name": {"Product"}}).wantContains(t, "Group Product saved.")
				admin.submit(gpath, gpath+"/delete", nil).wantStatus(t, http.StatusOK)
				if api, err := e.st.Component(ctx, "API"); err != nil {
					t.Fatal(err)
				} else if api == nil || api.GroupID != "" {
					t.Errorf("API after its group was deleted: %+v", api)
				}
				e.wantAudit(t, "component_group.delete", admin.name)
			})

			t.Run("support sets a status by hand", func(t *testing.T) {
				api, err := e.st.Component(ctx, "API")
				if err != nil {
					t.Fatal(err)
				}
				path := "/console/components/" + api.ID + "/status"
				support.post(path, url.Values{"status": {"major_outage"}}).wantStatus(t, http.StatusForbidden) // no token
				res := support.submit(list, path, url.Values{"status": {"major_outage"}})
				res.wantStatus(t, http.StatusOK)
				res.wantContains(t, "Manual status set to major outage.")
				got, err := e.st.Component(ctx, api.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.ManualStatus != gateway.MajorOutage || got.Status != gateway.MajorOutage {
					t.Errorf("after setting: status %s, manual %s", got.Status, got.ManualStatus)
				}
				e.wantAudit(t, "component.status", support.name)
				support.submit(list, path, url.Values{"status": {"on_fire"}}).wantStatus(t, http.StatusUnprocessableEntity)
				support.submit(list, path, url.Values{"status": {""}}).wantContains(t, "alerts decide again")
				if got, err := e.st.Component(ctx, api.ID); err != nil {
					t.Fatal(err)
				} else if got.ManualStatus != "" || got.Status != gateway.Operational {
					t.Errorf("after clearing: status %s, manual %s", got.Status, got.ManualStatus)
				}
			})
		})
	}
}

func TestMove(t *testing.T) {
	for _, tc := range []struct {
		n, i int
		dir  string
		want []int
	}{
		{3, 1, "up", []int{1, 0, 2}},
		{3, 1, "down", []int{0, 2, 1}},
		{3, 0, "up", []int{0, 1, 2}},
		{3, 2, "down", []int{0, 1, 2}},
		{1, 0, "down", []int{0}},
	} {
		got, err := move(tc.n, tc.i, tc.dir)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("move(%d, %d, %s) = %v, %v; want %v", tc.n, tc.i, tc.dir, got, err, tc.want)
		}
	}
	if _, err := move(2, 0, "left"); err == nil {
		t.Error("move left: no error")
	}
}

// TestComponentDependsOnForm: the edit form ticks what a component depends
// on, saves the ticked boxes, and refuses a cycle naming it.
func TestComponentDependsOnForm(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d, func(t *testing.T) {
			e := newTestEnv(t, d)
			admin := e.signIn(gateway.RoleAdmin)
			const list = "/console/components"
			for _, name := range []string{"DNS", "Space Module"} {
				admin.submit(list, list, url.Values{"name": {name}}).wantStatus(t, http.StatusOK)
			}
			dns, space := e.component(t, "DNS"), e.component(t, "Space Module")
			edit := "/console/components/" + space.ID
			admin.get(edit).wantContains(t, `name="depends_on" value="`+dns.ID+`"> DNS`)
			admin.submit(edit, edit, url.Values{"name": {"Space Module"}, "depends_on_shown": {"1"}, "depends_on": {dns.ID}}).wantStatus(t, http.StatusOK)
			got := e.component(t, space.ID)
			if !slices.Equal(got.DependsOn, []string{dns.ID}) {
				t.Fatalf("depends on %v, want [DNS]", got.DependsOn)
			}
			admin.get(edit).wantContains(t, `value="`+dns.ID+`" checked> DNS`)

			dnsEdit := "/console/components/" + dns.ID
			res := admin.submit(dnsEdit, dnsEdit, url.Values{"name": {"DNS"}, "depends_on_shown": {"1"}, "depends_on": {space.ID}})
			res.wantContains(t, "DNS → Space Module → DNS")
			// Unticking every box clears the list.
			admin.submit(edit, edit, url.Values{"name": {"Space Module"}, "depends_on_shown": {"1"}}).wantStatus(t, http.StatusOK)
			if got := e.component(t, space.ID); len(got.DependsOn) != 0 {
				t.Errorf("after unticking: depends on %v", got.DependsOn)
			}
		})
	}
}

// component reads a component by id or name, failing the test when it
// cannot.
func (e *testEnv) component(t *testing.T, idOrName string) *gateway.Component {
	t.Helper()
	c, err := e.st.Component(context.Background(), idOrName)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
