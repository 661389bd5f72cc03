package web_test

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/incidents"
	"github.com/heraldstatus/herald/gateway/notify/webhook/webhooktest"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// nullable are the fields Statuspage's documentation allows to be null
// although the samples, taken from a resolved incident, show a value
// (affected_components is null on an update that changed no component;
// TestStatuspageAPIEmptyValuesAndPositions checks when each is null).
var nullable = map[string]bool{"monitoring_at": true, "resolved_at": true, "description": true, "group_id": true,
	"start_date": true, "scheduled_for": true, "scheduled_until": true, "affected_components": true}

// shapes compares bodies with bodies from Statuspage.
type shapes struct {
	// seen records every path (indices left out) at which a value of
	// the sample's type was found, so a test can tell that its data
	// exercised every field.
	seen map[string]bool
}

// errors compares got with want: every key want has, got has, with the
// same JSON type; a null in want allows any type, and so does a nullable
// field. Each element of a got array must match some element of the want
// array (components and groups differ). It returns what differs, by path.
func (s *shapes) errors(path, norm string, want, got any) []string {
	if want == nil {
		return nil
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: got %s, want an object", path, webhooktest.JSONType(got))}
		}
		var errs []string
		for k, wv := range w {
			gv, ok := g[k]
			switch {
			case !ok:
				errs = append(errs, fmt.Sprintf("%s.%s: missing", path, k))
			case gv == nil && nullable[k]:
			default:
				errs = append(errs, s.errors(path+"."+k, norm+"."+k, wv, gv)...)
			}
		}
		sort.Strings(errs)
		return errs
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: got %s, want an array", path, webhooktest.JSONType(got))}
		}
		s.seen[norm] = true
		var errs []string
		for i, gv := range g {
			var best []string
			for j, wv := range w {
				e := s.errors(fmt.Sprintf("%s[%d]", path, i), norm+"[]", wv, gv)
				if j == 0 || len(e) < len(best) {
					best = e
				}
			}
			errs = append(errs, best...)
		}
		return errs
	}
	if webhooktest.JSONType(want) != webhooktest.JSONType(got) {
		return []string{fmt.Sprintf("%s: got %s, want %s", path, webhooktest.JSONType(got), webhooktest.JSONType(want))}
	}
	s.seen[norm] = true
	return nil
}

// unseen lists the paths of want's non-null values that no checked body
// had a value at.
func (s *shapes) unseen(norm string, want any) []string {
	var out []string
	switch w := want.(type) {
	case map[string]any:
		for k, v := range w {
			if !nullable[k] { // checked by hand below where it matters
				out = append(out, s.unseen(norm+"."+k, v)...)
			}
		}
		return out
	case []any:
		for _, v := range w {
			out = append(out, s.unseen(norm+"[]", v)...)
		}
	}
	if want != nil && !s.seen[norm] {
		out = append(out, norm)
	}
	return out
}

func readJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return v
}

func sample(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return readJSON(t, b)
}

// vocabulary checks the values Statuspage's clients switch on.
func vocabulary(t *testing.T, path string, v any) {
	t.Helper()
	allowed := map[string][]string{
		"indicator":  {"none", "minor", "major", "critical", "maintenance"},
		"impact":     {"none", "minor", "major", "critical", "maintenance"},
		"old_status": {"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"},
		"new_status": {"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"},
		"status": {"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance",
			"investigating", "identified", "monitoring", "resolved", "postmortem", "scheduled", "in_progress", "verifying", "completed"},
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && allowed[k] != nil && !slices.Contains(allowed[k], s) {
				t.Errorf("%s.%s = %q, not in Statuspage's vocabulary", path, k, s)
			}
			vocabulary(t, path+"."+k, e)
		}
	case []any:
		for i, e := range x {
			vocabulary(t, fmt.Sprintf("%s[%d]", path, i), e)
		}
	}
}

func TestStatuspageAPIHasStatuspagesShape(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		inc := e.seedOutage()
		e.update(inc.ID, gateway.Monitoring, "Desktop systems have returned to a stable state.")
		e.advance(time.Hour)
		e.update(inc.ID, gateway.Resolved, "All systems have returned to a stable state.")
		if _, err := e.svc.Create(e.ctx, support, incidents.NewIncident{Name: "Hummingbird logins", Status: gateway.Investigating,
			Body: "Logins fail.", Components: map[string]gateway.ComponentStatus{"Hummingbird App": gateway.PartialOutage}}); err != nil {
			t.Fatal(err)
		}
		now := e.clock()
		for _, m := range []incidents.NewMaintenance{
			{Name: "Database upgrade", Body: "Upgrade.", Components: []string{"Mail Module"}, ScheduledFor: now.Add(time.Hour), ScheduledUntil: now.Add(2 * time.Hour)},
			{Name: "Network work", Body: "Work.", Components: []string{"Copy Module"}, ScheduledFor: now.Add(-time.Hour), ScheduledUntil: now.Add(time.Hour)},
		} {
			mt, err := e.svc.Schedule(e.ctx, support, m)
			if err != nil {
				t.Fatal(err)
			}
			if m.Name == "Network work" {
				e.update(mt.ID, gateway.MaintenanceInProgress, "Started.")
			}
		}

		incShape := sample(t, "statuspage-incidents.json")
		sumShape := sample(t, "statuspage-summary.json")
		oneIncident := incShape["incidents"].([]any)[0]
		maintShape := map[string]any{"scheduled_for": "", "scheduled_until": ""}
		for k, v := range oneIncident.(map[string]any) {
			maintShape[k] = v
		}
		tests := []struct {
			path  string
			keys  []string
			shape map[string]any
			count map[string]int
		}{
			{"/api/v2/summary.json", []string{"page", "components", "incidents", "scheduled_maintenances", "status"},
				map[string]any{"page": sumShape["page"], "components": sumShape["components"], "status": sumShape["status"],
					"incidents": []any{oneIncident}, "scheduled_maintenances": []any{maintShape}},
				map[string]int{"components": 13, "incidents": 1, "scheduled_maintenances": 2}},
			{"/api/v2/status.json", []string{"page", "status"}, map[string]any{"page": sumShape["page"], "status": sumShape["status"]}, nil},
			{"/api/v2/components.json", []string{"page", "components"},
				map[string]any{"page": sumShape["page"], "components": sumShape["components"]}, map[string]int{"components": 13}},
			{"/api/v2/incidents.json", []string{"page", "incidents"}, incShape, map[string]int{"incidents": 2}},
			{"/api/v2/incidents/unresolved.json", []string{"page", "incidents"}, incShape, map[string]int{"incidents": 1}},
			{"/api/v2/scheduled-maintenances.json", []string{"page", "scheduled_maintenances"},
				map[string]any{"page": sumShape["page"], "scheduled_maintenances": []any{maintShape}}, map[string]int{"scheduled_maintenances": 2}},
			{"/api/v2/scheduled-maintenances/upcoming.json", []string{"page", "scheduled_maintenances"},
				map[string]any{"page": sumShape["page"], "scheduled_maintenances": []any{maintShape}}, map[string]int{"scheduled_maintenances": 1}},
			{"/api/v2/scheduled-maintenances/active.json", []string{"page", "scheduled_maintenances"},
				map[string]any{"page": sumShape["page"], "scheduled_maintenances": []any{maintShape}}, map[string]int{"scheduled_maintenances": 1}},
		}
		sh := &shapes{seen: map[string]bool{}}
		for _, tt := range tests {
			t.Run(strings.TrimPrefix(tt.path, "/api/v2/"), func(t *testing.T) {
				res, body := e.get(tt.path)
				if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json; charset=utf-8" ||
					res.Header.Get("Access-Control-Allow-Origin") != "*" {
					t.Fatalf("%d %q CORS %q: %s", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Access-Control-Allow-Origin"), body)
				}
				got := readJSON(t, []byte(body))
				var keys []string
				for k := range got {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				want := slices.Clone(tt.keys)
				sort.Strings(want)
				if !slices.Equal(keys, want) {
					t.Errorf("keys = %v, want %v", keys, want)
				}
				for _, err := range sh.errors("", "", tt.shape, got) {
					t.Error(err)
				}
				for k, n := range tt.count {
					if l, _ := got[k].([]any); len(l) != n {
						t.Errorf("%d %s, want %d", len(l), k, n)
					}
				}
				vocabulary(t, "", got)
			})
		}

		// The data above exercised every field of the samples.
		for _, tt := range tests {
			for _, p := range sh.unseen("", tt.shape) {
				t.Errorf("%s: no body had a value at %s; make the test's data fuller", tt.path, p)
			}
		}

		sum := readJSON(t, []byte(e.mustGet("/api/v2/summary.json")))
		if s := sum["status"].(map[string]any); s["indicator"] != "major" || s["description"] != "Partial System Outage" {
			t.Errorf("status = %v, want major / Partial System Outage (a partial outage)", s)
		}
		page := sum["page"].(map[string]any)
		if page["name"] != "Eptura Workplace" || page["url"] != "https://status.example.com" || page["time_zone"] != "Etc/UTC" {
			t.Errorf("page = %v", page)
		}
		var group map[string]any
		for _, c := range sum["components"].([]any) {
			if c := c.(map[string]any); c["name"] == "Eptura Workplace Modules" {
				group = c
			}
		}
		if group == nil || group["group"] != true || len(group["components"].([]any)) != 10 || group["group_id"] != nil {
			t.Errorf("the group = %v, want group true, ten member ids, no group_id", group)
		}
		resolved := readJSON(t, []byte(e.mustGet("/api/v2/incidents.json")))["incidents"].([]any)[1].(map[string]any)
		if resolved["status"] != "resolved" || resolved["monitoring_at"] == nil || resolved["resolved_at"] == nil ||
			resolved["shortlink"] != "https://status.example.com/incidents/"+inc.ID || len(resolved["components"].([]any)) != 11 {
			t.Errorf("the resolved incident = %v", resolved)
		}
	})
}
