package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// TestStatusPageShowsDependencies: a component's entry says what it
// depends on, and the page follows a change of the graph at once.
func TestStatusPageShowsDependencies(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		body := e.mustGet("/")
		if want := "Depends on"; strings.Contains(body, want) {
			t.Fatalf("a page without dependencies says %q", want)
		}
		for _, name := range []string{"DNS", "Database"} {
			if err := st.CreateComponent(e.ctx, &gateway.Component{Name: name, Position: -1}); err != nil {
				t.Fatal(err)
			}
		}
		app, _ := st.Component(e.ctx, "Hummingbird App")
		dns, _ := st.Component(e.ctx, "DNS")
		db, _ := st.Component(e.ctx, "Database")
		e.advance(time.Second)
		if err := st.SetDependencies(e.ctx, app.ID, []string{db.ID, dns.ID}); err != nil {
			t.Fatal(err)
		}
		body = e.mustGet("/")
		wantIn(t, "the page", body, `<p class="component-depends">Depends on DNS and Database</p>`)
	})
}
