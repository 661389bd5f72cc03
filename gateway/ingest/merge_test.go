package ingest

import (
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

var t0 = time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

func firing(start int) *gateway.Alert {
	return &gateway.Alert{Fingerprint: "fp", Status: gateway.AlertFiring, Severity: gateway.SeverityCritical,
		StartsAt: at(start), Labels: map[string]string{"service": "api"}, Summary: "down"}
}

func resolved(start, end int) *gateway.Alert {
	return &gateway.Alert{Fingerprint: "fp", Status: gateway.AlertResolved, Severity: gateway.SeverityWarning,
		StartsAt: at(start), EndsAt: at(end)}
}

// refreshed is a firing alert as Prometheus re-sends it: its start, and an
// end a few minutes ahead.
func refreshed(start, end int) *gateway.Alert {
	a := firing(start)
	a.EndsAt = at(end)
	return a
}

func record(a *gateway.Alert) *store.AlertRecord {
	r := &store.AlertRecord{Alert: *a}
	r.ID = 7
	return r
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name       string
		cur        *store.AlertRecord
		in         *gateway.Alert
		want       Outcome
		status     gateway.AlertStatus
		start, end time.Time
		changes    int
	}{
		{"new", nil, firing(0), Accepted, gateway.AlertFiring, at(0), time.Time{}, 0},
		{"firing again", record(firing(0)), firing(0), Deduplicated, gateway.AlertFiring, at(0), time.Time{}, 0},
		{"firing again, earlier start kept", record(firing(0)), firing(3), Deduplicated, gateway.AlertFiring, at(0), time.Time{}, 0},
		{"resolve", record(firing(0)), resolved(0, 5), Accepted, gateway.AlertResolved, at(0), at(5), 1},
		{"resolve of an earlier episode", record(firing(10)), resolved(0, 5), Stale, gateway.AlertFiring, at(10), time.Time{}, 0},
		{"late firing after the resolve", record(resolved(0, 5)), firing(0), Stale, gateway.AlertResolved, at(0), at(5), 0},
		{"firing at the resolve's end", record(resolved(0, 5)), firing(5), Stale, gateway.AlertResolved, at(0), at(5), 0},
		{"fires again", record(resolved(0, 5)), firing(8), Accepted, gateway.AlertFiring, at(8), time.Time{}, 1},
		{"refreshed after it expired", record(resolved(0, 5)), refreshed(0, 9), Accepted, gateway.AlertFiring, at(0), at(9), 1},
		{"late refresh before it expired", record(resolved(0, 5)), refreshed(0, 5), Stale, gateway.AlertResolved, at(0), at(5), 0},
		{"resolved again", record(resolved(0, 5)), resolved(0, 5), Deduplicated, gateway.AlertResolved, at(0), at(5), 0},
		{"later resolve wins", record(resolved(0, 5)), resolved(0, 6), Deduplicated, gateway.AlertResolved, at(0), at(6), 0},
		{"older resolve", record(resolved(0, 5)), resolved(0, 4), Stale, gateway.AlertResolved, at(0), at(5), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, out := merge(tt.cur, tt.in, at(20), 30*time.Minute)
			if out != tt.want {
				t.Fatalf("outcome = %v, want %v", out, tt.want)
			}
			if got.Status != tt.status || !got.StartsAt.Equal(tt.start) || !got.EndsAt.Equal(tt.end) || got.StateChanges != tt.changes {
				t.Errorf("merged = %s %v–%v changes %d, want %s %v–%v changes %d",
					got.Status, got.StartsAt, got.EndsAt, got.StateChanges, tt.status, tt.start, tt.end, tt.changes)
			}
			if tt.cur != nil && out != Stale && got.ID != tt.cur.ID {
				t.Errorf("merged id = %d, want the stored %d", got.ID, tt.cur.ID)
			}
		})
	}
}

// A resolve that carries nothing but its key (PagerDuty's) keeps what the
// alert said and where it was routed.
func TestMergeKeepsWhatABareResolveLacks(t *testing.T) {
	cur := record(firing(0))
	cur.Annotations = map[string]string{"runbook": "r"}
	bare := &gateway.Alert{Fingerprint: "fp", Status: gateway.AlertResolved, Severity: gateway.SeverityWarning,
		StartsAt: at(5), EndsAt: at(5), Labels: map[string]string{}, Annotations: map[string]string{"note": "ok"}}
	got, out := merge(cur, bare, at(5), time.Hour)
	if out != Accepted || got.Summary != "down" || got.Severity != gateway.SeverityCritical || got.Labels["service"] != "api" ||
		got.Annotations["runbook"] != "r" || got.Annotations["note"] != "ok" {
		t.Errorf("merged = %+v, want summary, severity and labels kept and annotations merged", got)
	}
	if cur.Annotations["note"] != "" {
		t.Error("merge modified the stored record")
	}
}

// State changes count within the flap window and restart after it.
func TestMergeCountsStateChangesInAWindow(t *testing.T) {
	rec := record(firing(0))
	steps := []struct {
		in   *gateway.Alert
		now  int
		want int
	}{
		{resolved(0, 1), 1, 1}, {firing(2), 2, 2}, {resolved(2, 3), 3, 3},
		{firing(40), 40, 1}, // more than 30 minutes after the window opened at 1
	}
	for _, s := range steps {
		rec, _ = merge(rec, s.in, at(s.now), 30*time.Minute)
		if rec.StateChanges != s.want {
			t.Fatalf("at %d: state changes = %d, want %d", s.now, rec.StateChanges, s.want)
		}
	}
	if !rec.StateChangesSince.Equal(at(40)) {
		t.Errorf("window opened at %v, want %v", rec.StateChangesSince, at(40))
	}
}

func TestRouteFirstMatchWins(t *testing.T) {
	m := func(s string) gateway.Matcher { x, _ := gateway.ParseMatcher(s); return x }
	rules := []gateway.Rule{
		{ID: "space", Matchers: []gateway.Matcher{m("service=~sp.*")}, ComponentIDs: []string{"c-space"},
			SeverityStatus: map[gateway.Severity]gateway.ComponentStatus{gateway.SeverityCritical: gateway.PartialOutage}},
		{ID: "all-space", Matchers: []gateway.Matcher{m("service=space")}, ComponentIDs: []string{"c-other"}},
		{ID: "db", Matchers: []gateway.Matcher{m("service=db"), m("env!=dev")}, ComponentIDs: []string{"c-db1", "c-db2"}},
	}
	tests := []struct {
		labels map[string]string
		rule   string
		comps  int
		status gateway.ComponentStatus
	}{
		{map[string]string{"service": "space"}, "space", 1, gateway.PartialOutage},
		{map[string]string{"service": "db"}, "db", 2, gateway.MajorOutage},
		{map[string]string{"service": "db", "env": "dev"}, "", 0, ""},
		{map[string]string{"service": "aerospace"}, "", 0, ""},
	}
	for _, tt := range tests {
		rec := &store.AlertRecord{Alert: gateway.Alert{Labels: tt.labels, Severity: gateway.SeverityCritical}}
		route(rec, rules)
		if rec.RuleID != tt.rule || len(rec.Components) != tt.comps || tt.comps > 0 && rec.Components[0].Status != tt.status {
			t.Errorf("route(%v) = rule %q components %+v, want %q ×%d %s", tt.labels, rec.RuleID, rec.Components, tt.rule, tt.comps, tt.status)
		}
	}
}
