package correlate_test

import (
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/correlate"
)

var t0 = time.Date(2021, 9, 16, 13, 15, 0, 0, time.UTC)

func TestKey(t *testing.T) {
	labels := map[string]string{"alertname": "DNSResolution", "cluster": "prod"}
	tests := []struct {
		name    string
		groupBy []string
		groups  []string
		same    []string // groups for a second alert that must share the key
		other   []string // groups for one that must not
	}{
		{"whole page", nil, []string{"modules"}, []string{"apps"}, nil},
		{"component group", []string{"component_group"}, []string{"modules"}, []string{"modules"}, []string{"apps"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := correlate.Key(tt.groupBy, labels, tt.groups)
			if got := correlate.Key(tt.groupBy, labels, tt.same); got != k {
				t.Errorf("keys differ: %q vs %q", k, got)
			}
			if tt.other != nil && correlate.Key(tt.groupBy, labels, tt.other) == k {
				t.Errorf("different groups share key %q", k)
			}
		})
	}
	a := correlate.Key([]string{"alertname"}, labels, nil)
	b := correlate.Key([]string{"alertname"}, map[string]string{"alertname": "DiskFull"}, nil)
	c := correlate.Key([]string{"alertname"}, map[string]string{"alertname": "DNSResolution", "x": "y"}, nil)
	if a == b || a != c {
		t.Errorf("label keys: %q %q %q", a, b, c)
	}
}

func TestJoinsWithinWindow(t *testing.T) {
	s := correlate.Settings{Window: 30 * time.Minute}
	c := correlate.Candidate{ID: "i1", Key: "page", LastAlertAt: t0}
	tests := []struct {
		key  string
		at   time.Time
		want bool
	}{
		{"page", t0.Add(time.Minute), true},
		{"page", t0.Add(30 * time.Minute), true},
		{"page", t0.Add(31 * time.Minute), false},
		{"other", t0.Add(time.Minute), false},
	}
	for _, tt := range tests {
		if got := s.Joins(c, tt.key, tt.at); got != tt.want {
			t.Errorf("Joins(%s, +%v) = %v, want %v", tt.key, tt.at.Sub(t0), got, tt.want)
		}
	}
}

func TestFlapping(t *testing.T) {
	s := correlate.Settings{FlapChanges: 4, FlapWindow: 30 * time.Minute}
	var f correlate.Flap
	var flapping bool
	for i := 0; i < 5; i++ {
		f, flapping = s.Record(f, t0.Add(time.Duration(i)*time.Minute))
		if want := i == 4; flapping != want {
			t.Fatalf("change %d: flapping = %v, want %v", i+1, flapping, want)
		}
	}
	// After a quiet window, counting starts again.
	f, flapping = s.Record(f, t0.Add(2*time.Hour))
	if flapping || f.Changes != 1 {
		t.Errorf("after a quiet window: %+v flapping=%v", f, flapping)
	}
	if !s.Settled(f, t0.Add(2*time.Hour), t0.Add(2*time.Hour+30*time.Minute)) || s.Settled(f, t0.Add(2*time.Hour), t0.Add(2*time.Hour+time.Minute)) {
		t.Error("Settled does not wait a whole flap window")
	}
}

func TestComponentStatus(t *testing.T) {
	deg, maj := gateway.DegradedPerformance, gateway.MajorOutage
	tests := []struct {
		name        string
		manual      gateway.ComponentStatus
		firing      []gateway.ComponentStatus
		maintenance bool
		want        gateway.ComponentStatus
	}{
		{"nothing firing", "", nil, false, gateway.Operational},
		{"worst alert wins", "", []gateway.ComponentStatus{deg, maj, deg}, false, maj},
		{"manual wins over alerts", gateway.PartialOutage, []gateway.ComponentStatus{maj}, false, gateway.PartialOutage},
		{"manual operational wins", gateway.Operational, []gateway.ComponentStatus{maj}, false, gateway.Operational},
		{"maintenance", "", nil, true, gateway.UnderMaintenance},
		{"an outage shows through maintenance", "", []gateway.ComponentStatus{maj}, true, maj},
	}
	for _, tt := range tests {
		if got := correlate.ComponentStatus(tt.manual, tt.firing, tt.maintenance); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestImpactAndTitle(t *testing.T) {
	if correlate.Impact(gateway.MajorOutage) != gateway.ImpactCritical || correlate.Impact(gateway.DegradedPerformance) != gateway.ImpactMinor ||
		correlate.Impact(gateway.PartialOutage) != gateway.ImpactMajor || correlate.Impact(gateway.Operational) != gateway.ImpactNone {
		t.Error("impact does not follow Statuspage's mapping")
	}
	modules := []string{"Space Module", "Move Module", "Reservation Module", "Service Request Module", "Asset Module",
		"Inventory Module", "Mail Module", "Copy Module", "Visitor Module", "Insights Module"}
	tests := []struct {
		worst gateway.ComponentStatus
		names []string
		want  string
	}{
		{gateway.MajorOutage, modules, "Major outage: Space Module, Move Module and 8 more"},
		{gateway.MajorOutage, append(modules, "Hummingbird App"), "Major outage: Space Module, Move Module and 9 more"},
		{gateway.PartialOutage, modules[:1], "Partial outage: Space Module"},
		{gateway.DegradedPerformance, modules[:3], "Degraded performance: Space Module, Move Module and Reservation Module"},
		{gateway.MajorOutage, nil, "Major outage"},
	}
	for _, tt := range tests {
		if got := correlate.Title(tt.worst, tt.names); got != tt.want {
			t.Errorf("Title = %q, want %q", got, tt.want)
		}
	}
}

func TestNotificationPacing(t *testing.T) {
	s := correlate.Settings{GroupWait: 30 * time.Second, GroupInterval: 5 * time.Minute}
	if got := s.NextNotification(t0, time.Time{}); !got.Equal(t0.Add(30 * time.Second)) {
		t.Errorf("first notification at %v, want after group_wait", got)
	}
	last := t0.Add(time.Minute)
	if got := s.NextNotification(t0, last); !got.Equal(last.Add(5 * time.Minute)) {
		t.Errorf("next notification at %v, want group_interval after the last", got)
	}
	if !(correlate.Settings{MinAlerts: 3}).ShouldOpen(3) || (correlate.Settings{MinAlerts: 3}).ShouldOpen(2) || !(correlate.Settings{}).ShouldOpen(1) {
		t.Error("ShouldOpen ignores min_alerts")
	}
}

// TestWorstInvertsImpact: an automatic incident's impact says which
// status its title escalates from.
func TestWorstInvertsImpact(t *testing.T) {
	for _, st := range []gateway.ComponentStatus{gateway.Operational, gateway.DegradedPerformance, gateway.PartialOutage, gateway.MajorOutage} {
		if got := correlate.Worst(correlate.Impact(st)); got != st {
			t.Errorf("Worst(Impact(%s)) = %s", st, got)
		}
	}
}

// dnsGraph is the seed page with DNS upstream of every module and the
// app, and DNS itself on the network.
func dnsGraph() *correlate.Roots {
	up := map[string][]string{"dns": {"net"}}
	names := map[string]string{"dns": "DNS", "net": "Network"}
	for _, m := range []string{"space", "move", "reservation", "asset", "app"} {
		up[m] = []string{"dns"}
		names[m] = m
	}
	return &correlate.Roots{Up: up, Names: names, Signal: map[string]bool{}, Open: map[string]bool{}, Recent: map[string]bool{}}
}

func TestRootOfAFiringUpstream(t *testing.T) {
	r := dnsGraph()
	if got := r.Of("space"); got != "" {
		t.Errorf("nothing fires: root %q", got)
	}
	r.Signal["dns"] = true
	if got := r.Of("space"); got != "dns" || r.Inferred("dns") {
		t.Errorf("DNS fires: root %q (inferred %v), want dns confirmed", got, r.Inferred("dns"))
	}
	// The top-most upstream with a signal explains the rest.
	r.Signal["net"] = true
	if got := r.Of("space"); got != "net" {
		t.Errorf("the network fires too: root %q, want net", got)
	}
	if got := r.Of("dns"); got != "net" {
		t.Errorf("DNS's own root %q, want net", got)
	}
	// A component's own signal does not make it its own root.
	r = dnsGraph()
	r.Signal["space"] = true
	if got := r.Of("space"); got != "" {
		t.Errorf("the module's own signal: root %q", got)
	}
	// An upstream heading an open incident takes its dependents' alerts
	// even after it recovered.
	r.Open["dns"] = true
	if got := r.Of("move"); got != "dns" || !r.Inferred("dns") {
		t.Errorf("open cause: root %q", got)
	}
}

func TestRootChoiceAmongIndependentUpstreams(t *testing.T) {
	r := &correlate.Roots{Up: map[string][]string{"app": {"b", "a"}}, Names: map[string]string{"a": "Zeta", "b": "Alpha"},
		Signal: map[string]bool{"a": true, "b": true}, Open: map[string]bool{}}
	if got := r.Of("app"); got != "b" {
		t.Errorf("two roots with a signal: %q, want the first by name (Alpha)", got)
	}
	r.Open["a"] = true
	if got := r.Of("app"); got != "a" {
		t.Errorf("one heads an open incident: %q, want it", got)
	}
}

func TestRootInferenceThreshold(t *testing.T) {
	r := dnsGraph()
	r.Recent["space"], r.Recent["move"] = true, true
	if got := r.Of("space"); got != "" {
		t.Errorf("two dependents fire, default min 3: root %q", got)
	}
	r.Recent["app"] = true
	if got := r.Of("space"); got != "dns" || !r.Inferred("dns") {
		t.Errorf("three dependents fire: root %q, want dns inferred", got)
	}
	// The network has the same firing dependents; DNS explains them more
	// closely.
	if got := r.Of("app"); got != "dns" {
		t.Errorf("tie between DNS and the network: %q, want dns", got)
	}
	r.InferMin = 4
	if got := r.Of("space"); got != "" {
		t.Errorf("three of min 4: root %q", got)
	}
	r.InferMin = 1
	r.Recent = map[string]bool{"space": true}
	if got := r.Of("space"); got != "dns" {
		t.Errorf("min 1, one fires: root %q", got)
	}
}

func TestAssignConfirmsWithTheUpstreamsOwnAlert(t *testing.T) {
	r := dnsGraph()
	r.Signal["dns"], r.Signal["space"] = true, true
	got := r.Assign([][]string{{"space"}, {"dns"}, {"net"}})
	if got[0] != "dns" || got[1] != "dns" || got[2] != "" {
		t.Errorf("Assign = %q, want DNS's alert with the alerts it explains, the network's alone", got)
	}
	// Alone, DNS's alert keeps group_by's key, unless DNS heads an open
	// incident.
	if got := r.Assign([][]string{{"dns"}}); got[0] != "" {
		t.Errorf("DNS alone: %q", got)
	}
	r.Open["dns"] = true
	if got := r.Assign([][]string{{"dns"}}); got[0] != "dns" {
		t.Errorf("DNS heads an incident: %q", got)
	}
	if correlate.RootKey("dns") == correlate.Key(nil, nil, nil) {
		t.Error("a root's key is the page's")
	}
	if correlate.RootTitle("DNS", 11) != "DNS: 11 components affected" || correlate.RootTitle("DNS", 1) != "DNS: 1 component affected" {
		t.Errorf("titles %q %q", correlate.RootTitle("DNS", 11), correlate.RootTitle("DNS", 1))
	}
}

// TestRootOfAChain: the app depends on DNS and on the Space Module, which
// fires; the modules point at DNS. The app's alert goes where the Space
// Module's goes: to DNS.
func TestRootOfAChain(t *testing.T) {
	r := dnsGraph()
	r.Up["app"] = []string{"dns", "space"}
	r.Signal["space"] = true
	if got := r.Of("app"); got != "space" {
		t.Errorf("only the Space Module has a signal: %q, want space", got)
	}
	r = dnsGraph()
	r.Up["app"] = []string{"dns", "space"}
	r.Signal["space"] = true
	r.Recent["space"], r.Recent["move"], r.Recent["asset"] = true, true, true
	if got, of := r.Of("app"), r.Of("space"); got != "dns" || of != "dns" {
		t.Errorf("the modules point at DNS: app → %q, space → %q, want dns", got, of)
	}
}

// TestAnOpenCauseIsNotLiftedByItsOwnDependents: DNS heads an incident as
// the inferred cause; the network under it has the same firing
// dependents and does not take them.
func TestAnOpenCauseIsNotLiftedByItsOwnDependents(t *testing.T) {
	r := dnsGraph()
	r.Open["dns"] = true
	r.Recent["space"], r.Recent["move"], r.Recent["asset"] = true, true, true
	if got := r.Of("reservation"); got != "dns" {
		t.Errorf("root %q, want dns", got)
	}
}
