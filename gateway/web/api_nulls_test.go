package web_test

import (
	"fmt"
	"testing"

	"github.com/heraldstatus/herald/gateway/notify/webhook/webhooktest"
	"github.com/heraldstatus/herald/gateway/store"
	"github.com/heraldstatus/herald/gateway/store/storetest"
)

// find returns the first object of list whose key k equals v.
func find(t *testing.T, list any, k string, v any) map[string]any {
	t.Helper()
	for _, e := range list.([]any) {
		if m, ok := e.(map[string]any); ok && m[k] == v {
			return m
		}
	}
	t.Fatalf("no element with %s = %v in %v", k, v, list)
	return nil
}

// TestStatuspageAPIEmptyValuesAndPositions compares, case by case, the
// JSON type Herald sends where Statuspage's captured bodies show the same
// situation: a component without a description (null, not ""), an
// update that changed no component (affected_components null, not []),
// one that did (an array), and positions, which Statuspage counts from 1.
// The shape test allows null anywhere; clients that test for null, or
// sort by position expecting 1 first, need exactly this.
func TestStatuspageAPIEmptyValuesAndPositions(t *testing.T) {
	sum := sample(t, "statuspage-summary.json")
	incs := sample(t, "statuspage-incidents.json")
	hook := sample(t, "statuspage-webhook-incident.json")
	captured := struct{ noDescription, description, noChange, change any }{
		noDescription: find(t, sum["components"], "name", "South Korea")["description"],
		description:   incs["incidents"].([]any)[0].(map[string]any)["components"].([]any)[0].(map[string]any)["description"],
		noChange:      find(t, hook["incident"].(map[string]any)["incident_updates"], "status", "identified")["affected_components"],
		change:        find(t, hook["incident"].(map[string]any)["incident_updates"], "status", "investigating")["affected_components"],
	}
	var minPosition float64 = -1
	for _, list := range []any{sum["components"], incs["incidents"].([]any)[0].(map[string]any)["components"]} {
		for _, c := range list.([]any) {
			if p := c.(map[string]any)["position"].(float64); minPosition < 0 || p < minPosition {
				minPosition = p
			}
		}
	}
	if minPosition < 1 {
		t.Fatalf("the captures have a position %v; they were read wrong", minPosition)
	}

	storetest.Run(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		inc := e.seedOutage() // its last update changes no component
		got := readJSON(t, []byte(e.mustGet("/api/v2/summary.json")))
		updates := find(t, readJSON(t, []byte(e.mustGet("/api/v2/incidents.json")))["incidents"], "id", inc.ID)["incident_updates"].([]any)
		for _, c := range []struct {
			what           string
			captured, sent any
		}{
			{"description of a component that has none", captured.noDescription, find(t, got["components"], "name", "Space Module")["description"]},
			{"description of a group that has none", captured.noDescription, find(t, got["components"], "name", "Apps")["description"]},
			{"description of a component that has one", captured.description, find(t, got["components"], "name", "Hummingbird App")["description"]},
			{"affected_components of an update that changed no component", captured.noChange, updates[0].(map[string]any)["affected_components"]},
			{"affected_components of an update that changed components", captured.change, updates[len(updates)-1].(map[string]any)["affected_components"]},
		} {
			if g, w := webhooktest.JSONType(c.sent), webhooktest.JSONType(c.captured); g != w {
				t.Errorf("%s: sent %s (%v), Statuspage sends %s", c.what, g, c.sent, w)
			}
		}

		// Positions count from 1 among the groups and within each group.
		first := map[string]float64{} // group id ("" for groups) → smallest position
		for _, c := range got["components"].([]any) {
			c := c.(map[string]any)
			gid, _ := c["group_id"].(string)
			p := c["position"].(float64)
			if f, ok := first[gid]; !ok || p < f {
				first[gid] = p
			}
		}
		for gid, p := range first {
			if p != 1 {
				t.Errorf("positions in %s start at %v, want 1 as Statuspage's", groupName(gid), p)
			}
		}
		if len(first) != 3 {
			t.Errorf("positions seen in %d groups, want the top level and two groups", len(first))
		}
	})
}

func groupName(id string) string {
	if id == "" {
		return "the top level"
	}
	return fmt.Sprintf("group %s", id)
}
