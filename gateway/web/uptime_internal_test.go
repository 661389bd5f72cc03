package web

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

func TestComputeUptime(t *testing.T) {
	now := time.Date(2021, 9, 16, 12, 0, 0, 0, time.UTC)
	today := now.Truncate(day)
	old := gateway.Component{ID: "c", Status: gateway.Operational, CreatedAt: now.Add(-365 * day)}
	change := func(at time.Time, from, to gateway.ComponentStatus) store.StatusChange {
		return store.StatusChange{ComponentID: "c", OldStatus: from, NewStatus: to, ChangedAt: at}
	}
	tests := []struct {
		name     string
		comp     gateway.Component
		changes  []store.StatusChange
		worst    map[int]gateway.ComponentStatus // day index from the end (0 = today)
		down     map[int]time.Duration
		percent  float64
		noDataTo int // days before this index from the start have no data
	}{
		{name: "never a change", comp: old, worst: map[int]gateway.ComponentStatus{0: gateway.Operational, 89: gateway.Operational}, percent: 100},
		{name: "down now, since yesterday 18:00", comp: gateway.Component{ID: "c", Status: gateway.MajorOutage, CreatedAt: old.CreatedAt},
			changes: []store.StatusChange{change(today.Add(-6*time.Hour), gateway.Operational, gateway.MajorOutage)},
			worst:   map[int]gateway.ComponentStatus{0: gateway.MajorOutage, 1: gateway.MajorOutage, 2: gateway.Operational},
			down:    map[int]time.Duration{0: 12 * time.Hour, 1: 6 * time.Hour},
			percent: 100 * (1 - 18.0/(90*24))},
		{name: "the worst of a day wins; maintenance and degraded performance are no downtime", comp: old,
			changes: []store.StatusChange{
				change(today.Add(-20*time.Hour), gateway.Operational, gateway.UnderMaintenance),
				change(today.Add(-18*time.Hour), gateway.UnderMaintenance, gateway.DegradedPerformance),
				change(today.Add(-17*time.Hour), gateway.DegradedPerformance, gateway.Operational),
			},
			worst:   map[int]gateway.ComponentStatus{1: gateway.DegradedPerformance, 0: gateway.Operational},
			down:    map[int]time.Duration{1: 0, 0: 0},
			percent: 100},
		{name: "a partial outage weighs 0.3 of a major one", comp: old,
			changes: []store.StatusChange{
				change(today.Add(-20*time.Hour), gateway.Operational, gateway.PartialOutage),
				change(today.Add(-10*time.Hour), gateway.PartialOutage, gateway.MajorOutage),
				change(today.Add(-9*time.Hour), gateway.MajorOutage, gateway.Operational),
			},
			worst:   map[int]gateway.ComponentStatus{1: gateway.MajorOutage, 0: gateway.Operational},
			down:    map[int]time.Duration{1: 4 * time.Hour},
			percent: 100 * (1 - 4.0/(90*24))},
		{name: "an outage that began in the page's minute: the days before it were up", comp: gateway.Component{ID: "c",
			Status: gateway.MajorOutage, CreatedAt: old.CreatedAt},
			changes: []store.StatusChange{change(now.Add(30*time.Second), gateway.Operational, gateway.MajorOutage)},
			worst:   map[int]gateway.ComponentStatus{0: gateway.Operational, 1: gateway.Operational, 89: gateway.Operational},
			down:    map[int]time.Duration{0: 0, 89: 0},
			percent: 100},
		{name: "minutes old, seconds of trouble: a whole day counts", comp: gateway.Component{ID: "c", Status: gateway.Operational,
			CreatedAt: now.Add(-5 * time.Minute)},
			changes: []store.StatusChange{
				change(now.Add(-2*time.Minute), gateway.Operational, gateway.MajorOutage),
				change(now.Add(-2*time.Minute+40*time.Second), gateway.MajorOutage, gateway.Operational),
			},
			worst:   map[int]gateway.ComponentStatus{0: gateway.MajorOutage, 1: ""},
			down:    map[int]time.Duration{0: 40 * time.Second},
			percent: 100 * (1 - 40.0/86400), noDataTo: 89},
		{name: "created three days ago", comp: gateway.Component{ID: "c", Status: gateway.Operational, CreatedAt: today.Add(-2*day + 6*time.Hour)},
			worst: map[int]gateway.ComponentStatus{3: "", 2: gateway.Operational, 0: gateway.Operational}, percent: 100, noDataTo: 87},
		{name: "other components' changes are ignored", comp: old,
			changes: []store.StatusChange{{ComponentID: "other", OldStatus: gateway.Operational, NewStatus: gateway.MajorOutage, ChangedAt: today}},
			worst:   map[int]gateway.ComponentStatus{0: gateway.Operational}, percent: 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := ComputeUptime(tt.comp, tt.changes, now, UptimeDays)
			if len(u.Days) != UptimeDays || !u.Days[UptimeDays-1].Date.Equal(today) || !u.Days[0].Date.Equal(today.Add(-89*day)) {
				t.Fatalf("%d days from %v to %v", len(u.Days), u.Days[0].Date, u.Days[len(u.Days)-1].Date)
			}
			for i, want := range tt.worst {
				if got := u.Days[UptimeDays-1-i].Worst; got != want {
					t.Errorf("day -%d worst = %q, want %q", i, got, want)
				}
			}
			for i, want := range tt.down {
				if got := u.Days[UptimeDays-1-i].Down; got != want {
					t.Errorf("day -%d down = %v, want %v", i, got, want)
				}
			}
			for i := 0; i < tt.noDataTo; i++ {
				if u.Days[i].Worst != "" || u.Days[i].Observed != 0 {
					t.Errorf("day %d = %+v, want no data", i, u.Days[i])
				}
			}
			if d := u.Percent - tt.percent; d > 1e-9 || d < -1e-9 {
				t.Errorf("uptime = %v%%, want %v%%", u.Percent, tt.percent)
			}
		})
	}
}

func TestWords(t *testing.T) {
	d := Day{Date: time.Date(2021, 9, 16, 0, 0, 0, 0, time.UTC), Worst: gateway.MajorOutage, Major: 7*time.Hour + 13*time.Minute,
		Degraded: 3 * time.Minute}
	if got := d.Tip(); got != "Sep 16, 2021: Major Outage 7 h 13 min, Degraded Performance 3 min" {
		t.Errorf("Tip = %q", got)
	}
	if got := (Day{Date: d.Date}).Tip(); got != "Sep 16, 2021: no data" {
		t.Errorf("Tip of a day without data = %q", got)
	}
	for p, want := range map[float64]string{100: "100.00%", 99.9999: "99.99%", 97.4712: "97.47%"} {
		if got := percent(p); got != want {
			t.Errorf("percent(%v) = %q, want %q", p, got, want)
		}
	}
}

func TestNotModified(t *testing.T) {
	mod := time.Date(2021, 9, 16, 13, 54, 30, 500, time.UTC)
	tests := []struct {
		name    string
		headers map[string]string
		want    bool
	}{
		{"no condition", nil, false},
		{"same ETag", map[string]string{"If-None-Match": `"a"`}, true},
		{"weak and listed", map[string]string{"If-None-Match": `"x", W/"a"`}, true},
		{"star", map[string]string{"If-None-Match": `*`}, true},
		{"the other encoding's", map[string]string{"If-None-Match": `"a-gz"`}, true},
		{"other ETag beats a date", map[string]string{"If-None-Match": `"b"`, "If-Modified-Since": "Thu, 16 Sep 2021 14:00:00 GMT"}, false},
		{"same second", map[string]string{"If-Modified-Since": "Thu, 16 Sep 2021 13:54:30 GMT"}, true},
		{"a second earlier", map[string]string{"If-Modified-Since": "Thu, 16 Sep 2021 13:54:29 GMT"}, false},
		{"not a date", map[string]string{"If-Modified-Since": "yesterday"}, false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		for k, v := range tt.headers {
			r.Header.Set(k, v)
		}
		if got := notModified(r, mod, `"a"`, `"a-gz"`); got != tt.want {
			t.Errorf("%s: notModified = %v, want %v", tt.name, got, tt.want)
		}
	}
}
