package web

import (
	"fmt"
	"time"

	"github.com/heraldstatus/herald/gateway"
	"github.com/heraldstatus/herald/gateway/store"
)

// UptimeDays is how many days the uptime bars show, today included.
const UptimeDays = 90

const day = 24 * time.Hour

// Day is one day of a component's uptime bar.
type Day struct {
	Date time.Time // midnight UTC
	// Worst is the worst status the component had that day (by
	// ComponentStatus.Rank); "" when the day was not observed (before the
	// component existed).
	Worst gateway.ComponentStatus
	// Down is the time not operational that day: degraded, partial or
	// major outage. Maintenance is planned and is not counted.
	Down     time.Duration
	Observed time.Duration
}

// Uptime is a component's history over UptimeDays.
type Uptime struct {
	Days []Day // oldest first, the last is today
	// Percent is the share of the observed time the component was not
	// Down, from 0 to 100; 100 when nothing was observed.
	Percent float64
}

// ComputeUptime rebuilds a component's status over the days ending today
// from its status changes since the first of them (sorted by time; other
// components' changes are ignored). The status before the first change is
// that change's old status; without changes it is the current status.
func ComputeUptime(c gateway.Component, changes []store.StatusChange, now time.Time, days int) Uptime {
	now = now.UTC()
	start := now.Truncate(day).Add(-time.Duration(days-1) * day)
	u := Uptime{Days: make([]Day, days)}
	for i := range u.Days {
		u.Days[i].Date = start.Add(time.Duration(i) * day)
	}
	var mine []store.StatusChange
	for _, ch := range changes {
		if ch.ComponentID == c.ID && ch.ChangedAt.Before(now) {
			mine = append(mine, ch)
		}
	}
	status := c.Status
	if len(mine) > 0 {
		status = mine[0].OldStatus
	}
	from := start
	if c.CreatedAt.After(from) {
		from = c.CreatedAt.UTC()
	}
	for _, ch := range mine {
		u.add(start, from, ch.ChangedAt, status)
		if ch.ChangedAt.After(from) {
			from = ch.ChangedAt
		}
		status = ch.NewStatus
	}
	u.add(start, from, now, status)

	var down, observed time.Duration
	for _, d := range u.Days {
		down += d.Down
		observed += d.Observed
	}
	u.Percent = 100
	if observed > 0 {
		u.Percent = 100 * float64(observed-down) / float64(observed)
	}
	return u
}

// add records status over [from, to), split across the days it spans.
func (u *Uptime) add(start, from, to time.Time, status gateway.ComponentStatus) {
	if from.Before(start) {
		from = start
	}
	for from.Before(to) {
		i := int(from.Sub(start) / day)
		if i >= len(u.Days) {
			return
		}
		end := u.Days[i].Date.Add(day)
		if to.Before(end) {
			end = to
		}
		d := &u.Days[i]
		span := end.Sub(from)
		d.Observed += span
		if status != gateway.Operational && status != gateway.UnderMaintenance {
			d.Down += span
		}
		if d.Worst == "" {
			d.Worst = status
		} else {
			d.Worst = d.Worst.Worse(status)
		}
		from = end
	}
}

// Tip is the day's tooltip: its date, its worst status and its downtime.
func (d Day) Tip() string {
	date := d.Date.Format("Jan 2, 2006")
	switch {
	case d.Worst == "":
		return date + ": no data"
	case d.Down == 0 && d.Worst == gateway.UnderMaintenance:
		return date + ": under maintenance, no downtime"
	case d.Down == 0:
		return date + ": no downtime"
	}
	return fmt.Sprintf("%s: %s, %s not operational", date, statusLabel(d.Worst), duration(d.Down))
}

// duration words a span for people: "2 h 5 min", "40 min", "under a minute".
func duration(d time.Duration) string {
	d = d.Round(time.Minute)
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h == 0 && m == 0:
		return "under a minute"
	case h == 0:
		return fmt.Sprintf("%d min", m)
	case m == 0:
		return fmt.Sprintf("%d h", h)
	}
	return fmt.Sprintf("%d h %d min", h, m)
}

// percent words an uptime share with two decimals, never rounding a
// share under 100 up to "100.00%".
func percent(p float64) string {
	s := fmt.Sprintf("%.2f%%", p)
	if p < 100 && s == "100.00%" {
		return "99.99%"
	}
	return s
}
